// The shared revoked-session denylist and its pub/sub feed. A revocation is
// committed in the database, written to the shared store with the lifetime of an access token,
// and announced, so that another instance refuses the session's tokens before any query.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denylistKey } from '../../src/flows/sessions/revoke-sessions.js';
import { bearer, postJson, signUp } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

describe('revoked sessions', () => {
  it('a logout puts the session on the shared denylist for the lifetime of its access tokens', async () => {
    const user = await signUp(t);
    const sessionId = decodeJwt(user.accessToken)['sid'] as string;
    expect(await t.ctx.kv.get(denylistKey(sessionId))).toBeUndefined();
    expect((await postJson(t.app, '/v1/logout', {}, bearer(user.accessToken))).statusCode).toBe(204);
    expect(await t.ctx.kv.get(denylistKey(sessionId))).toBeDefined();
    expect(t.ctx.revokedSessions.has(sessionId, t.clock.now())).toBe(true);
    t.clock.advanceSeconds(600 + 60 + 1);
    expect(t.ctx.revokedSessions.has(sessionId, t.clock.now())).toBe(false);
  });

  it('refresh-token reuse and an admin reset announce their revocations too', async () => {
    const user = await signUp(t);
    const sessionId = decodeJwt(user.accessToken)['sid'] as string;
    await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken });
    t.clock.advanceSeconds(10); // past the reuse grace
    await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken }); // reuse
    expect(await t.ctx.kv.get(denylistKey(sessionId))).toBeDefined();
  });
});
