// "My user lost their phone": the CLI's factor reset (flows/account/admin.ts — every factor and
// recovery code removed, every session, refresh token and login in flight ended, remembered
// browsers forgotten), with the admin's name and reason in its event, and the owner told on every
// channel the account has: each verified e-mail address (the account's, e-mail factors') and each
// phone an SMS factor proved. The password stays: the next sign-in needs it, then enrolls a new
// factor (the login answers next: "enroll"). Nothing secret is read or set (AD-02).
import { listFactorsOfUser } from '../../store/repositories/factors.js';
import type { UserRow } from '../../store/database.js';
import { resetFactors } from '../../flows/account/admin.js';
import { mailNotice, notificationFor } from '../../flows/audit/notifications.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { AdminActor } from '../admin-actor.js';
import type { AdminUserDetails } from '../user-details.js';
import { currentDetails, prepareAdminWrite } from './admin-write.js';

interface NoticeChannels {
  emails: string[];
  phones: string[];
}

/** Where the owner can be reached, read before the factors (and their destinations) go. */
async function noticeChannelsOf(ctx: FlowContext, user: UserRow): Promise<NoticeChannels> {
  const factors = await listFactorsOfUser(ctx.db, user.id, 'active');
  const emails = new Set<string>();
  const phones = new Set<string>();
  // The account's own verified address already gets the notifier's e-mail (notifications.ts).
  const notifierMailsAccount = ctx.config.notifications.channel === 'email';
  if (user.email !== null && user.email_verified_at !== null && !notifierMailsAccount) emails.add(user.email);
  for (const factor of factors) {
    if (factor.destination === null) continue;
    if (factor.type === 'email' && !(notifierMailsAccount && factor.destination === user.email && user.email_verified_at !== null)) emails.add(factor.destination);
    if (factor.type === 'sms') phones.add(factor.destination);
  }
  return { emails: [...emails], phones: [...phones] };
}

function sendNotices(ctx: FlowContext, user: UserRow, channels: NoticeChannels): void {
  const text = notificationFor('admin.factors_reset') ?? '';
  for (const to of channels.emails) {
    ctx.background.run('admin reset notice (e-mail)', () => mailNotice(ctx, { userId: user.id, username: user.username, to, text }));
  }
  for (const to of channels.phones) {
    ctx.background.run('admin reset notice (SMS)', () => ctx.senders.sms.send({ channel: 'sms', to, text: `${ctx.config.serviceName}: ${text}`, purpose: 'notice', expiresAt: ctx.now() }));
  }
}

export async function resetSecondFactors(ctx: FlowContext, actor: AdminActor, userId: string, reason: string): Promise<AdminUserDetails> {
  const write = await prepareAdminWrite(ctx, actor, userId, reason);
  const channels = await noticeChannelsOf(ctx, write.target);
  // Its one event (admin.factors_reset) names the admin and the reason, and is what the notifier mails.
  await resetFactors(ctx, write.target.id, write.operator, { ...write.audit, notified_emails: String(channels.emails.length), notified_phones: String(channels.phones.length) });
  sendNotices(ctx, write.target, channels);
  return currentDetails(ctx, write.target.id);
}
