// Searching users for an admin or support person (GET /v1/admin/users, the /admin pages). Every
// filter is an index range (migrations 0023, 0025); pages are keysets behind an opaque cursor, so the
// millionth page costs what the first does. Input is checked here too, not only by the route
// schema: the console calls this function directly.
import { TwofoldError } from '../errors.js';
import type { FactorType } from '../store/database.js';
import { factorTypesOfUsers, searchUserRows, type UserSearchFilter, type UserSearchOrder, type UserSearchPosition, type UserSearchRow } from '../store/repositories/admin-user-search.js';
import { rolesOfUsers } from '../store/repositories/user-roles.js';
import type { FlowContext } from '../flows/shared/context.js';
import { isoTime } from '../flows/shared/views.js';
import type { AdminActor } from './admin-actor.js';
import type { AdminRole } from './roles.js';

export interface AdminUserQuery {
  /** A username prefix or an e-mail prefix (case-insensitive). */
  q?: string | undefined;
  /** An e-mail prefix (case-insensitive). */
  email?: string | undefined;
  /** The last digits of the phone number (1–15 digits; other characters are ignored). */
  phoneSuffix?: string | undefined;
  /** Milliseconds since the epoch; after is inclusive, before exclusive. */
  createdAfter?: number | undefined;
  createdBefore?: number | undefined;
  lastSignInAfter?: number | undefined;
  lastSignInBefore?: number | undefined;
  locked?: boolean | undefined;
  hasFactor?: FactorType | 'any' | 'none' | undefined;
  /** 1–100, 50 by default. */
  limit?: number | undefined;
  /** The `next` of the previous page. */
  after?: string | undefined;
}

export interface AdminUserSummary {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  phone: string | null;
  created_at: string;
  last_sign_in_at: string | null;
  locked: boolean;
  /** Disabled: waiting for deletion (delete_after), sign-in refused. */
  disabled: boolean;
  roles: AdminRole[];
  /** Types of the active second factors; empty: the next sign-in enrolls one. */
  factor_types: string[];
  delete_after: string | null;
}

export const defaultAdminSearchLimit = 50;
export const maxAdminSearchLimit = 100;
export const maxAdminQueryLength = 254;
const factorFilters = new Set(['totp', 'sms', 'email', 'webauthn', 'any', 'none']);
const maxTimeMs = 8.64e15;

function invalid(detail: string): TwofoldError {
  return new TwofoldError('invalid_request', detail);
}

function prefixOf(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`\`${name}\` must be a string.`);
  const prefix = value.normalize('NFKC').trim().toLowerCase();
  // No name or address holds one; PostgreSQL cannot even compare text with NUL in it.
  if (/\p{Cc}/u.test(prefix)) throw invalid(`\`${name}\` must not contain control characters.`);
  if (prefix.length > maxAdminQueryLength) throw invalid(`\`${name}\` is longer than ${maxAdminQueryLength} characters.`);
  return prefix === '' ? undefined : prefix;
}

function timeOf(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > maxTimeMs) throw invalid(`\`${name}\` must be a time in milliseconds since 1970.`);
  return value;
}

function reversedPhoneDigits(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 32) throw invalid('`phone_suffix` must be up to 15 digits.');
  const digits = value.replace(/[\s().+-]/g, '');
  if (!/^[0-9]{1,15}$/.test(digits)) throw invalid('`phone_suffix` must be up to 15 digits.');
  return [...digits].reverse().join('');
}

// The cursor is "<order>.<key>.<id>" in base64url: opaque to callers, checked strictly here. The
// key is the row's place in the walk: digits for a time, base64url text for a username or a
// lower-cased e-mail address, empty for id order.
const cursorShape = /^(id|created_at|last_sign_in_at|username|email)\.([A-Za-z0-9_-]{0,1400})\.(usr_[A-Za-z0-9_-]{1,64})$/;
const maxCursorLength = 2048;

function encodeCursor(position: UserSearchPosition): string {
  const { order, value } = position;
  const key = value === null ? '' : typeof value === 'number' ? String(value) : Buffer.from(value).toString('base64url');
  return Buffer.from(`${order}.${key}.${position.id}`).toString('base64url');
}

/** A prefix search walks usernames, then e-mail addresses: its cursor may be in either walk. */
function ordersOf(order: UserSearchOrder): readonly UserSearchOrder[] {
  return order === 'username' ? ['username', 'email'] : [order];
}

function keyOf(order: UserSearchOrder, key: string): number | string | null | undefined {
  if (order === 'id') return key === '' ? null : undefined;
  if (order === 'created_at' || order === 'last_sign_in_at') return /^[0-9]{1,16}$/.test(key) ? Number(key) : undefined;
  const text = Buffer.from(key, 'base64url').toString();
  return key !== '' && Buffer.from(text).toString('base64url') === key ? text : undefined;
}

function decodeCursor(cursor: string | undefined, order: UserSearchOrder): UserSearchPosition | undefined {
  if (cursor === undefined) return undefined;
  const match = typeof cursor === 'string' && cursor.length <= maxCursorLength && /^[A-Za-z0-9_-]+$/.test(cursor) ? cursorShape.exec(Buffer.from(cursor, 'base64url').toString()) : null;
  const cursorOrder = match?.[1] as UserSearchOrder | undefined;
  const value = match === null || cursorOrder === undefined || !ordersOf(order).includes(cursorOrder) ? undefined : keyOf(cursorOrder, match[2] ?? '');
  if (match === null || cursorOrder === undefined || value === undefined) throw invalid('`after` is not a cursor this search gave out (or the filters changed).');
  return { order: cursorOrder, value, id: match[3] ?? '' };
}

/** A time range is walked on its own index, a prefix on its own; anything else in id order. */
function orderFor(filter: UserSearchFilter): UserSearchOrder {
  if (filter.createdAfter !== undefined || filter.createdBefore !== undefined) return 'created_at';
  if (filter.lastSignInAfter !== undefined || filter.lastSignInBefore !== undefined) return 'last_sign_in_at';
  if (filter.usernameOrEmailPrefix !== undefined) return 'username';
  if (filter.emailPrefix !== undefined) return 'email';
  return 'id';
}

export function parseAdminUserQuery(query: AdminUserQuery): { filter: UserSearchFilter; order: UserSearchOrder; limit: number; after: UserSearchPosition | undefined } {
  if (query.locked !== undefined && typeof query.locked !== 'boolean') throw invalid('`locked` must be true or false.');
  if (query.hasFactor !== undefined && !factorFilters.has(query.hasFactor)) throw invalid('`has_factor` must be totp, sms, email, webauthn, any or none.');
  const limit = query.limit ?? defaultAdminSearchLimit;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > maxAdminSearchLimit) throw invalid(`\`limit\` must be 1 to ${maxAdminSearchLimit}.`);
  const filter: UserSearchFilter = {
    usernameOrEmailPrefix: prefixOf('q', query.q),
    emailPrefix: prefixOf('email', query.email),
    reversedPhonePrefix: reversedPhoneDigits(query.phoneSuffix),
    createdAfter: timeOf('created_after', query.createdAfter),
    createdBefore: timeOf('created_before', query.createdBefore),
    lastSignInAfter: timeOf('last_sign_in_after', query.lastSignInAfter),
    lastSignInBefore: timeOf('last_sign_in_before', query.lastSignInBefore),
    locked: query.locked,
    hasFactor: query.hasFactor,
  };
  const order = orderFor(filter);
  const after = decodeCursor(query.after, order);
  // A page goes on in the walk its cursor is in.
  return { filter, order: after?.order ?? order, limit, after };
}

export async function toAdminUserSummaries(ctx: FlowContext, rows: readonly UserSearchRow[]): Promise<AdminUserSummary[]> {
  const ids = rows.map((row) => row.id);
  const [roles, factorTypes] = await Promise.all([rolesOfUsers(ctx.db, ids), factorTypesOfUsers(ctx.db, ids)]);
  return rows.map((row) => ({
    id: row.id,
    username: row.username,
    email: row.email,
    email_verified: row.email !== null && row.email_verified_at !== null,
    phone: row.phone,
    created_at: isoTime(row.created_at),
    last_sign_in_at: row.last_sign_in_at === null ? null : isoTime(row.last_sign_in_at),
    locked: row.locked_at !== null,
    disabled: row.disabled_at !== null,
    roles: roles.get(row.id) ?? [],
    factor_types: factorTypes.get(row.id) ?? [],
    delete_after: row.delete_after === null ? null : isoTime(row.delete_after),
  }));
}

// The actor is taken (not re-checked) so that only a caller who went through requireAdmin holds one.
export async function searchUsers(ctx: FlowContext, _actor: AdminActor, query: AdminUserQuery): Promise<{ users: AdminUserSummary[]; next: string | null }> {
  const { filter, order, limit, after } = parseAdminUserQuery(query);
  // One more row than asked: whether a next page exists without a second query.
  const rows = await searchUserRows(ctx.db, filter, { order, limit: limit + 1, after });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { users: await toAdminUserSummaries(ctx, page), next: rows.length > limit && last !== undefined ? encodeCursor(last.position) : null };
}
