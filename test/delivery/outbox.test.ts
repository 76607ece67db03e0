// The development outbox provider (issue 4 point 2): messages are kept in the database (listed
// by `twofold outbox`), printed to the console only in development mode, and never allowed in
// production; and the provider selection of createMessageSenders.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import type { OutgoingMessage } from '../../src/delivery/message.js';
import { createOutboxSender } from '../../src/delivery/outbox.js';
import { createMessageSenders } from '../../src/delivery/senders.js';
import { listOutboxMessages } from '../../src/store/repositories/outbox.js';
import { bearer, postJson, registerUser, signUp } from '../helpers/flow.js';
import { enrollDestination, uniqueEmail, uniquePhone } from '../helpers/otp.js';
import { lastSentCode, outboxMessages } from '../helpers/outbox.js';
import { runCommand } from '../helpers/process.js';
import { testEnvironment, startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_FACTORS: 'totp,sms,email,webauthn,recovery' } });
});
afterAll(async () => t?.close());
afterEach(() => {
  vi.restoreAllMocks();
});

function sms(to: string, code = '042042'): OutgoingMessage {
  return { channel: 'sms', to, text: `Your Twofold code to sign in is ${code}.\n\n@twofold.test #${code}`, purpose: 'login', expiresAt: t.clock.now() + 300_000 };
}

describe('createOutboxSender()', () => {
  it('keeps the message in the database: channel, destination, subject, body, purpose, times', async () => {
    const to = uniquePhone();
    const sender = createOutboxSender(t.ctx.db, t.clock.now, undefined);
    expect(sender.provider).toBe('outbox');
    await sender.send({ ...sms(to), subject: 'Twofold code: 042042' });
    const [row] = await listOutboxMessages(t.ctx.db, { destination: to, limit: 10 });
    expect(row).toMatchObject({
      channel: 'sms',
      destination: to,
      subject: 'Twofold code: 042042',
      body: sms(to).text,
      purpose: 'login',
      created_at: t.clock.now(),
      expires_at: t.clock.now() + 300_000,
    });
    expect(row!.id).toMatch(/^msg_/);
  });

  it('prints one line per message when given a printer (development), with the text on one line', async () => {
    const to = uniquePhone();
    const lines: string[] = [];
    await createOutboxSender(t.ctx.db, t.clock.now, (line) => lines.push(line)).send(sms(to, '314159'));
    expect(lines).toEqual([`[outbox] sms to ${to}: Your Twofold code to sign in is 314159. @twofold.test #314159`]);
  });

  it('lists newest first, by channel and by destination, up to a limit', async () => {
    const phone = uniquePhone();
    const email = uniqueEmail();
    const sender = createOutboxSender(t.ctx.db, t.clock.now, undefined);
    for (const code of ['111111', '222222', '333333']) {
      t.clock.advanceSeconds(1);
      await sender.send(sms(phone, code));
    }
    await sender.send({ channel: 'email', to: email, subject: 'Twofold code: 444444', text: 'Your Twofold code is 444444.', purpose: 'enroll', expiresAt: t.clock.now() + 300_000 });
    const toPhone = await listOutboxMessages(t.ctx.db, { destination: phone, limit: 10 });
    expect(toPhone.map((message) => /\d{6}/.exec(message.body)![0])).toEqual(['333333', '222222', '111111']);
    expect(await listOutboxMessages(t.ctx.db, { destination: phone, limit: 2 })).toHaveLength(2);
    expect((await listOutboxMessages(t.ctx.db, { channel: 'email', destination: email, limit: 10 })).map((message) => message.channel)).toEqual(['email']);
    expect(await listOutboxMessages(t.ctx.db, { channel: 'sms', destination: email, limit: 10 })).toEqual([]);
  });
});

describe('createMessageSenders()', () => {
  const configWith = (env: Record<string, string>) => loadConfig(testEnvironment(t.dataDir, env));

  it('uses the outbox for both channels by default', () => {
    const senders = createMessageSenders(configWith({}), t.ctx.db, t.clock.now);
    expect([senders.sms.provider, senders.email.provider]).toEqual(['outbox', 'outbox']);
    senders.close();
  });

  it('uses the configured providers', () => {
    const senders = createMessageSenders(
      configWith({
        TWOFOLD_SMS_PROVIDER: 'twilio',
        TWOFOLD_TWILIO_ACCOUNT_SID: 'AC0123',
        TWOFOLD_TWILIO_AUTH_TOKEN: 'token',
        TWOFOLD_TWILIO_FROM: '+15005550006',
        TWOFOLD_EMAIL_PROVIDER: 'smtp',
        TWOFOLD_SMTP_URL: 'smtp://127.0.0.1:2525',
      }),
      t.ctx.db,
      t.clock.now,
    );
    expect([senders.sms.provider, senders.email.provider]).toEqual(['twilio', 'smtp']);
    senders.close();
    const webhook = createMessageSenders(
      configWith({ TWOFOLD_SMS_PROVIDER: 'webhook', TWOFOLD_SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms', TWOFOLD_SMS_WEBHOOK_SECRET: 'a-secret-of-16-chars-or-more' }),
      t.ctx.db,
      t.clock.now,
    );
    expect(webhook.sms.provider).toBe('webhook');
    webhook.close();
  });

  it('prints outbox messages to the console in development mode only', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const phone = uniquePhone();
    const quiet = createMessageSenders(configWith({}), t.ctx.db, t.clock.now);
    await quiet.sms.send(sms(phone, '271828'));
    expect(write.mock.calls.some(([chunk]) => String(chunk).includes('271828'))).toBe(false);
    const development = createMessageSenders(configWith({ NODE_ENV: 'development' }), t.ctx.db, t.clock.now);
    await development.sms.send(sms(phone, '161803'));
    expect(write.mock.calls.some(([chunk]) => String(chunk).includes(`[outbox] sms to ${phone}`) && String(chunk).includes('161803'))).toBe(true);
    quiet.close();
    development.close();
  });

  it('production refuses the outbox for SMS and for e-mail codes', () => {
    const production = {
      NODE_ENV: 'production',
      TWOFOLD_PUBLIC_URL: 'https://auth.example.com',
      TWOFOLD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      TWOFOLD_ARGON2_MEMORY_KIB: '19456',
      TWOFOLD_ARGON2_TIME_COST: '2',
    };
    const smsError = (() => {
      try {
        loadConfig(testEnvironment(t.dataDir, production));
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(smsError).toBeInstanceOf(ConfigError);
    expect((smsError as ConfigError).variable).toBe('TWOFOLD_SMS_PROVIDER');
    expect(() => loadConfig(testEnvironment(t.dataDir, { ...production, TWOFOLD_FACTORS: 'totp,email' }))).toThrow(/TWOFOLD_EMAIL_PROVIDER/);
  });
});

describe('through the HTTP API with the default (outbox) provider', () => {
  it('an SMS enrollment lands in the outbox: channel sms, purpose enroll, the code, expiring with the challenge', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    const enroll = await enrollDestination(t, user.mfaToken, { type: 'sms', phone });
    expect(enroll.statusCode, enroll.body).toBe(201);
    const [message] = await outboxMessages(t, phone);
    expect(message).toMatchObject({ channel: 'sms', destination: phone, purpose: 'enroll', created_at: t.clock.now(), expires_at: t.clock.now() + enroll.json().expires_in * 1000 });
    expect(message!.body).toMatch(/\b\d{6}\b/);
    const confirm = await postJson(t.app, `/v1/factors/${enroll.json().factor_id}/verify`, { code: await lastSentCode(t, phone) }, bearer(user.mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
  });

  it('an e-mail enrollment lands in the outbox with a subject', async () => {
    const user = await signUp(t);
    const email = uniqueEmail();
    expect((await enrollDestination(t, user.accessToken, { type: 'email', email })).statusCode).toBe(201);
    const [message] = await outboxMessages(t, email);
    expect(message).toMatchObject({ channel: 'email', destination: email, purpose: 'enroll' });
    expect(message!.subject).toEqual(expect.stringContaining('Twofold'));
  });

  it('`twofold outbox --to <phone> --json` lists the message a person would read', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    expect((await enrollDestination(t, user.mfaToken, { type: 'sms', phone })).statusCode).toBe(201);
    const code = await lastSentCode(t, phone);
    const result = await runCommand(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'outbox', '--to', phone, '--json'], testEnvironment(t.dataDir));
    expect(result.code, result.stderr).toBe(0);
    const rows = JSON.parse(result.stdout) as Array<Record<string, string>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ channel: 'sms', to: phone, purpose: 'enroll' });
    expect(rows[0]!['text']).toContain(code);
  });
});
