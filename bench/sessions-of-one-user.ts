// What one user's many logins cost the server: a user with n signed-in sessions (inserted
// straight into the table, as n logins would leave them) asks for GET /v1/sessions and then signs
// out everywhere (DELETE /v1/sessions). Measured in process through app.inject on SQLite (the
// default), so the time of a request is event-loop time: SQLite answers synchronously.
// - list: milliseconds and bytes of the first GET /v1/sessions (one page, if the route pages);
// - sign-out: milliseconds of DELETE /v1/sessions, and the longest the event loop was held in one
//   stretch meanwhile (a 1 ms ticker's largest gap), which is what /healthz waits behind.
import { generateId } from '../src/core/crypto/random.js';
import { generateTotpCode, totpStepAt } from '../src/core/totp/verify.js';
import type { NewSession } from '../src/store/database.js';
import { startTestTwofold } from '../test/helpers/twofold.js';
import { median } from './statistics.js';

export interface SessionsOfOneUser {
  sessions: number;
  listMs: number;
  listBytes: number;
  listedSessions: number;
  signOutMs: number;
  signOutLongestBlockMs: number;
  sessionsEnded: number;
}

const json = { 'content-type': 'application/json' };

export async function measureSessionsOfOneUser(options: { sessions: number; listRounds: number }): Promise<SessionsOfOneUser> {
  const t = await startTestTwofold({ env: { TWOFOLD_SESSIONS_PER_USER: String(options.sessions + 10) } });
  try {
    const username = `bench${Date.now()}`;
    const password = 'correct horse battery staple';
    const registered = await t.app.inject({ method: 'POST', url: '/v1/register', headers: json, payload: { username, password } });
    const body = registered.json();
    const code = generateTotpCode(body.totp.secret, totpStepAt(t.clock.now()));
    const verified = await t.app.inject({ method: 'POST', url: `/v1/factors/${body.totp.factor_id}/verify`, headers: { ...json, authorization: `Bearer ${body.mfa_token}` }, payload: { code } });
    const accessToken = verified.json().access_token as string;
    const userId = body.user.id as string;
    const now = t.clock.now();
    const rows: NewSession[] = [];
    for (let index = 1; index < options.sessions; index += 1) {
      rows.push({
        id: generateId('ses'),
        user_id: userId,
        state: 'active',
        mfa_jti: null,
        amr: '["pwd","otp","mfa"]',
        acr: 'aal2',
        auth_time: now - index,
        client_id: 'twofold',
        ip: '203.0.113.7',
        user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
        created_at: now - index,
        expires_at: now + 3_600_000,
        last_active_at: now - index,
        revoked_at: null,
        revoke_reason: null,
        credentials_changed_at: null,
      });
    }
    for (let start = 0; start < rows.length; start += 500) await t.ctx.db.insertInto('sessions').values(rows.slice(start, start + 500)).execute();
    const auth = { authorization: `Bearer ${accessToken}` };
    const listTimes: number[] = [];
    let listBytes = 0;
    let listedSessions = 0;
    for (let round = 0; round < options.listRounds; round += 1) {
      const started = performance.now();
      const listed = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: auth });
      listTimes.push(performance.now() - started);
      listBytes = listed.rawPayload.length;
      listedSessions = (listed.json().sessions as unknown[]).length;
    }
    const ticker = startEventLoopTicker();
    const started = performance.now();
    const ended = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: auth });
    const signOutMs = performance.now() - started;
    const signOutLongestBlockMs = ticker.stop();
    if (ended.statusCode !== 200) throw new Error(`sign out everywhere answered ${ended.statusCode}: ${ended.body}`);
    return {
      sessions: options.sessions,
      listMs: median(listTimes),
      listBytes,
      listedSessions,
      signOutMs,
      signOutLongestBlockMs,
      sessionsEnded: ended.json().sessions_ended as number,
    };
  } finally {
    await t.close();
  }
}

/** Largest gap between two turns of a 1 ms timer: the longest the event loop was held at once. */
function startEventLoopTicker(): { stop(): number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const at = performance.now();
    longest = Math.max(longest, at - last);
    last = at;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}
