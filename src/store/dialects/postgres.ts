// PostgreSQL through a `pg` pool. Every wait is bounded — connecting, and each query on the
// client side — so an unreachable server turns into a quick 503 rather than requests that hang;
// the pool reconnects by itself when the server is back. bigint columns (the millisecond
// timestamps) are read as numbers: they stay far below 2^53.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { PostgresDatabaseConfig } from '../../config/schema.js';
import type { Database } from '../database.js';
import type { OpenedDatabase } from '../connect.js';

const int8Oid = 20;

export function openPostgres(config: PostgresDatabaseConfig, onIdleClientError: (error: Error) => void = () => undefined): OpenedDatabase {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    connectionTimeoutMillis: config.connectTimeoutMs,
    query_timeout: config.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'twofold',
    ...(config.schema === undefined ? {} : { options: `-c search_path=${config.schema}` }),
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === int8Oid ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection dropped by the server emits here; without a listener it would crash the process.
  pool.on('error', onIdleClientError);
  // A connection checked out by a transaction that drops between two of its queries emits 'error'
  // on the client, and the pool listens only while a client is idle: without this, a PostgreSQL
  // restart at that moment crashed the process. The transaction's next query fails instead (503),
  // and the pool discards the broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const url = new URL(config.url);
  return {
    db,
    kind: 'postgres',
    location: `PostgreSQL ${url.host}${url.pathname}${config.schema === undefined ? '' : ` (schema ${config.schema})`}`,
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await db.destroy();
    },
  };
}
