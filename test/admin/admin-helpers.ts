// Shared by the admin suites: an admin (or support) person signed in with a fresh second factor,
// and calls of the admin API with their token.
import type { LightMyRequestResponse } from 'fastify';
import { grantRoleFromCli, type AdminRole } from '../../src/admin/roles.js';
import { bearer, signUp, type SignedUp } from '../helpers/flow.js';
import type { TestTwofold } from '../helpers/twofold.js';

export async function signUpWithRoles(t: TestTwofold, roles: readonly AdminRole[], input: { username?: string } = {}): Promise<SignedUp> {
  const person = await signUp(t, input);
  for (const role of roles) await grantRoleFromCli(t.ctx, person.userId, role, 'cli:test');
  return person;
}

export function adminCall(t: TestTwofold, token: string, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url,
    headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

/** Every write route of the admin API, with a valid body. */
export function writeRoutes(userId: string): { method: 'POST' | 'DELETE'; url: string; body: Record<string, string> }[] {
  const reason = { reason: 'ticket 4711: the owner asked by phone' };
  return [
    ...['lock', 'unlock', 'end-sessions', 'force-password-reset', 'reset-second-factors', 'cancel-deletion'].map((action) => ({ method: 'POST' as const, url: `/v1/admin/users/${userId}/${action}`, body: reason })),
    { method: 'DELETE', url: `/v1/admin/users/${userId}`, body: reason },
    { method: 'POST', url: `/v1/admin/users/${userId}/roles`, body: { ...reason, role: 'support' } },
    { method: 'DELETE', url: `/v1/admin/users/${userId}/roles/support`, body: reason },
  ];
}

/** Strings that must never appear in an admin response: the TOTP seed, recovery codes, the password and its hash. */
export async function secretsOf(t: TestTwofold, person: SignedUp): Promise<string[]> {
  const row = await t.ctx.db.selectFrom('users').select('password_hash').where('id', '=', person.userId).executeTakeFirstOrThrow();
  const factorRows = await t.ctx.db.selectFrom('factors').select('secret_ciphertext').where('user_id', '=', person.userId).execute();
  const codeRows = await t.ctx.db.selectFrom('recovery_codes').select('code_hash').where('user_id', '=', person.userId).execute();
  return [
    person.secret,
    person.password,
    row.password_hash,
    ...person.recoveryCodes,
    ...person.recoveryCodes.map((code) => code.replace(/-/g, '')),
    ...factorRows.flatMap((factor) => (factor.secret_ciphertext === null ? [] : [factor.secret_ciphertext])),
    ...codeRows.map((code) => code.code_hash),
  ];
}
