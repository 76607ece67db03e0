// One user as an admin sees them (GET /v1/admin/users/{id}): the account, its factors (type,
// label, masked destination — never a seed), its live sessions, remembered browsers and recent
// security events. Built from the same views as the person's own account page, so nothing secret
// has a way out (AD-02, FL-09).
import { hasPassword } from '../core/password/no-password.js';
import { TwofoldError } from '../errors.js';
import { listLiveSessionsOfUserPage } from '../store/repositories/sessions.js';
import { listFactorsOfUser } from '../store/repositories/factors.js';
import { countUnusedRecoveryCodes } from '../store/repositories/recovery-codes.js';
import { listLiveTrustedDevices } from '../store/repositories/trusted-devices.js';
import { listSecurityEventsOfUser } from '../store/repositories/security-events.js';
import { findUserById } from '../store/repositories/users.js';
import type { UserRow } from '../store/database.js';
import { liveAt } from '../flows/sessions/sessions.js';
import type { FlowContext } from '../flows/shared/context.js';
import { toFactorView, toSessionView, type FactorView, type SessionView } from '../flows/shared/views.js';
import { toTrustedDeviceView, type TrustedDeviceView } from '../flows/factors/trusted-devices.js';
import { toSecurityEventView, type SecurityEventView } from '../flows/account/recent-events.js';
import type { AdminActor } from './admin-actor.js';
import { toAdminUserSummaries, type AdminUserSummary } from './user-search.js';

export interface AdminUserDetails extends AdminUserSummary {
  factors: FactorView[];
  /** Live signed-in sessions, newest first (at most 50). */
  sessions: SessionView[];
  trusted_devices: TrustedDeviceView[];
  /** The latest security events (at most 50), newest first. */
  recent_events: SecurityEventView[];
  recovery_codes_remaining: number;
  /** No active second factor: the next sign-in (after the password) enrolls one. */
  enroll_required: boolean;
  /** An admin forced a password reset: the password signs in again only after the owner resets it. */
  password_reset_required: boolean;
  /** False for a passwordless account. */
  has_password: boolean;
  failed_attempts: number;
}

const listedRows = 50;
const userIdShape = /^usr_[A-Za-z0-9_-]{1,64}$/;

/** The target of an admin call: unknown (or malformed) ids are 404, never a 500. */
export async function findAdminTarget(ctx: FlowContext, userId: string): Promise<UserRow> {
  const user = typeof userId === 'string' && userIdShape.test(userId) ? await findUserById(ctx.db, userId) : undefined;
  if (user === undefined) throw new TwofoldError('not_found', 'No user with that id.');
  return user;
}

export async function describeUserForAdmin(ctx: FlowContext, user: UserRow): Promise<AdminUserDetails> {
  await ctx.auditTrail.flush();
  const now = ctx.now();
  const [summaries, factors, sessions, devices, events, recoveryCodes] = await Promise.all([
    toAdminUserSummaries(ctx, [user]),
    listFactorsOfUser(ctx.db, user.id),
    listLiveSessionsOfUserPage(ctx.db, user.id, liveAt(ctx, now), { limit: listedRows, before: undefined }),
    listLiveTrustedDevices(ctx.db, user.id, now, { limit: listedRows, before: undefined }),
    listSecurityEventsOfUser(ctx.db, user.id, { limit: listedRows }),
    countUnusedRecoveryCodes(ctx.db, user.id),
  ]);
  const summary = summaries[0] as AdminUserSummary;
  return {
    ...summary,
    factors: factors.map(toFactorView),
    sessions: sessions.map((session) => toSessionView(session, ctx.config.sessions.idleTimeoutSeconds)),
    trusted_devices: devices.map(toTrustedDeviceView),
    recent_events: events.map(toSecurityEventView),
    recovery_codes_remaining: recoveryCodes,
    enroll_required: !factors.some((factor) => factor.status === 'active'),
    password_reset_required: user.password_reset_required_at !== null,
    has_password: hasPassword(user),
    failed_attempts: user.failed_attempts,
  };
}

export async function showUser(ctx: FlowContext, _actor: AdminActor, userId: string): Promise<AdminUserDetails> {
  return describeUserForAdmin(ctx, await findAdminTarget(ctx, userId));
}
