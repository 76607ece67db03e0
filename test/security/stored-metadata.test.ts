// Request metadata a client chooses — its User-Agent header, and (from a library caller) the IP it
// passes in — is stored on sessions, remembered browsers and the audit trail, and shown to the
// person (/v1/sessions, the account page) and to operators (`twofold audit`, the log). Control
// characters (C0, DEL, C1 such as the 8-bit CSI) and bidi overrides are replaced before storing,
// so neither a terminal nor a page is told to do anything by them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, getJson, postJson, strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t?.close());

const hostileAgent = 'Mozilla/5.0\u001b]0;pwned\u0007 \u009b31m\u202eexe.txt\u007f';
const replacedAgent = 'Mozilla/5.0\ufffd]0;pwned\ufffd \ufffd31m\ufffdexe.txt\ufffd';

describe('stored request metadata', () => {
  it('LOG-01: a User-Agent with ANSI, C1 and bidi characters is stored with U+FFFD in their place on the session and in the audit trail', async () => {
    const agent = { 'user-agent': hostileAgent };
    const registered = await postJson(t.app, '/v1/register', { username: uniqueUsername('agent'), password: strongPassword }, agent);
    expect(registered.statusCode, registered.body).toBe(201);
    const { totp, mfa_token: mfaToken } = registered.json();
    const confirmed = await postJson(t.app, `/v1/factors/${totp.factor_id}/verify`, { code: totpCode(t, totp.secret) }, { ...bearer(mfaToken), ...agent });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    const accessToken = confirmed.json().access_token as string;

    const sessions = (await getJson(t.app, '/v1/sessions', bearer(accessToken))).json().sessions as Array<{ user_agent: string }>;
    expect(sessions.map((session) => session.user_agent)).toEqual([replacedAgent]);
    await t.twofold.context.auditTrail.flush();
    const events = (await getJson(t.app, '/v1/me/events', bearer(accessToken))).json().events as Array<{ user_agent: string | null }>;
    const agents = events.map((event) => event.user_agent).filter((value) => value !== null);
    expect(agents.length).toBeGreaterThan(0);
    expect(new Set(agents)).toEqual(new Set([replacedAgent]));
  });

  it('a library caller passing a hostile IP and user agent gets them stored replaced, cut to their limits', async () => {
    const { flows } = t.twofold;
    const username = uniqueUsername('libmeta');
    const meta = { ip: `198.51.100.7\u001b[2J${'x'.repeat(100)}`, userAgent: `${hostileAgent}${'y'.repeat(1000)}` };
    const registered = await flows.register({ username, password: strongPassword }, meta);
    await t.twofold.context.auditTrail.flush();
    const session = await t.twofold.database.db.selectFrom('sessions').select(['ip', 'user_agent']).where('user_id', '=', registered.user.id).executeTakeFirstOrThrow();
    expect(session.ip).toBe(`198.51.100.7\ufffd[2J${'x'.repeat(64 - 16)}`);
    expect(session.user_agent).toHaveLength(512);
    expect(session.user_agent?.startsWith(replacedAgent)).toBe(true);
    const events = await t.twofold.database.db.selectFrom('security_events').select(['ip', 'user_agent']).where('user_id', '=', registered.user.id).execute();
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event).toEqual(session);
  });
});
