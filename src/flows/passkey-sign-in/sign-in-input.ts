// The shape of a passkey sign-in's input, checked before anything is spent — also for the hosted
// pages and library callers, which do not pass through the route's schema. The assertion's
// contents are the ceremony's to judge.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { invalidRequest } from '../shared/errors.js';

const maxCredentialIdLength = 1024;
const maxAcrValuesLength = 256;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function requirePasskeySignInInput(input: unknown): { challengeId: string; credential: AuthenticationResponseJSON; acrValues: string | undefined } {
  if (!isRecord(input)) throw invalidRequest('', 'Send {challenge_id, credential}.');
  const { challenge_id: challengeId, credential, acr_values: acrValues } = input;
  if (typeof challengeId !== 'string' || challengeId.length === 0 || challengeId.length > 64) throw invalidRequest('challenge_id', 'challenge_id must be the id from /v1/passkeys/authenticate/options.');
  if (!isRecord(credential) || typeof credential['id'] !== 'string' || credential['id'].length === 0 || credential['id'].length > maxCredentialIdLength || !/^[A-Za-z0-9_-]+$/.test(credential['id']) || !isRecord(credential['response'])) {
    throw invalidRequest('credential', 'credential must be the passkey\'s authentication response (AuthenticationResponseJSON).');
  }
  if (acrValues !== undefined && (typeof acrValues !== 'string' || acrValues.length > maxAcrValuesLength)) throw invalidRequest('acr_values', 'acr_values must be a space-separated string.');
  return { challengeId, credential: credential as unknown as AuthenticationResponseJSON, acrValues };
}
