// Accounts with passkeys, set up through the HTTP API as a person would: sign up with an e-mail
// address (verified, so reset codes and notices reach it) and an authenticator app, then add
// passkeys from the signed-in session with the software authenticator.
import { expect } from 'vitest';
import { bearer, postJson, registerUser, totpCode, uniqueUsername, type Registered } from './flow.js';
import { verifyAddress } from './outbox.js';
import { createSoftAuthenticator, type SoftAuthenticator } from './soft-authenticator.js';
import type { TestTwofold } from './twofold.js';

export interface AppAccount extends Registered {
  email: string;
  accessToken: string;
  refreshToken: string;
  recoveryCodes: string[];
  authenticator: SoftAuthenticator;
}

/** Signed up with a verified address and an authenticator app; a fresh access token (aal2, just now). */
export async function signUpWithEmail(t: TestTwofold): Promise<AppAccount> {
  const email = `${uniqueUsername('mail')}@example.com`;
  const registered = await registerUser(t, { email });
  await verifyAddress(t, email);
  const confirmed = await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  const body = confirmed.json();
  return { ...registered, email, accessToken: body.access_token, refreshToken: body.refresh_token, recoveryCodes: body.recovery_codes, authenticator: createSoftAuthenticator() };
}

/** Adds a passkey with an access token whose second factor is recent; returns the passkey's factor id. */
export async function addPasskey(t: TestTwofold, accessToken: string, authenticator: SoftAuthenticator): Promise<string> {
  const started = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(accessToken));
  expect(started.statusCode, started.body).toBe(201);
  const { factor_id: factorId, challenge_id: challengeId, options } = started.json();
  const confirmed = await postJson(t.app, `/v1/factors/${factorId}/verify`, { challenge_id: challengeId, credential: authenticator.register(options) }, bearer(accessToken));
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  return factorId;
}

/** A new access token of the same session with a new auth_time: the app's next code (step-up). */
export async function stepUpWithApp(t: TestTwofold, user: { secret: string }, accessToken: string): Promise<string> {
  t.clock.advanceSeconds(30);
  const response = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(accessToken));
  expect(response.statusCode, response.body).toBe(200);
  return response.json().access_token;
}

/** The session's access token once its second factor is older than a step-up allows (refreshed, so still valid). */
export async function staleAccessToken(t: TestTwofold, refreshToken: string): Promise<{ accessToken: string; refreshToken: string }> {
  t.clock.advanceSeconds(6 * 60);
  const response = await postJson(t.app, '/v1/token/refresh', { refresh_token: refreshToken });
  expect(response.statusCode, response.body).toBe(200);
  return { accessToken: response.json().access_token, refreshToken: response.json().refresh_token };
}
