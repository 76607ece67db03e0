// Reading codes from the development outbox, the way a person would read their phone. The
// database holds each message sealed; these helpers open it with the server's encryption key,
// as `twofold outbox` does — and `rawOutboxRows` shows what a copy of the database would.
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { resolveEncryptionKey } from '../../src/config/encryption-key.js';
import { createSecretBox } from '../../src/core/crypto/secretbox.js';
import { outboxAad, readOutboxMessages, type OutboxMessage } from '../../src/delivery/outbox.js';
import type { OutboxRow } from '../../src/store/database.js';
import { listOutboxMessages } from '../../src/store/repositories/outbox.js';
import { testEnvironment, type TestTwofold } from './twofold.js';

/** An opened message; `body` is its text (the name the suites have always read). */
export type OpenedOutboxMessage = OutboxMessage & { body: string };

/** The messages to this phone or address, newest first, opened. */
export async function outboxMessages(t: TestTwofold, destination: string): Promise<OpenedOutboxMessage[]> {
  const messages = await readOutboxMessages(t.ctx.db, t.ctx.secretBox, { destination, limit: 100 });
  return messages.map((message) => {
    if (message.text === undefined) throw new Error(`outbox message ${message.id} did not open: ${message.unopenable ?? ''}`);
    return { ...message, body: message.text };
  });
}

/** The rows as stored: what a copy of the database or a backup shows. */
export function rawOutboxRows(t: TestTwofold, destination: string): Promise<OutboxRow[]> {
  return listOutboxMessages(t.ctx.db, { destination, limit: 100 });
}

/** The code in the newest message to this phone or address. */
export async function lastSentCode(t: TestTwofold, destination: string): Promise<string> {
  const [message] = await outboxMessages(t, destination);
  const code = message === undefined ? undefined : sixDigitCodeIn(message.body);
  if (code === undefined) throw new Error(`no code was sent to ${destination}`);
  return code;
}

/** The newest password-reset code sent to this address, read the way a person reads their mail. */
export async function lastResetCode(t: TestTwofold, destination: string): Promise<string> {
  // The code is sent in the background, after the same answer for everyone; security notices go
  // to the same address, so pick the reset message.
  await t.ctx.background.flush();
  const message = (await outboxMessages(t, destination)).find((candidate) => candidate.purpose === 'password_reset');
  const code = message === undefined ? undefined : resetCodeIn(message.body);
  if (code === undefined) throw new Error(`no reset code was sent to ${destination}`);
  return code;
}

export function sixDigitCodeIn(text: string): string | undefined {
  return /\b(\d{6})\b/.exec(text)?.[1];
}

export function resetCodeIn(text: string): string | undefined {
  return /\b([0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){3})\b/.exec(text)?.[1];
}

/**
 * The text of the newest message to `destination` (of `purpose`, if given) kept by a server
 * process running on the SQLite database of `dataDir` in test mode — opened with that data dir's
 * generated encryption key, as `twofold outbox` would. Undefined while there is none.
 */
export function lastOutboxTextInDataDir(dataDir: string, destination: string, purpose?: string): string | undefined {
  const sqlite = new BetterSqlite3(join(dataDir, 'twofold.db'), { readonly: true });
  try {
    const row = sqlite
      .prepare(`select id, content_ciphertext from outbox where destination = ?${purpose === undefined ? '' : ' and purpose = ?'} order by created_at desc, id desc limit 1`)
      .get(...(purpose === undefined ? [destination] : [destination, purpose])) as { id: string; content_ciphertext: string } | undefined;
    if (row === undefined) return undefined;
    const key = resolveEncryptionKey(loadConfig(testEnvironment(dataDir)));
    const content = JSON.parse(createSecretBox([key.key, ...key.previousKeys]).open(row.content_ciphertext, outboxAad(row.id))) as { text: string };
    return content.text;
  } finally {
    sqlite.close();
  }
}

/** The token of the newest verification link mailed to this address (sent after the answer: flushed first). */
export async function lastVerificationToken(t: TestTwofold, address: string): Promise<string> {
  await t.ctx.background.flush();
  const message = (await outboxMessages(t, address)).find((candidate) => candidate.purpose === 'email_verification');
  const token = message === undefined ? undefined : /\/verify-email\?token=(tfv_[A-Za-z0-9_-]{43})\b/.exec(message.body)?.[1];
  if (token === undefined) throw new Error(`no verification link was sent to ${address}`);
  return token;
}

/** Follows the newest verification link mailed to this address, as its owner would. */
export async function verifyAddress(t: TestTwofold, address: string): Promise<void> {
  const token = await lastVerificationToken(t, address);
  const response = await t.app.inject({ method: 'POST', url: '/v1/email/verify', payload: { token }, headers: { 'content-type': 'application/json' } });
  if (response.statusCode !== 204) throw new Error(`verifying ${address} answered ${response.statusCode}: ${response.body}`);
}

/** The verification link mailed to `address` at sign-up, read from the development outbox (sent in the background: polled). */
export async function verificationLinkSentTo(dataDir: string, address: string): Promise<string> {
  for (let tries = 0; tries < 50; tries += 1) {
    const text = lastOutboxTextInDataDir(dataDir, address, 'email_verification');
    const link = text === undefined ? undefined : /(https?:\/\/\S+\/verify-email\?token=[A-Za-z0-9_-]+)/.exec(text)?.[1];
    if (link !== undefined) return link;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no verification link was sent to ${address}`);
}
