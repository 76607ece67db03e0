// Reading codes from the development outbox, the way a person would read their phone.
import { listOutboxMessages } from '../../src/store/repositories/outbox.js';
import type { TestTwofold } from './twofold.js';

export async function outboxMessages(t: TestTwofold, destination: string) {
  return listOutboxMessages(t.ctx.db, { destination, limit: 100 });
}

/** The code in the newest message to this phone or address. */
export async function lastSentCode(t: TestTwofold, destination: string): Promise<string> {
  const [message] = await outboxMessages(t, destination);
  const code = message === undefined ? undefined : /\b(\d{6})\b/.exec(message.body)?.[1];
  if (code === undefined) throw new Error(`no code was sent to ${destination}`);
  return code;
}

/** The newest password-reset code sent to this address, read the way a person reads their mail. */
export async function lastResetCode(t: TestTwofold, destination: string): Promise<string> {
  // The code is sent in the background, after the same answer for everyone; security notices go
  // to the same address, so pick the reset message.
  await t.ctx.background.flush();
  const message = (await outboxMessages(t, destination)).find((candidate) => candidate.purpose === 'password_reset');
  const code = message === undefined ? undefined : /\b([0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){3})\b/.exec(message.body)?.[1];
  if (code === undefined) throw new Error(`no reset code was sent to ${destination}`);
  return code;
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
