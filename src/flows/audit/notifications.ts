// Telling people what happened to their account (MG-04): a new factor, a removed factor, a used
// recovery code, a replayed code, a lock, a changed, reset, removed or newly set password, an administrator's reset —
// by e-mail through the configured provider (to the account's address) or to a webhook you run.
// Never a secret in a notification; sent in the background, failures logged and recorded.
//
// What a notice may cost (RC-02): it goes only to a *verified* address — an address typed at
// sign-up by a throw-away account receives nothing but its verification mail — and at most
// TWOFOLD_NOTICES_PER_RECIPIENT (10) per address per hour. The last one before that cap says that
// notices pause and until when, so none is lost silently: every event stays on the account page.
// Notices spend neither the client network's nor everyone's e-mail budget: an attacker who spent
// those (from many networks) must not be able to silence "your password was changed".
import { signWebhookBody, signatureHeader } from '../../delivery/webhook.js';
import { sha256Base64url } from '../../core/crypto/digest.js';
import { findUserById } from '../../store/repositories/users.js';
import { recordCoalescedEvent } from './coalesced-events.js';
import type { FlowContext } from '../shared/context.js';
import type { SecurityEvent, SecurityEventSink, SecurityEventType } from '../shared/security-events.js';

const hourMs = 60 * 60 * 1000;

const messages: Partial<Record<SecurityEventType, string>> = {
  'factor.activated': 'A new second factor was added to your account.',
  'factor.removed': 'A second factor was removed from your account.',
  'recovery_code.used': 'One of your recovery codes was used to sign in.',
  'mfa.replay_rejected': 'Someone tried to sign in with a code that was already used. If it was not you, change your password.',
  'account.locked': 'Your account was locked after too many failed sign-in attempts. Reset your password to unlock it.',
  'password.changed': 'Your password was changed, and your other sessions were signed out.',
  'password.reset': 'Your password was reset, and every session was signed out.',
  'password.removed': 'Your password was removed: you now sign in with a passkey alone. Your other sessions were signed out.',
  'password.set': 'A password was set for your account, and your other sessions were signed out.',
  'admin.factors_reset': 'An administrator removed your second factors. Sign in to set up a new one.',
  'admin.account_locked': 'An administrator locked your account and signed out its sessions.',
  'admin.deletion_scheduled': 'An administrator scheduled your account for deletion; it is disabled until then. If this is a mistake, contact them before it is deleted.',
};

export function notificationFor(type: SecurityEventType): string | undefined {
  return messages[type];
}

/**
 * The event sink that turns notable events into notifications (added to the context's events,
 * which is why the context is reached through a function: it is complete only once this exists).
 */
export function createNotifier(contextOf: () => FlowContext): SecurityEventSink {
  return {
    record(event) {
      const ctx = contextOf();
      const text = notificationFor(event.type);
      if (ctx.config.notifications.channel === 'off' || text === undefined || event.userId === undefined) return;
      ctx.background.run(`notification ${event.type}`, () => deliver(ctx, event, text));
    },
  };
}

async function deliver(ctx: FlowContext, event: SecurityEvent, text: string): Promise<void> {
  const settings = ctx.config.notifications;
  const user = await findUserById(ctx.db, event.userId ?? '');
  if (user === undefined) return;
  if (settings.channel === 'email') {
    // An address nobody proved gets nothing but its verification mail.
    if (user.email === null || user.email_verified_at === null) return;
    await mailNotice(ctx, { userId: user.id, username: user.username, to: user.email, text, ip: event.ip });
    return;
  }
  if (settings.channel !== 'webhook') return;
  const when = new Date(ctx.now()).toISOString();
  const body = JSON.stringify({
    type: event.type,
    user_id: user.id,
    username: user.username,
    email: user.email,
    // The receiver decides where to write; it should not write to an address nobody proved.
    email_verified: user.email !== null && user.email_verified_at !== null,
    message: text,
    occurred_at: when,
    ip: event.ip ?? null,
  });
  const response = await fetch(settings.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [signatureHeader]: signWebhookBody(settings.secret, Math.floor(Date.now() / 1000), body) },
    body,
    signal: AbortSignal.timeout(settings.timeoutMs),
    redirect: 'manual',
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the notification webhook answered ${response.status}`);
}

/**
 * Mails a security notice to a verified address, within the address's notice budget: the last
 * notice the budget allows says that notices pause until the window ends; beyond it nothing is
 * sent, counted as twofold_send_budget_refusals_total{channel="email",scope="recipient"} and
 * recorded once per window.
 */
export async function mailNotice(ctx: FlowContext, notice: { userId: string; username: string; to: string; text: string; ip?: string | undefined }): Promise<void> {
  const now = ctx.now();
  const limit = ctx.config.budgets.noticesPerRecipientPerHour;
  const key = `send:notice-recipient:${sha256Base64url(notice.to)}`;
  const budget = await ctx.kv.consumeBudget(key, now, { limit, windowMs: hourMs });
  if (!budget.consumed) {
    ctx.metrics.countSendRefused('email', 'recipient');
    await recordCoalescedEvent(ctx, { type: 'send_budget.exhausted', userId: notice.userId, details: { channel: 'email', scope: 'recipient' } }, { key: `${key}@${budget.windowEndsAt}`, windowMs: Math.max(1, budget.windowEndsAt - now) });
    return;
  }
  const pause =
    budget.count === limit
      ? `\n\nThis is the last security notice to this address for now: after ${limit} within an hour, notices pause until ${new Date(budget.windowEndsAt).toISOString().slice(0, 16).replace('T', ' ')} UTC. Every event stays listed on your account page.`
      : '';
  await ctx.senders.email.send({
    channel: 'email',
    to: notice.to,
    subject: `${ctx.config.serviceName}: security notice`,
    text: `Hello ${notice.username},\n\n${notice.text}${pause}\n\nWhen: ${new Date(now).toISOString()}${notice.ip === undefined ? '' : `\nFrom: ${notice.ip}`}\n`,
    purpose: 'notice',
    expiresAt: now,
  });
}
