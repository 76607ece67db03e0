// "Remember this browser" (opt-in at a sign-in): a device token bound to the user, valid for
// TWOFOLD_TRUSTED_DEVICE_DAYS, stored only as SHA-256. Presented at /v1/mfa/verify it stands in
// for the second factor — honestly: amr ["pwd","dev"], acr aal1, so it can never change factors or
// step up. Listed and revocable; all of a user's devices are revoked when the password is reset
// or changed, or a factor is added or removed.
import { sha256Base64url } from '../../core/crypto/digest.js';
import { generateId, generateRandomBase64url } from '../../core/crypto/random.js';
import { storableText } from '../../core/text/unsafe-characters.js';
import { TwofoldError } from '../../errors.js';
import type { Executor, TrustedDeviceRow } from '../../store/database.js';
import { findTrustedDeviceByHash, insertTrustedDevice, listLiveTrustedDevices, revokeTrustedDevice, revokeTrustedDevicesOfUser, touchTrustedDevice } from '../../store/repositories/trusted-devices.js';
import type { AccessAuthentication } from '../sessions/authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import type { Proof } from '../sessions/second-factor.js';
import { isoTime } from '../shared/views.js';

export const deviceTokenShape = /^tfd_[A-Za-z0-9_-]{43}$/;

export interface RememberedDevice {
  device_token: string;
  device_expires_in: number;
}

export function trustedDevicesEnabled(ctx: FlowContext): boolean {
  return ctx.config.trustedDeviceDays > 0;
}

export async function rememberDevice(ctx: FlowContext, db: Executor, userId: string, meta: RequestMeta): Promise<RememberedDevice> {
  const token = `tfd_${generateRandomBase64url(32)}`;
  const now = ctx.now();
  const lifetimeSeconds = ctx.config.trustedDeviceDays * 86400;
  const id = generateId('dev');
  await insertTrustedDevice(db, { id, user_id: userId, token_hash: sha256Base64url(token), label: storableText(meta.userAgent, 200), created_at: now, expires_at: now + lifetimeSeconds * 1000, last_used_at: null, revoked_at: null });
  ctx.events.record({ type: 'trusted_device.added', userId, ip: meta.ip, userAgent: meta.userAgent, details: { device: id } });
  return { device_token: token, device_expires_in: lifetimeSeconds };
}

/** A device token of this user, live: a proof whose claim marks it used. */
export async function deviceTokenProof(ctx: FlowContext, userId: string, token: string, meta: RequestMeta = {}): Promise<Proof | undefined> {
  if (!trustedDevicesEnabled(ctx) || !deviceTokenShape.test(token)) return undefined;
  const device = await findTrustedDeviceByHash(ctx.db, sha256Base64url(token));
  const now = ctx.now();
  if (device === undefined || device.user_id !== userId || device.revoked_at !== null || device.expires_at <= now) return undefined;
  return {
    method: 'trusted_device',
    async claim(trx) {
      if (!(await touchTrustedDevice(trx, device.id, now))) return false;
      ctx.events.record({ type: 'trusted_device.used', userId, ip: meta.ip, userAgent: meta.userAgent, details: { device: device.id } });
      return true;
    },
  };
}

export interface TrustedDeviceView {
  id: string;
  label: string | null;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
}

/** Devices a page of GET /v1/trusted-devices holds unless asked for fewer. */
export const defaultTrustedDevicesPageSize = 50;

/** The cursor that continues after a listed device: "<created_at ms>.<id>", opaque to clients. */
export function trustedDevicesPageCursorOf(device: { id: string; created_at: string }): string {
  return `${Date.parse(device.created_at)}.${device.id}`;
}

const cursorShape = /^([0-9]{1,15})\.(dev_[A-Za-z0-9_-]{1,64})$/;

/** One page of the person's live remembered browsers, newest first. */
export async function listOwnTrustedDevices(ctx: FlowContext, auth: AccessAuthentication, page: { limit?: number | undefined; before?: string | undefined } = {}): Promise<TrustedDeviceView[]> {
  const match = page.before === undefined ? undefined : cursorShape.exec(page.before);
  if (match === null) throw new TwofoldError('invalid_request', '`before` is not a cursor this list gave out.');
  const before = match === undefined ? undefined : { createdAt: Number(match[1]), id: match[2] ?? '' };
  return (await listLiveTrustedDevices(ctx.db, auth.user.id, ctx.now(), { limit: page.limit ?? defaultTrustedDevicesPageSize, before })).map(toTrustedDeviceView);
}

export function toTrustedDeviceView(device: TrustedDeviceRow): TrustedDeviceView {
  return {
    id: device.id,
    label: device.label,
    created_at: isoTime(device.created_at),
    expires_at: isoTime(device.expires_at),
    last_used_at: device.last_used_at === null ? null : isoTime(device.last_used_at),
  };
}

export async function forgetOwnTrustedDevice(ctx: FlowContext, auth: AccessAuthentication, deviceId: string, meta: RequestMeta = {}): Promise<void> {
  if (!(await revokeTrustedDevice(ctx.db, auth.user.id, deviceId, ctx.now()))) throw new TwofoldError('not_found', 'No remembered browser with that id.');
  ctx.events.record({ type: 'trusted_device.revoked', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details: { device: deviceId } });
}

/** Every remembered browser of the user stops working (password or factor changes). */
export async function forgetAllTrustedDevices(ctx: FlowContext, db: Executor, userId: string, reason: string): Promise<void> {
  const revoked = await revokeTrustedDevicesOfUser(db, userId, ctx.now());
  if (revoked > 0) ctx.events.record({ type: 'trusted_device.revoked', userId, details: { count: revoked, reason } });
}
