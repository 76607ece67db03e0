// People are told what happened to their account (MG-04) — by e-mail through the configured
// provider, or to a webhook — and no notice carries a secret.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginForMfaToken, postJson, registerUser, totpCode, uniqueUsername } from '../helpers/flow.js';
import { outboxMessages, verifyAddress } from '../helpers/outbox.js';
import { findFreePort } from '../helpers/process.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

async function signUpWithEmail(t: TestTwofold) {
  const email = `${uniqueUsername('notify')}@example.com`;
  const registered = await registerUser(t, { email });
  await verifyAddress(t, email);
  const confirm = (await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken))).json();
  return { ...registered, email, accessToken: confirm.access_token as string, recoveryCodes: confirm.recovery_codes as string[] };
}

describe('notifications by e-mail (the default)', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold();
  });
  afterAll(async () => t.close());

  const notices = async (email: string) => {
    await t.ctx.background.flush();
    return (await outboxMessages(t, email)).filter((message) => message.purpose === 'notice').map((message) => message.body);
  };

  it('MG-04: a new factor, a used recovery code, a replayed code, a password change and a removed factor each send a notice', async () => {
    const user = await signUpWithEmail(t);
    expect((await notices(user.email)).join('\n')).toContain('A new second factor was added');

    t.clock.advanceSeconds(30);
    const replayCode = totpCode(t, user.secret);
    await postJson(t.app, '/v1/mfa/verify', { code: replayCode }, bearer(await loginForMfaToken(t, user)));
    await postJson(t.app, '/v1/mfa/verify', { code: replayCode }, bearer(await loginForMfaToken(t, user)));
    await postJson(t.app, '/v1/mfa/verify', { recovery_code: user.recoveryCodes[0] }, bearer(await loginForMfaToken(t, user)));
    await postJson(t.app, '/v1/password', { current_password: user.password, new_password: 'a changed passphrase here' }, bearer(user.accessToken));

    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(user.accessToken))).json();
    await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: totpCode(t, enrollment.secret) }, bearer(user.accessToken));
    await t.app.inject({ method: 'DELETE', url: `/v1/factors/${enrollment.factor_id}`, headers: bearer(user.accessToken) });

    const all = (await notices(user.email)).join('\n');
    for (const text of ['already used', 'recovery codes was used', 'password was changed', 'second factor was removed']) expect(all).toContain(text);
    // No secret in any notice.
    for (const secret of [user.secret, user.password, replayCode, ...user.recoveryCodes]) expect(all).not.toContain(secret);
  });

  it('an account without an address gets no e-mail, and nothing fails', async () => {
    const registered = await registerUser(t);
    const confirm = await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
    expect(confirm.statusCode).toBe(200);
    await t.ctx.background.flush();
  });
});

describe('notifications to a webhook', () => {
  let t: TestTwofold;
  let receiver: Server;
  const received: Array<{ body: string; signature: string | undefined }> = [];
  const secret = 'a notification webhook secret';

  beforeAll(async () => {
    const port = await findFreePort();
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ body, signature: request.headers['twofold-signature'] as string | undefined });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    t = await startTestTwofold({ env: { TWOFOLD_NOTIFY: 'webhook', TWOFOLD_NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${port}/notify`, TWOFOLD_NOTIFY_WEBHOOK_SECRET: secret } });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('posts a signed JSON notice the receiver can verify', async () => {
    const registered = await registerUser(t);
    await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
    await t.ctx.background.flush();
    const notice = received.find((entry) => JSON.parse(entry.body).user_id === registered.userId);
    expect(notice).toBeDefined();
    expect(JSON.parse(notice!.body)).toMatchObject({ type: 'factor.activated', username: registered.username });
    const [, timestamp, signature] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(notice!.signature ?? '') ?? [];
    expect(signature).toBe(createHmac('sha256', secret).update(`${timestamp}.${notice!.body}`).digest('hex'));
    expect(notice!.body).not.toContain(registered.secret);
  });
});

describe('RC-02: notices to one address are capped, and say when they pause', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_NOTICES_PER_RECIPIENT: '3', TWOFOLD_METRICS: 'on' } });
  });
  afterAll(async () => t.close());

  it('RC-02: 5 notice-worthy events within an hour → 3 notices, the last saying that notices pause until when; one event, and every event still on the account page', async () => {
    const user = await signUpWithEmail(t); // notice 1: a factor was added
    t.clock.advanceSeconds(30);
    const replayCode = totpCode(t, user.secret);
    expect((await postJson(t.app, '/v1/mfa/verify', { code: replayCode }, bearer(await loginForMfaToken(t, user)))).statusCode).toBe(200);
    const mfaToken = await loginForMfaToken(t, user);
    for (let i = 0; i < 4; i += 1) expect((await postJson(t.app, '/v1/mfa/verify', { code: replayCode }, bearer(mfaToken))).statusCode).toBe(401); // notices 2–5: replays
    await t.ctx.background.flush();
    const notices = (await outboxMessages(t, user.email)).filter((message) => message.purpose === 'notice');
    expect(notices).toHaveLength(3);
    // Sent in the same instant here, so told apart by their text: exactly one says that notices pause.
    const pausing = notices.filter((notice) => /notices pause until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/.test(notice.body));
    expect(pausing).toHaveLength(1);
    expect(pausing[0]!.body).toContain('Someone tried to sign in with a code that was already used');
    expect(t.events.filter((event) => event.type === 'send_budget.exhausted' && event.details?.['scope'] === 'recipient')).toHaveLength(1);
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/twofold_send_budget_refusals_total\{channel="email",scope="recipient"\} 2\n/);
    await t.ctx.auditTrail.flush();
    const replays = await t.ctx.db.selectFrom('security_events').select('id').where('user_id', '=', user.userId).where('type', '=', 'mfa.replay_rejected').execute();
    expect(replays).toHaveLength(4);
    // A new hour, a new allowance.
    t.clock.advanceSeconds(3601);
    const laterCode = totpCode(t, user.secret);
    expect((await postJson(t.app, '/v1/mfa/verify', { code: laterCode }, bearer(await loginForMfaToken(t, user)))).statusCode).toBe(200);
    expect((await postJson(t.app, '/v1/mfa/verify', { code: laterCode }, bearer(await loginForMfaToken(t, user)))).statusCode).toBe(401);
    await t.ctx.background.flush();
    expect((await outboxMessages(t, user.email)).filter((message) => message.purpose === 'notice')).toHaveLength(4);
  });

  it('RC-02: an unverified address gets no notice at all', async () => {
    const email = `${uniqueUsername('unverified')}@example.com`;
    const registered = await registerUser(t, { email });
    expect((await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken))).statusCode).toBe(200);
    await t.ctx.background.flush();
    expect((await outboxMessages(t, email)).map((message) => message.purpose)).toEqual(['email_verification']);
  });
});
