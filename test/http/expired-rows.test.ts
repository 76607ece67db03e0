// Requests anyone can make — anonymously, or with a free account — write rows that are useless once
// expired: the reset row of every name asked about (most for names nobody has), verification links,
// challenges (a passkey challenge needs no send, so no send budget bounds it) and pending logins.
// The server prunes them with the audit trail, so such requests cannot grow the tables for ever.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpiredRows } from '../../src/flows/expired-rows.js';
import { bearer, loginForMfaToken, postJson, registerUser, signUp, uniqueUsername } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const count = async (table: 'password_resets' | 'email_verifications' | 'challenges') => Number((await t.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()).count);
const sessions = async (state: 'pending' | 'active') =>
  Number((await t.ctx.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('count')).where('state', '=', state).executeTakeFirstOrThrow()).count);

describe('expired rows', () => {
  it('RC-02: reset rows of names nobody has, verification links, challenges and pending logins are pruned once expired; live ones stay', async () => {
    const user = await signUp(t);
    await registerUser(t, { email: `${uniqueUsername('prune')}@example.com` });
    expect((await postJson(t.app, '/v1/password/forgot', { username: uniqueUsername('nobody') })).statusCode).toBe(202);
    const mfaToken = await loginForMfaToken(t, user);
    const passkey = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.accessToken));
    expect(passkey.statusCode, passkey.body).toBe(201);
    await t.ctx.background.flush();
    for (const table of ['password_resets', 'email_verifications', 'challenges'] as const) expect(await count(table), table).toBeGreaterThan(0);
    const active = await sessions('active');
    expect(await sessions('pending')).toBeGreaterThan(0);

    // Nothing has expired yet: nothing goes.
    expect(Object.values(await pruneExpiredRows(t.ctx)).reduce((sum, value) => sum + value, 0)).toBe(0);
    t.clock.advanceSeconds(25 * 60 * 60);
    const pruned = await pruneExpiredRows(t.ctx);
    expect(pruned.passwordResets).toBeGreaterThan(0);
    expect(pruned.emailVerifications).toBeGreaterThan(0);
    expect(pruned.pendingSessions).toBeGreaterThan(0);
    for (const table of ['password_resets', 'email_verifications', 'challenges'] as const) expect(await count(table), table).toBe(0);
    expect(await sessions('pending')).toBe(0);
    // Signed-in sessions are not this prune's business (they end by their own rules).
    expect(await sessions('active')).toBe(active);
    expect((await postJson(t.app, '/v1/mfa/challenge', { factor_id: user.factorId }, bearer(mfaToken))).statusCode).toBe(401);
  });
});
