// The development outbox provider: messages are kept in the
// database sealed under the encryption key — a copy of the database shows no code, `twofold
// outbox` and the test helpers open them — printed to the console only in development mode at
// send time, deleted once they stop mattering, and never used in production; and the provider
// selection of createMessageSenders.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import type { FactorKind } from '../../src/config/schema.js';
import { createSecretBox, SecretBoxError } from '../../src/core/crypto/secretbox.js';
import { DeliveryError, type OutgoingMessage } from '../../src/delivery/message.js';
import { createOutboxSender, outboxAad, readOutboxMessages } from '../../src/delivery/outbox.js';
import { createMessageSenders } from '../../src/delivery/senders.js';
import { listOutboxMessages } from '../../src/store/repositories/outbox.js';
import { bearer, postJson, registerUser, signUp, totpCode, uniqueUsername } from '../helpers/flow.js';
import { containsCode, enrollDestination, uniqueEmail, uniquePhone } from '../helpers/otp.js';
import { lastResetCode, lastSentCode, outboxMessages, rawOutboxRows, verifyAddress } from '../helpers/outbox.js';
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

const outboxSender = (print?: (line: string) => void) => createOutboxSender({ db: t.ctx.db, secretBox: t.ctx.secretBox, now: t.clock.now, print });

describe('createOutboxSender()', () => {
  it('OB-01: keeps channel, destination, purpose and times in the row, and the subject and text only sealed', async () => {
    const to = uniquePhone();
    await outboxSender().send({ ...sms(to, '271828'), subject: 'Sign-in code 271828' });
    const [row] = await listOutboxMessages(t.ctx.db, { destination: to, limit: 10 });
    expect(row).toEqual({
      id: expect.stringMatching(/^msg_/),
      channel: 'sms',
      destination: to,
      purpose: 'login',
      content_ciphertext: expect.stringMatching(new RegExp(`^v1\\.${t.ctx.secretBox.currentKeyId}\\.`)),
      created_at: t.clock.now(),
      expires_at: t.clock.now() + 300_000,
    });
    expect(JSON.stringify(row)).not.toContain('271828');
    const [opened] = await readOutboxMessages(t.ctx.db, t.ctx.secretBox, { destination: to, limit: 10 });
    expect(opened).toMatchObject({ id: row!.id, subject: 'Sign-in code 271828', text: sms(to, '271828').text });
  });

  it('OB-01: an envelope is bound to its row — copied into another row, it does not open', async () => {
    const [first, second] = [uniquePhone(), uniquePhone()];
    await outboxSender().send(sms(first, '111111'));
    await outboxSender().send(sms(second, '222222'));
    const [moved] = await listOutboxMessages(t.ctx.db, { destination: first, limit: 1 });
    const [target] = await listOutboxMessages(t.ctx.db, { destination: second, limit: 1 });
    expect(() => t.ctx.secretBox.open(moved!.content_ciphertext, outboxAad(target!.id))).toThrow(SecretBoxError);
    await t.ctx.db.updateTable('outbox').set({ content_ciphertext: moved!.content_ciphertext }).where('id', '=', target!.id).execute();
    const [shown] = await readOutboxMessages(t.ctx.db, t.ctx.secretBox, { destination: second, limit: 1 });
    expect(shown).toMatchObject({ text: undefined, unopenable: expect.stringContaining(t.ctx.secretBox.currentKeyId) });
  });

  it('OB-01: a message sealed under a key this server lacks is listed as unopenable, not as an error', async () => {
    const to = uniquePhone();
    const stranger = createSecretBox([randomBytes(32)]);
    await createOutboxSender({ db: t.ctx.db, secretBox: stranger, now: t.clock.now }).send(sms(to, '333333'));
    const [message] = await readOutboxMessages(t.ctx.db, t.ctx.secretBox, { destination: to, limit: 1 });
    expect(message).toMatchObject({ destination: to, text: undefined, unopenable: expect.stringContaining(stranger.currentKeyId) });
  });

  it('prints one line per message when given a printer (development), with the text on one line', async () => {
    const to = uniquePhone();
    const lines: string[] = [];
    await outboxSender((line) => lines.push(line)).send(sms(to, '314159'));
    expect(lines).toEqual([`[outbox] sms to ${to}: Your Twofold code to sign in is 314159. @twofold.test #314159`]);
  });

  it('lists newest first, by channel and by destination, up to a limit', async () => {
    const phone = uniquePhone();
    const email = uniqueEmail();
    const sender = outboxSender();
    for (const code of ['111111', '222222', '333333']) {
      t.clock.advanceSeconds(1);
      await sender.send(sms(phone, code));
    }
    await sender.send({ channel: 'email', to: email, subject: 'Your Twofold code', text: 'Your Twofold code is 444444.', purpose: 'enroll', expiresAt: t.clock.now() + 300_000 });
    const toPhone = await readOutboxMessages(t.ctx.db, t.ctx.secretBox, { destination: phone, limit: 10 });
    expect(toPhone.map((message) => /\d{6}/.exec(message.text!)![0])).toEqual(['333333', '222222', '111111']);
    expect(await readOutboxMessages(t.ctx.db, t.ctx.secretBox, { destination: phone, limit: 2 })).toHaveLength(2);
    expect((await readOutboxMessages(t.ctx.db, t.ctx.secretBox, { channel: 'email', destination: email, limit: 10 })).map((message) => message.channel)).toEqual(['email']);
    expect(await readOutboxMessages(t.ctx.db, t.ctx.secretBox, { channel: 'sms', destination: email, limit: 10 })).toEqual([]);
  });

  it('OB-01: deletes a code once it has expired (at the next send), and keeps a notice, which has no code, for a day', async () => {
    const clockStart = t.clock.now();
    const [phone, email, other] = [uniquePhone(), uniqueEmail(), uniquePhone()];
    const sender = outboxSender();
    await sender.send(sms(phone, '555555'));
    await sender.send({ channel: 'email', to: email, subject: 'Security notice', text: 'A new second factor was added.', purpose: 'notice', expiresAt: clockStart });
    expect((await listOutboxMessages(t.ctx.db, { destination: email, limit: 1 }))[0]!.expires_at).toBe(clockStart + 24 * 60 * 60 * 1000);
    t.clock.advanceSeconds(300);
    await sender.send(sms(other, '666666'));
    expect(await listOutboxMessages(t.ctx.db, { destination: phone, limit: 10 })).toEqual([]);
    expect(await listOutboxMessages(t.ctx.db, { destination: email, limit: 10 })).toHaveLength(1);
    t.clock.advanceSeconds(24 * 60 * 60);
    await sender.send(sms(other, '777777'));
    expect(await listOutboxMessages(t.ctx.db, { destination: email, limit: 10 })).toEqual([]);
    expect(await listOutboxMessages(t.ctx.db, { destination: other, limit: 10 })).toHaveLength(1);
  });
});

describe('OB-01: no code in clear in the outbox rows, in test and in development mode', () => {
  /** Every column of every row to `destination`, as a copy of the database would show them. */
  const rawText = async (instance: TestTwofold, destination: string) => JSON.stringify(await rawOutboxRows(instance, destination));

  for (const mode of ['test', 'development'] as const) {
    it(`OB-01: ${mode} mode: the SMS code, the e-mail code and the reset code open from the outbox but appear in no row`, async () => {
      // Development prints each message at send time (that is where a person trying Twofold reads it).
      const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const instance = mode === 'test' ? t : await startTestTwofold({ env: { NODE_ENV: 'development', TWOFOLD_FACTORS: 'totp,sms,email,webauthn,recovery' } });
      try {
        const user = await signUp(instance);
        const phone = uniquePhone();
        expect((await enrollDestination(instance, user.accessToken, { type: 'sms', phone })).statusCode).toBe(201);
        const smsCode = await lastSentCode(instance, phone);
        const email = uniqueEmail();
        expect((await enrollDestination(instance, user.accessToken, { type: 'email', email })).statusCode).toBe(201);
        const emailCode = await lastSentCode(instance, email);

        const resetAddress = `${uniqueUsername('reset')}@example.com`;
        const withAddress = await registerUser(instance, { email: resetAddress });
        await postJson(instance.app, `/v1/factors/${withAddress.factorId}/verify`, { code: totpCode(instance, withAddress.secret) }, bearer(withAddress.mfaToken));
        await verifyAddress(instance, resetAddress); // reset codes go only to a proven address
        expect((await postJson(instance.app, '/v1/password/forgot', { username: withAddress.username })).statusCode).toBe(202);
        const resetCode = await lastResetCode(instance, resetAddress);

        for (const [destination, code] of [[phone, smsCode], [email, emailCode]] as const) {
          const raw = await rawText(instance, destination);
          expect(raw).toContain(destination);
          expect(containsCode(raw, code), `code ${code} in a raw outbox row`).toBe(false);
          expect(raw).not.toContain('Your Twofold code');
        }
        const rawReset = await rawText(instance, resetAddress);
        expect(rawReset).toContain('password_reset');
        expect(rawReset).not.toContain(resetCode);
        expect(rawReset).not.toContain('reset the Twofold password');

        const printed = write.mock.calls.map(([chunk]) => String(chunk)).join('');
        for (const code of [smsCode, emailCode, resetCode]) expect(printed.includes(code), `${code} printed at send time`).toBe(mode === 'development');
      } finally {
        if (instance !== t) await instance.close();
      }
    });
  }
});

describe('createMessageSenders()', () => {
  const configWith = (env: Record<string, string>) => loadConfig(testEnvironment(t.dataDir, env));
  const dependencies = () => ({ db: t.ctx.db, secretBox: t.ctx.secretBox, now: t.clock.now });
  const production = {
    NODE_ENV: 'production',
    TWOFOLD_PUBLIC_URL: 'https://auth.example.com',
    TWOFOLD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    TWOFOLD_ARGON2_MEMORY_KIB: '19456',
    TWOFOLD_ARGON2_TIME_COST: '2',
    TWOFOLD_THROTTLE_LOCK_FAILURES: '100',
  };

  it('uses the outbox for both channels by default', () => {
    const senders = createMessageSenders(configWith({}), dependencies());
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
      dependencies(),
    );
    expect([senders.sms.provider, senders.email.provider]).toEqual(['twilio', 'smtp']);
    senders.close();
    const webhook = createMessageSenders(
      configWith({ TWOFOLD_SMS_PROVIDER: 'webhook', TWOFOLD_SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms', TWOFOLD_SMS_WEBHOOK_SECRET: 'a-secret-of-16-chars-or-more' }),
      dependencies(),
    );
    expect(webhook.sms.provider).toBe('webhook');
    webhook.close();
  });

  it('prints outbox messages to the console in development mode only', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const phone = uniquePhone();
    const quiet = createMessageSenders(configWith({}), dependencies());
    await quiet.sms.send(sms(phone, '271828'));
    expect(write.mock.calls.some(([chunk]) => String(chunk).includes('271828'))).toBe(false);
    const development = createMessageSenders(configWith({ NODE_ENV: 'development' }), dependencies());
    await development.sms.send(sms(phone, '161803'));
    expect(write.mock.calls.some(([chunk]) => String(chunk).includes(`[outbox] sms to ${phone}`) && String(chunk).includes('161803'))).toBe(true);
    quiet.close();
    development.close();
  });

  it('OB-01: production refuses, at configuration, anything that would go to the outbox', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        loadConfig(testEnvironment(t.dataDir, { ...production, ...env }));
        return undefined;
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).variable;
      }
    };
    expect(refusal({})).toBe('TWOFOLD_SMS_PROVIDER');
    expect(refusal({ TWOFOLD_FACTORS: 'totp,email' })).toBe('TWOFOLD_EMAIL_PROVIDER');
    expect(refusal({ TWOFOLD_FACTORS: 'totp' })).toBe('TWOFOLD_EMAIL_PROVIDER');
    expect(refusal({ TWOFOLD_FACTORS: 'totp', TWOFOLD_PASSWORD_RESET: 'off', TWOFOLD_NOTIFY: 'off' })).toBeUndefined();
  });

  it('OB-01: production refuses a configuration built by hand that would use the outbox, and a channel without a provider refuses every message', async () => {
    const deliberate = configWith({ ...production, TWOFOLD_FACTORS: 'totp', TWOFOLD_PASSWORD_RESET: 'off', TWOFOLD_NOTIFY: 'off' });
    expect(() => createMessageSenders({ ...deliberate, notifications: { channel: 'email' } }, dependencies())).toThrow(ConfigError);
    expect(() => createMessageSenders({ ...deliberate, factors: new Set<FactorKind>(['totp', 'sms']) }, dependencies())).toThrow(/TWOFOLD_SMS_PROVIDER/);
    const senders = createMessageSenders(deliberate, dependencies());
    expect([senders.sms.provider, senders.email.provider]).toEqual(['none', 'none']);
    const phone = uniquePhone();
    await expect(senders.sms.send(sms(phone))).rejects.toThrow(DeliveryError);
    await expect(senders.email.send({ ...sms(uniqueEmail()), channel: 'email' })).rejects.toMatchObject({ kind: 'rejected' });
    expect(await listOutboxMessages(t.ctx.db, { destination: phone, limit: 10 })).toEqual([]);
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

  it('`twofold outbox --to <phone> --json` opens the sealed message a person would read', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    expect((await enrollDestination(t, user.mfaToken, { type: 'sms', phone })).statusCode).toBe(201);
    const code = await lastSentCode(t, phone);
    expect(JSON.stringify(await rawOutboxRows(t, phone))).not.toContain(code);
    const result = await runCommand(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'outbox', '--to', phone, '--json'], testEnvironment(t.dataDir));
    expect(result.code, result.stderr).toBe(0);
    const rows = JSON.parse(result.stdout) as Array<Record<string, string>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ channel: 'sms', to: phone, purpose: 'enroll' });
    expect(rows[0]!['text']).toContain(code);
  });
});
