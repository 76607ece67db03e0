// The SMTP e-mail provider against a real SMTP server (smtp-server) on a free
// local port: the mail arrives with the code in it; a permanent refusal (5xx) is "rejected", a
// temporary one or an unreachable server "unavailable". Then end to end through the HTTP API with
// TWOFOLD_EMAIL_PROVIDER=smtp: enrollment and login with the code read out of the received mail.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, type OutgoingMessage } from '../../src/delivery/message.js';
import { smtpRequiresTls } from '../../src/delivery/senders.js';
import { createSmtpSender } from '../../src/delivery/smtp.js';
import { bearer, expectProblem, postJson, signUp } from '../helpers/flow.js';
import { enrollDestination, requestCode, uniqueEmail } from '../helpers/otp.js';
import { outboxMessages } from '../helpers/outbox.js';
import { codeIn, startFakeSmtp, type FakeSmtp } from '../helpers/providers.js';
import { findFreePort } from '../helpers/process.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const from = 'Twofold <no-reply@twofold.test>';

let smtp: FakeSmtp;
const senders: Array<{ close(): void }> = [];
beforeAll(async () => {
  smtp = await startFakeSmtp();
});
afterAll(async () => {
  for (const sender of senders) sender.close();
  await smtp?.close();
});

function smtpSender(url = smtp.url, timeoutMs = 2000) {
  const sender = createSmtpSender({ url, from, timeoutMs });
  senders.push(sender);
  return sender;
}

function mailTo(to: string, code = '042042'): OutgoingMessage {
  return {
    channel: 'email',
    to,
    subject: `Twofold code: ${code}`,
    text: `Your Twofold code to sign in is ${code}. It expires in 5 minutes. Never share it.\n\n@twofold.test #${code}`,
    purpose: 'login',
    expiresAt: Date.now() + 300_000,
  };
}

const mailsTo = (address: string) => smtp.mails.filter((mail) => mail.rcptTo.includes(address));

async function deliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

describe('createSmtpSender()', () => {
  it('OB-01: with requireTls, a server that does not offer STARTTLS (as when someone on the path strips it) gets nothing', async () => {
    const to = uniqueEmail();
    const sender = createSmtpSender({ url: smtp.url, from, timeoutMs: 2000, requireTls: true });
    senders.push(sender);
    await deliveryError(sender.send(mailTo(to, '909090')));
    expect(mailsTo(to)).toHaveLength(0);
  });

  it('OB-01: production requires TLS of SMTP unless the server is on this machine', () => {
    const smtpAt = (mode: 'production' | 'development', url: string) => ({ mode, email: { provider: 'smtp' as const, url, from, timeoutMs: 1000 } });
    expect(smtpRequiresTls(smtpAt('production', 'smtp://mail.example.com:587'))).toBe(true);
    expect(smtpRequiresTls(smtpAt('production', 'smtp://10.0.0.25'))).toBe(true);
    expect(smtpRequiresTls(smtpAt('production', 'smtp://127.0.0.1:25'))).toBe(false);
    expect(smtpRequiresTls(smtpAt('production', 'smtp://localhost:25'))).toBe(false);
    expect(smtpRequiresTls(smtpAt('development', 'smtp://mail.example.com:587'))).toBe(false);
  });

  it('delivers the message: envelope, From, To, Subject and the text with the code', async () => {
    const to = uniqueEmail();
    await smtpSender().send(mailTo(to, '007007'));
    const [mail] = mailsTo(to);
    expect(mailsTo(to)).toHaveLength(1);
    expect(mail!.mailFrom).toBe('no-reply@twofold.test');
    expect(mail!.rcptTo).toEqual([to]);
    expect(mail!.headers['from']).toContain('no-reply@twofold.test');
    expect(mail!.headers['to']).toContain(to);
    expect(mail!.headers['subject']).toBe('Twofold code: 007007');
    expect(mail!.text).toContain('Your Twofold code to sign in is 007007.');
    expect(codeIn(mail!.text)).toBe('007007');
  });

  it('a recipient the server refuses permanently (550 at RCPT TO): rejected', async () => {
    const to = uniqueEmail('nobody');
    smtp.refuse.set(to, 550);
    const error = await deliveryError(smtpSender().send(mailTo(to)));
    expect(error.kind).toBe('rejected');
    expect(error.message).toContain('550');
    expect(mailsTo(to)).toHaveLength(0);
  });

  it('a temporary refusal (451): unavailable', async () => {
    const to = uniqueEmail('later');
    smtp.refuse.set(to, 451);
    const error = await deliveryError(smtpSender().send(mailTo(to)));
    expect(error.kind).toBe('unavailable');
  });

  it('no SMTP server listening: unavailable', async () => {
    const error = await deliveryError(smtpSender(`smtp://127.0.0.1:${await findFreePort()}`, 1000).send(mailTo(uniqueEmail())));
    expect(error.kind).toBe('unavailable');
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: TWOFOLD_FACTORS with email, TWOFOLD_EMAIL_PROVIDER=smtp.

describe('through the HTTP API with TWOFOLD_EMAIL_PROVIDER=smtp', () => {
  let t: TestTwofold;
  let unreachable: TestTwofold;
  beforeAll(async () => {
    const env = {
      TWOFOLD_FACTORS: 'totp,sms,email,webauthn,recovery',
      TWOFOLD_EMAIL_PROVIDER: 'smtp',
      TWOFOLD_EMAIL_FROM: from,
      TWOFOLD_DELIVERY_TIMEOUT_MS: '2000',
    };
    [t, unreachable] = await Promise.all([
      startTestTwofold({ env: { ...env, TWOFOLD_SMTP_URL: smtp.url } }),
      startTestTwofold({ env: { ...env, TWOFOLD_SMTP_URL: `smtp://127.0.0.1:${await findFreePort()}` } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([t?.close(), unreachable?.close()]);
  });

  const pendingFactorOf = (instance: TestTwofold, userId: string) =>
    instance.ctx.db.selectFrom('factors').select('id').where('user_id', '=', userId).where('type', '=', 'email').where('status', '=', 'pending').executeTakeFirstOrThrow();
  const challengesOf = (instance: TestTwofold, factorId: string) => instance.ctx.db.selectFrom('challenges').selectAll().where('factor_id', '=', factorId).execute();

  it('enrolls an address and signs in with the codes read from the mails received; amr [pwd, email], aal1', async () => {
    const user = await signUp(t);
    const email = uniqueEmail();
    const enroll = await enrollDestination(t, user.accessToken, { type: 'email', email });
    expect(enroll.statusCode, enroll.body).toBe(201);
    const [enrollMail] = mailsTo(email);
    expect(mailsTo(email)).toHaveLength(1);
    expect(enrollMail!.headers['from']).toContain('no-reply@twofold.test');
    expect(enrollMail!.text).toContain('to confirm this address');
    expect(await outboxMessages(t, email)).toHaveLength(0);
    const confirm = await postJson(t.app, `/v1/factors/${enroll.json().factor_id}/verify`, { code: codeIn(enrollMail!.text) }, bearer(user.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);

    t.clock.advanceSeconds(31);
    const login = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json();
    expect(login.factors).toEqual(expect.arrayContaining([expect.objectContaining({ id: enroll.json().factor_id, type: 'email', destination: enroll.json().destination })]));
    const sent = await requestCode(t, login.mfa_token, enroll.json().factor_id);
    expect(sent.statusCode, sent.body).toBe(200);
    const loginMail = mailsTo(email)[1]!;
    expect(loginMail.text).toContain('to sign in');
    const verify = await postJson(t.app, '/v1/mfa/verify', { challenge_id: sent.json().challenge_id, code: codeIn(loginMail.text) }, bearer(login.mfa_token));
    expect(verify.statusCode, verify.body).toBe(200);
    expect(decodeJwt(verify.json().access_token)).toMatchObject({ amr: ['pwd', 'email'], acr: 'aal1' });
  });

  it('an address the SMTP server refuses (550): 502 delivery_failed problem+json, and the challenge is retired', async () => {
    const user = await signUp(t);
    const email = uniqueEmail('refused');
    smtp.refuse.set(email, 550);
    const problem = expectProblem(await enrollDestination(t, user.accessToken, { type: 'email', email }), 502, 'delivery_failed');
    // The SMTP reply stays in the logs: no server, code or reply text for the caller.
    expect(String(problem['detail'])).not.toMatch(/smtp|550|refused/i);
    const factor = await pendingFactorOf(t, user.userId);
    const challenges = await challengesOf(t, factor.id);
    expect(challenges).toHaveLength(1);
    expect(challenges[0]!.superseded_at).not.toBeNull();
    expectProblem(await postJson(t.app, `/v1/factors/${factor.id}/verify`, { code: '000000' }, bearer(user.accessToken)), 401, 'invalid_code');
    expect(t.events.some((event) => event.type === 'challenge.delivery_failed' && event.factorId === factor.id && event.details?.['provider'] === 'smtp')).toBe(true);

    smtp.refuse.delete(email);
    t.clock.advanceSeconds(31);
    expect((await requestCode(t, user.accessToken, factor.id)).statusCode).toBe(200);
    const confirm = await postJson(t.app, `/v1/factors/${factor.id}/verify`, { code: codeIn(mailsTo(email)[0]!.text) }, bearer(user.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
  });

  it('no SMTP server listening: 503 server_busy with Retry-After, and the challenge is retired', async () => {
    const user = await signUp(unreachable);
    const response = await enrollDestination(unreachable, user.accessToken, { type: 'email', email: uniqueEmail() });
    expectProblem(response, 503, 'server_busy');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    const factor = await pendingFactorOf(unreachable, user.userId);
    expect((await challengesOf(unreachable, factor.id)).every((challenge) => challenge.superseded_at !== null)).toBe(true);
  });
});
