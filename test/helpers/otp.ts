// SMS and e-mail codes through the HTTP API, for the SMS, e-mail and factor-management suites:
// distinct destinations per test (the send throttles are per destination), enrolling a phone or
// an address, and reading the code the way a person would — from the development outbox.
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { bearer, postJson, registerUser, type Registered } from './flow.js';
import { lastSentCode } from './outbox.js';
import type { TestTwofold } from './twofold.js';

let destinationCounter = 0;

/** A valid E.164 number no other test in this process uses. */
export function uniquePhone(): string {
  destinationCounter += 1;
  return `+4915${String(process.pid % 100000).padStart(5, '0')}${String(destinationCounter).padStart(4, '0')}`;
}

/** An address no other test in this process uses. */
export function uniqueEmail(prefix = 'person'): string {
  destinationCounter += 1;
  return `${prefix}${process.pid}x${destinationCounter}@example.com`;
}

/** Six ASCII digits that are not `code`. */
export function wrongCode(code: string, offset = 1): string {
  return String((Number(code) + offset) % 1_000_000).padStart(6, '0');
}

export type DestinationFactor = ({ type: 'sms'; phone: string } | { type: 'email'; email: string }) & { label?: string };

/**
 * POST /v1/factors for a phone or an address. The clock moves one second first, so that the
 * newest outbox message (what lastSentCode reads) is never tied with an earlier one.
 */
export function enrollDestination(t: TestTwofold, token: string, factor: DestinationFactor): Promise<LightMyRequestResponse> {
  t.clock.advanceSeconds(1);
  return postJson(t.app, '/v1/factors', factor, bearer(token));
}

/** POST /v1/mfa/challenge (a send, or a resend), one second after the previous send. */
export function requestCode(t: TestTwofold, token: string, factorId: string): Promise<LightMyRequestResponse> {
  t.clock.advanceSeconds(1);
  return postJson(t.app, '/v1/mfa/challenge', { factor_id: factorId }, bearer(token));
}

export interface OtpSignedUp extends Registered {
  /** The SMS or e-mail factor that completed the sign-up. */
  otpFactorId: string;
  destination: string;
  accessToken: string;
  refreshToken: string;
  recoveryCodes: string[];
}

/** Register, then complete the first sign-in with an SMS factor (instead of the app). */
export async function smsSignUp(t: TestTwofold, phone: string = uniquePhone()): Promise<OtpSignedUp> {
  const registered = await registerUser(t);
  const enroll = await enrollDestination(t, registered.mfaToken, { type: 'sms', phone });
  expect(enroll.statusCode, enroll.body).toBe(201);
  const { factor_id: factorId, challenge_id: challengeId } = enroll.json();
  const code = await lastSentCode(t, phone);
  const confirm = await postJson(t.app, `/v1/factors/${factorId}/verify`, { code, challenge_id: challengeId }, bearer(registered.mfaToken));
  expect(confirm.statusCode, confirm.body).toBe(200);
  const body = confirm.json();
  return { ...registered, otpFactorId: factorId, destination: phone, accessToken: body.access_token, refreshToken: body.refresh_token, recoveryCodes: body.recovery_codes };
}

export interface OtpLogin {
  mfaToken: string;
  challengeId: string;
  code: string;
  login: Record<string, any>;
  challenge: Record<string, any>;
}

/** Password step, then a code sent for the factor: what the person types next. */
export async function startOtpLogin(t: TestTwofold, user: { username: string; password: string }, factorId: string, destination: string): Promise<OtpLogin> {
  const loginResponse = await postJson(t.app, '/v1/login', { username: user.username, password: user.password });
  expect(loginResponse.statusCode, loginResponse.body).toBe(200);
  const login = loginResponse.json();
  const challengeResponse = await requestCode(t, login.mfa_token, factorId);
  expect(challengeResponse.statusCode, challengeResponse.body).toBe(200);
  const challenge = challengeResponse.json();
  return { mfaToken: login.mfa_token, challengeId: challenge.challenge_id, code: await lastSentCode(t, destination), login, challenge };
}

/** A six-digit code as a whole number in a text (not a run of digits inside a longer one). */
export function containsCode(text: string, code: string): boolean {
  return new RegExp(`(?<![0-9])${code}(?![0-9])`).test(text);
}
