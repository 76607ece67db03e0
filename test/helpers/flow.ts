// The steps of the two-factor flow as test helpers, all through the HTTP API (app.inject).
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import type { TestTwofold } from './twofold.js';

export const strongPassword = 'correct horse battery staple';

let userCounter = 0;
export function uniqueUsername(prefix = 'user'): string {
  userCounter += 1;
  return `${prefix}${process.pid}x${userCounter}`;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function postJson(app: FastifyInstance, url: string, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, payload: body as object, headers: { 'content-type': 'application/json', ...headers } });
}

export function getJson(app: FastifyInstance, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers });
}

/** The code an authenticator app shows now (offset in 30 s steps). */
export function totpCode(t: TestTwofold, secret: string, stepOffset = 0): string {
  return generateTotpCode(secret, totpStepAt(t.clock.now()) + stepOffset);
}

export function expectProblem(response: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: `urn:twofold:error:${code}` });
  expect(typeof body['title']).toBe('string');
  expect(typeof body['detail']).toBe('string');
  return body;
}

export interface Registered {
  username: string;
  password: string;
  userId: string;
  factorId: string;
  secret: string;
  mfaToken: string;
  body: Record<string, any>;
}

export async function registerUser(t: TestTwofold, input: { username?: string; password?: string; email?: string; phone?: string } = {}): Promise<Registered> {
  const username = input.username ?? uniqueUsername();
  const password = input.password ?? strongPassword;
  const response = await postJson(t.app, '/v1/register', { username, password, email: input.email, phone: input.phone });
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json();
  return { username: body.user.username, password, userId: body.user.id, factorId: body.totp.factor_id, secret: body.totp.secret, mfaToken: body.mfa_token, body };
}

export interface SignedUp extends Registered {
  accessToken: string;
  refreshToken: string;
  recoveryCodes: string[];
}

/** Register and confirm the TOTP factor: the first complete sign-in. */
export async function signUp(t: TestTwofold, input: { username?: string; password?: string } = {}): Promise<SignedUp> {
  const registered = await registerUser(t, input);
  const response = await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return { ...registered, accessToken: body.access_token, refreshToken: body.refresh_token, recoveryCodes: body.recovery_codes };
}

export async function loginForMfaToken(t: TestTwofold, user: { username: string; password: string }): Promise<string> {
  const response = await postJson(t.app, '/v1/login', { username: user.username, password: user.password });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().mfa_token;
}

/** Login + TOTP, one step after the last code used so the code is fresh. */
export async function signIn(t: TestTwofold, user: { username: string; password: string; secret: string }): Promise<{ accessToken: string; refreshToken: string }> {
  t.clock.advanceSeconds(30);
  const mfaToken = await loginForMfaToken(t, user);
  const response = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(mfaToken));
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}
