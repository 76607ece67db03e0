// Requests anyone can make — anonymously, or with a free account — write rows that are useless once
// expired: the reset row of every name asked about (most for names nobody has), verification links,
// challenges (a passkey challenge needs no send, so no send budget bounds it) and pending logins.
// The background upkeep deletes them, so such requests cannot grow the tables for ever.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginForMfaToken, postJson, registerUser, signUp, uniqueUsername } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const count = async (table: 'password_resets' | 'email_verifications' | 'challenges') => Number((await t.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()).count);
const pendingSessions = async () =>
  Number((await t.ctx.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('count')).where('state', '=', 'pending').executeTakeFirstOrThrow()).count);

describe('expired rows', () => {
  it('RC-02: reset rows of names nobody has, verification links, challenges and pending logins go once expired; live ones stay', async () => {
    const user = await signUp(t);
    await registerUser(t, { email: `${uniqueUsername('prune')}@example.com` });
    expect((await postJson(t.app, '/v1/password/forgot', { username: uniqueUsername('nobody') })).statusCode).toBe(202);
    const mfaToken = await loginForMfaToken(t, user);
    const passkey = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.accessToken));
    expect(passkey.statusCode, passkey.body).toBe(201);
    await t.ctx.background.flush();
    for (const table of ['password_resets', 'email_verifications', 'challenges'] as const) expect(await count(table), table).toBeGreaterThan(0);
    expect(await pendingSessions()).toBeGreaterThan(0);

    // Nothing has expired yet: nothing goes.
    const early = await t.twofold.maintenance.runOnce();
    expect(Object.values(early.expiredRowsDeleted).reduce((sum, value) => sum + value, 0)).toBe(0);
    t.clock.advanceSeconds(25 * 60 * 60);
    const late = await t.twofold.maintenance.runOnce();
    expect(late.expiredRowsDeleted.password_resets).toBeGreaterThan(0);
    expect(late.expiredRowsDeleted.email_verifications).toBeGreaterThan(0);
    for (const table of ['password_resets', 'email_verifications', 'challenges'] as const) expect(await count(table), table).toBe(0);
    // Pending logins whose mfa_token died are ended (and deleted a week after their deadline).
    expect(await pendingSessions()).toBe(0);
    expect((await postJson(t.app, '/v1/mfa/challenge', { factor_id: user.factorId }, bearer(mfaToken))).statusCode).toBe(401);
  });
});
