// The admin's user search (migration 0023 indexes each filter). Prefixes are ranges on an index:
// SQLite compares text bytewise, so [p, p + U+10FFFF) is exactly "starts with p"; PostgreSQL
// uses LIKE 'p%' on text_pattern_ops indexes (C order, whatever the database collation).
// Pages are keysets: on (created_at, id) or (last_sign_in_at, id) when the search is a time range
// (the range is then the index walk), else on id — every page costs the same.
import { PostgresAdapter, sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import type { Database, Executor, FactorType, UserRow } from '../database.js';

export type UserSearchOrder = 'id' | 'created_at' | 'last_sign_in_at';

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

export interface UserSearchPage {
  order: UserSearchOrder;
  limit: number;
  /** The last row of the previous page: its order value (null for id order) and id. */
  after?: { value: number | null; id: string } | undefined;
}

export type UserSearchRow = Pick<UserRow, 'id' | 'username' | 'email' | 'email_verified_at' | 'phone' | 'created_at' | 'last_sign_in_at' | 'locked_at' | 'disabled_at' | 'delete_after'>;

const highestCodePoint = String.fromCodePoint(0x10ffff);

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

type UsersExpressions = ExpressionBuilder<Database, 'users'>;

function startsWith(eb: UsersExpressions, postgres: boolean, column: Expression<string | null>, prefix: string): Expression<SqlBool> {
  if (postgres) return eb(column, 'like', `${escapeLike(prefix)}%`);
  return eb.and([eb(column, '>=', prefix), eb(column, '<', prefix + highestCodePoint)]);
}

export function userSearchQuery(db: Executor, filter: UserSearchFilter, page: UserSearchPage) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const lowerEmail = sql<string | null>`lower(${sql.ref('users.email')})`;
  let query = db
    .selectFrom('users')
    .select(['users.id', 'users.username', 'users.email', 'users.email_verified_at', 'users.phone', 'users.created_at', 'users.last_sign_in_at', 'users.locked_at', 'users.disabled_at', 'users.delete_after']);
  const q = filter.usernameOrEmailPrefix;
  if (q !== undefined) query = query.where((eb) => eb.or([startsWith(eb, postgres, eb.ref('users.username'), q), startsWith(eb, postgres, lowerEmail, q)]));
  const emailPrefix = filter.emailPrefix;
  if (emailPrefix !== undefined) query = query.where((eb) => startsWith(eb, postgres, lowerEmail, emailPrefix));
  const phone = filter.reversedPhonePrefix;
  if (phone !== undefined) query = query.where((eb) => startsWith(eb, postgres, eb.ref('users.phone_reversed'), phone));
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
  const after = page.after;
  if (page.order === 'id') {
    if (after !== undefined) query = query.where('users.id', '>', after.id);
    return query.orderBy('users.id').limit(page.limit);
  }
  const column = page.order === 'created_at' ? 'users.created_at' : 'users.last_sign_in_at';
  if (after !== undefined && after.value !== null) {
    const value = after.value;
    query = query.where((eb) => eb.or([eb(column, '>', value), eb.and([eb(column, '=', value), eb('users.id', '>', after.id)])]));
  }
  return query.orderBy(column).orderBy('users.id').limit(page.limit);
}

export function searchUserRows(db: Executor, filter: UserSearchFilter, page: UserSearchPage): Promise<UserSearchRow[]> {
  return userSearchQuery(db, filter, page).execute();
}

/** Active factor types of several users (a search page), by user id. */
export async function factorTypesOfUsers(db: Executor, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const types = new Map<string, string[]>();
  if (userIds.length === 0) return types;
  const rows = await db.selectFrom('factors').select(['user_id', 'type']).distinct().where('user_id', 'in', userIds).where('status', '=', 'active').orderBy('type').execute();
  for (const row of rows) types.set(row.user_id, [...(types.get(row.user_id) ?? []), row.type]);
  return types;
}
