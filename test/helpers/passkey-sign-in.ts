// Passkey sign-in (a passkey alone, no password) as test steps, over any transport: app.inject
// (`injectPost(t)`) or real HTTP to a server process (`httpPost(baseUrl)`). The assertions come
// from the software authenticator (soft-authenticator.ts), which any test can bend.
import { expect } from 'vitest';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { bearer, postJson, strongPassword, uniqueUsername } from './flow.js';
import { call } from './http-client.js';
import { createSoftAuthenticator, type AuthenticationOverrides, type SoftAuthenticator, type SoftAuthenticatorOptions } from './soft-authenticator.js';
import type { TestTwofold } from './twofold.js';

export interface PostResult {
  status: number;
  headers: Record<string, unknown>;
  body: any;
}

/** POST a JSON body (with a bearer token when given). */
export type Post = (path: string, body: unknown, token?: string) => Promise<PostResult>;

export function injectPost(t: TestTwofold): Post {
  return async (path, body, token) => {
    const response = await postJson(t.app, path, body, token === undefined ? {} : bearer(token));
    return { status: response.statusCode, headers: response.headers, body: response.body === '' ? undefined : response.json() };
  };
}

export function httpPost(baseUrl: string): Post {
  return async (path, body, token) => {
    const response = await call(baseUrl, 'POST', path, body, token);
    return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body: response.body };
  };
}

export interface PasskeyAccount {
  username: string;
  password: string;
  userId: string;
  authenticator: SoftAuthenticator;
  credentialId: string;
  passkeyFactorId: string;
  /** The tokens of the sign-up (its first complete sign-in, with the passkey as second factor). */
  accessToken: string;
  refreshToken: string;
}

/**
 * Registers an account whose first factor is a passkey made by a new software authenticator
 * (discoverable, since registration requires a resident key). The authenticator's RP ID and
 * origin default to the test server's (http://twofold.test).
 */
export async function signUpWithPasskey(post: Post, options: SoftAuthenticatorOptions & { username?: string } = {}): Promise<PasskeyAccount> {
  const { username: chosen, ...authenticatorOptions } = options;
  const authenticator = createSoftAuthenticator(authenticatorOptions);
  const username = chosen ?? uniqueUsername('pk');
  const registered = await post('/v1/register', { username, password: strongPassword });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  const mfaToken: string = registered.body.mfa_token;
  const enrollment = await post('/v1/factors', { type: 'webauthn' }, mfaToken);
  expect(enrollment.status, JSON.stringify(enrollment.body)).toBe(201);
  const credential = authenticator.register(enrollment.body.options);
  const confirmed = await post(`/v1/factors/${enrollment.body.factor_id}/verify`, { credential, challenge_id: enrollment.body.challenge_id }, mfaToken);
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
  return {
    username,
    password: strongPassword,
    userId: registered.body.user.id,
    authenticator,
    credentialId: credential.id,
    passkeyFactorId: enrollment.body.factor_id,
    accessToken: confirmed.body.access_token,
    refreshToken: confirmed.body.refresh_token,
  };
}

export interface PasskeySignInChallenge {
  challengeId: string;
  options: any;
}

/** POST /v1/passkeys/authenticate/options. */
export async function passkeySignInOptions(post: Post): Promise<PasskeySignInChallenge> {
  const response = await post('/v1/passkeys/authenticate/options', {});
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return { challengeId: response.body.challenge_id, options: response.body.options };
}

/** POST /v1/passkeys/authenticate with an assertion the caller made. */
export function answerPasskeySignIn(post: Post, challengeId: string, credential: AuthenticationResponseJSON | unknown, acrValues?: string): Promise<PostResult> {
  return post('/v1/passkeys/authenticate', acrValues === undefined ? { challenge_id: challengeId, credential } : { challenge_id: challengeId, credential, acr_values: acrValues });
}

/** The whole passkey sign-in: options, an assertion by the authenticator (bent by `overrides`), the answer. */
export async function signInWithPasskey(post: Post, authenticator: SoftAuthenticator, input: { overrides?: AuthenticationOverrides; acrValues?: string } = {}): Promise<PostResult> {
  const challenge = await passkeySignInOptions(post);
  return answerPasskeySignIn(post, challenge.challengeId, authenticator.authenticate(challenge.options, input.overrides), input.acrValues);
}
