// The admin's user search (indexes: migrations 0023 and 0025). Prefixes are ranges compared
// bytewise on both dialects — PostgreSQL COLLATE "C", SQLite's BINARY default — so [p, p + U+10FFFF)
// is exactly "starts with p" and the same range walks the same index order everywhere.
// Pages are keysets on the walk's own index, so a page costs its rows, never every match:
// - a time range walks (created_at, id) or (last_sign_in_at, id);
// - a username-or-e-mail prefix walks the usernames with that prefix (username order), then the
//   e-mail addresses with it whose username does not have it (lower(e-mail), id order);
// - an e-mail prefix walks (lower(e-mail), id);
// - anything else walks id.
import { PostgresAdapter, sql, type ExpressionBuilder, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Database, Executor, FactorType, UserRow } from '../database.js';

export type UserSearchOrder = 'id' | 'created_at' | 'last_sign_in_at' | 'username' | 'email';

export interface UserSearchFilter {
  /** Lower-cased; matches a username prefix or an e-mail prefix. */
  usernameOrEmailPrefix?: string | undefined;
  /** Lower-cased e-mail prefix. */
  emailPrefix?: string | undefined;
  /** The last digits of the phone, reversed (a prefix of phone_reversed). */
  reversedPhonePrefix?: string | undefined;
  createdAfter?: number | undefined;
  createdBefore?: number | undefined;
  lastSignInAfter?: number | undefined;
  lastSignInBefore?: number | undefined;
  locked?: boolean | undefined;
  hasFactor?: FactorType | 'any' | 'none' | undefined;
}

/** Where a row sits in its walk: the walk, the row's key in it (null for id order) and its id. */
export interface UserSearchPosition {
  order: UserSearchOrder;
  value: number | string | null;
  id: string;
}

export interface UserSearchPage {
  /** The walk to start (or continue) with. */
  order: UserSearchOrder;
  limit: number;
  /** The last row of the previous page. */
  after?: UserSearchPosition | undefined;
}

export type UserSearchRow = Pick<UserRow, 'id' | 'username' | 'email' | 'email_verified_at' | 'phone' | 'created_at' | 'last_sign_in_at' | 'locked_at' | 'disabled_at' | 'delete_after'>;

export interface UserSearchHit extends UserSearchRow {
  position: UserSearchPosition;
}

const highestCodePoint = String.fromCodePoint(0x10ffff);

type UsersExpressions = ExpressionBuilder<Database, 'users'>;

interface SearchKeys {
  username: RawBuilder<string>;
  email: RawBuilder<string | null>;
}

/** The bytewise-ordered keys, written as migration 0025's indexes are. */
function searchKeys(postgres: boolean): SearchKeys {
  if (postgres) return { username: sql<string>`(${sql.ref('users.username')} collate "C")`, email: sql<string | null>`(lower(${sql.ref('users.email')}) collate "C")` };
  return { username: sql<string>`${sql.ref('users.username')}`, email: sql<string | null>`lower(${sql.ref('users.email')})` };
}

function startsWith(eb: UsersExpressions, key: Expression<string | null>, prefix: string): Expression<SqlBool> {
  return eb.and([eb(key, '>=', prefix), eb(key, '<', prefix + highestCodePoint)]);
}

/** One walk: the filters, then the order's keyset after `page.after` (when it is in this walk). */
export function userSearchQuery(db: Executor, filter: UserSearchFilter, page: UserSearchPage) {
  const keys = searchKeys(db.getExecutor().adapter instanceof PostgresAdapter);
  let query = db
    .selectFrom('users')
    .select(['users.id', 'users.username', 'users.email', 'users.email_verified_at', 'users.phone', 'users.created_at', 'users.last_sign_in_at', 'users.locked_at', 'users.disabled_at', 'users.delete_after'])
    .select(keys.email.as('email_key'));
  const q = filter.usernameOrEmailPrefix;
  if (q !== undefined) {
    // The two walks of a prefix search; any other order takes either match as a filter.
    if (page.order === 'username') query = query.where((eb) => startsWith(eb, keys.username, q));
    else if (page.order === 'email') query = query.where((eb) => eb.and([startsWith(eb, keys.email, q), eb.not(startsWith(eb, keys.username, q))]));
    else query = query.where((eb) => eb.or([startsWith(eb, keys.username, q), startsWith(eb, keys.email, q)]));
  }
  const emailPrefix = filter.emailPrefix;
  if (emailPrefix !== undefined) query = query.where((eb) => startsWith(eb, keys.email, emailPrefix));
  const phone = filter.reversedPhonePrefix;
  // phone_reversed is C-collated on PostgreSQL already (migration 0023).
  if (phone !== undefined) query = query.where((eb) => startsWith(eb, eb.ref('users.phone_reversed'), phone));
  if (filter.createdAfter !== undefined) query = query.where('users.created_at', '>=', filter.createdAfter);
  if (filter.createdBefore !== undefined) query = query.where('users.created_at', '<', filter.createdBefore);
  if (filter.lastSignInAfter !== undefined) query = query.where('users.last_sign_in_at', '>=', filter.lastSignInAfter);
  if (filter.lastSignInBefore !== undefined) query = query.where('users.last_sign_in_at', '<', filter.lastSignInBefore);
  if (filter.locked === true) query = query.where('users.locked_at', 'is not', null);
  if (filter.locked === false) query = query.where('users.locked_at', 'is', null);
  const hasFactor = filter.hasFactor;
  if (hasFactor !== undefined) {
    query = query.where((eb) => {
      let factors = eb.selectFrom('factors').select('factors.id').whereRef('factors.user_id', '=', 'users.id').where('factors.status', '=', 'active');
      if (hasFactor !== 'any' && hasFactor !== 'none') factors = factors.where('factors.type', '=', hasFactor);
      return hasFactor === 'none' ? eb.not(eb.exists(factors)) : eb.exists(factors);
    });
  }
  const after = page.after?.order === page.order ? page.after : undefined;
  switch (page.order) {
    case 'id':
      if (after !== undefined) query = query.where('users.id', '>', after.id);
      return query.orderBy('users.id').limit(page.limit);
    case 'username': {
      // Usernames are unique: the username alone is the keyset.
      const value = after?.value;
      if (typeof value === 'string') query = query.where((eb) => eb(keys.username, '>', value));
      return query.orderBy(keys.username).limit(page.limit);
    }
    case 'email': {
      const value = after?.value;
      if (after !== undefined && typeof value === 'string') query = query.where((eb) => eb.or([eb(keys.email, '>', value), eb.and([eb(keys.email, '=', value), eb('users.id', '>', after.id)])]));
      return query.orderBy(keys.email).orderBy('users.id').limit(page.limit);
    }
    case 'created_at':
    case 'last_sign_in_at': {
      const column = page.order === 'created_at' ? 'users.created_at' : 'users.last_sign_in_at';
      const value = after?.value;
      if (after !== undefined && typeof value === 'number') query = query.where((eb) => eb.or([eb(column, '>', value), eb.and([eb(column, '=', value), eb('users.id', '>', after.id)])]));
      return query.orderBy(column).orderBy('users.id').limit(page.limit);
    }
  }
}

function positionOf(order: UserSearchOrder, row: UserSearchRow & { email_key: string | null }): UserSearchPosition {
  const keyOf: Record<UserSearchOrder, number | string | null> = { id: null, username: row.username, email: row.email_key, created_at: row.created_at, last_sign_in_at: row.last_sign_in_at };
  return { order, value: keyOf[order], id: row.id };
}

async function walk(db: Executor, filter: UserSearchFilter, page: UserSearchPage): Promise<UserSearchHit[]> {
  const rows = await userSearchQuery(db, filter, page).execute();
  return rows.map((row) => {
    // The e-mail key is only the walk's position; the row leaves without it.
    const { email_key: _emailKey, ...hit } = row;
    return { ...hit, position: positionOf(page.order, row) };
  });
}

/** A page of matches: a prefix search that runs out of usernames goes on with e-mail addresses. */
export async function searchUserRows(db: Executor, filter: UserSearchFilter, page: UserSearchPage): Promise<UserSearchHit[]> {
  const hits = await walk(db, filter, page);
  if (filter.usernameOrEmailPrefix === undefined || page.order !== 'username' || hits.length >= page.limit) return hits;
  return [...hits, ...(await walk(db, filter, { order: 'email', limit: page.limit - hits.length }))];
}

/** Active factor types of several users (a search page), by user id. */
export async function factorTypesOfUsers(db: Executor, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const types = new Map<string, string[]>();
  if (userIds.length === 0) return types;
  const rows = await db.selectFrom('factors').select(['user_id', 'type']).distinct().where('user_id', 'in', userIds).where('status', '=', 'active').orderBy('type').execute();
  for (const row of rows) types.set(row.user_id, [...(types.get(row.user_id) ?? []), row.type]);
  return types;
}
