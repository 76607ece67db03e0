// Telling people what happened to their account (MG-04): a new factor, a removed factor, a used
// recovery code, a replayed code, a lock, a changed or reset password, an administrator's reset —
// by e-mail through the configured provider (to the account's address) or to a webhook you run.
// Never a secret in a notification; sent in the background, failures logged and recorded.
import { signWebhookBody, signatureHeader } from '../delivery/webhook.js';
import { findUserById } from '../store/repositories/users.js';
import type { FlowContext } from './context.js';
import type { SecurityEvent, SecurityEventSink, SecurityEventType } from './security-events.js';

const messages: Partial<Record<SecurityEventType, string>> = {
  'factor.activated': 'A new second factor was added to your account.',
  'factor.removed': 'A second factor was removed from your account.',
  'recovery_code.used': 'One of your recovery codes was used to sign in.',
  'mfa.replay_rejected': 'Someone tried to sign in with a code that was already used. If it was not you, change your password.',
  'account.locked': 'Your account was locked after too many failed sign-in attempts. Reset your password to unlock it.',
  'password.changed': 'Your password was changed, and your other sessions were signed out.',
  'password.reset': 'Your password was reset, and every session was signed out.',
  'admin.factors_reset': 'An administrator removed your second factors. Sign in to set up a new one.',
};

export function notificationFor(type: SecurityEventType): string | undefined {
  return messages[type];
}

/** The event sink that turns notable events into notifications (added to the context's events). */
export function createNotifier(ctx: Pick<FlowContext, 'config' | 'db' | 'senders' | 'now' | 'background' | 'diagnostics'>): SecurityEventSink {
  const settings = ctx.config.notifications;
  return {
    record(event) {
      const text = notificationFor(event.type);
      if (settings.channel === 'off' || text === undefined || event.userId === undefined) return;
      ctx.background.run(`notification ${event.type}`, () => deliver(ctx, event, text));
    },
  };
}

async function deliver(ctx: Pick<FlowContext, 'config' | 'db' | 'senders' | 'now'>, event: SecurityEvent, text: string): Promise<void> {
  const settings = ctx.config.notifications;
  const user = await findUserById(ctx.db, event.userId ?? '');
  if (user === undefined) return;
  const when = new Date(ctx.now()).toISOString();
  if (settings.channel === 'email') {
    if (user.email === null) return;
    await ctx.senders.email.send({
      channel: 'email',
      to: user.email,
      subject: `${ctx.config.serviceName}: security notice`,
      text: `Hello ${user.username},\n\n${text}\n\nWhen: ${when}${event.ip === undefined ? '' : `\nFrom: ${event.ip}`}\n`,
      purpose: 'notice',
      expiresAt: ctx.now(),
    });
    return;
  }
  if (settings.channel !== 'webhook') return;
  const body = JSON.stringify({ type: event.type, user_id: user.id, username: user.username, email: user.email, message: text, occurred_at: when, ip: event.ip ?? null });
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
