// Which reader a Better Auth location needs: a postgres:// or mysql:// (mariadb://) URL opens that
// database; anything else is a SQLite file.
import type { BetterAuthConnection } from './better-auth-database.js';
import { openBetterAuthMysql } from './better-auth-mysql.js';
import { openBetterAuthPostgres } from './better-auth-postgres.js';

export function betterAuthDatabase(location: string, options: { mysqlPassword?: string | undefined } = {}): (() => Promise<BetterAuthConnection>) | undefined {
  if (/^postgres(ql)?:\/\//i.test(location)) return () => openBetterAuthPostgres(location);
  if (/^(mysql|mariadb):\/\//i.test(location)) return () => openBetterAuthMysql(location, options.mysqlPassword);
  return undefined;
}
