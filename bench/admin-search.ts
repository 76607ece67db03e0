// The admin's user search (GET /v1/admin/users) over a large user base, on SQLite and PostgreSQL:
// the rows are generated inside the database (a recursive CTE on SQLite, generate_series on
// PostgreSQL — a million users in well under a minute, no round trip per row), then each kind of
// search runs many times with random parameters through searchUsers (the function the route and
// the /admin pages call) and its wall time is taken: the p99 is what an admin waits at worst.
// Usernames and e-mail addresses start with random hex, so a 4-character prefix matches ~15 of a
// million; phones are random, so a 4-digit suffix matches ~100; one user signs up a minute.
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { searchUsers, type AdminActor, type AdminUserQuery } from '../src/admin/index.js';
import type { FlowContext } from '../src/flows/shared/context.js';
import { openDatabase, type OpenedDatabase } from '../src/store/connect.js';
import type { Database } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { createPostgresSchema, makeTempDir, testDatabaseUrl } from '../test/helpers/backend.js';
import { percentile } from './statistics.js';

export type SearchBackend = 'sqlite' | 'postgres';

export interface AdminSearchResult {
  backend: SearchBackend;
  users: number;
  generateSeconds: number;
  /** p99 wall milliseconds, by kind of search. */
  p99MsByKind: Map<string, number>;
  /** p99 over every search of every kind. */
  p99Ms: number;
}

const start = Date.UTC(2024, 0, 1);
const minuteMs = 60_000;
const dayMs = 86_400_000;

async function openBackend(backend: SearchBackend): Promise<{ opened: OpenedDatabase; schema?: string; dispose(): Promise<void> }> {
  if (backend === 'sqlite') {
    const dir = makeTempDir('twofold-bench-admin-');
    const opened = openDatabase({ kind: 'sqlite', path: join(dir.path, 'admin.db') });
    return { opened, dispose: async () => dir.dispose() };
  }
  const schema = await createPostgresSchema();
  const opened = openDatabase({ kind: 'postgres', url: schema.url, schema: schema.schema, poolMax: 4, connectTimeoutMs: 10_000, queryTimeoutMs: 600_000 });
  return { opened, schema: schema.schema, dispose: () => schema.dispose() };
}

/** Users [from, to) in one statement: hex-led names and addresses, random phones, 70% with an app, 1% locked. */
async function generateUsers(db: Kysely<Database>, backend: SearchBackend, from: number, to: number): Promise<void> {
  if (backend === 'sqlite') {
    await sql`
      with recursive seq(n) as (select cast(${from} as integer) union all select n + 1 from seq where n < ${to - 1})
      insert into users (id, username, email, phone, password_hash, created_at, updated_at, locked_at, last_sign_in_at)
      select 'usr_' || n, lower(hex(randomblob(4))) || '-' || n, 'e' || lower(hex(randomblob(4))) || n || '@example.org',
             '+1' || printf('%010d', abs(random()) % 10000000000), 'x', ${start} + n * ${minuteMs}, ${start} + n * ${minuteMs},
             case when abs(random()) % 100 = 0 then ${start} + n * ${minuteMs} end,
             case when abs(random()) % 10 < 7 then ${start} + n * ${minuteMs} + abs(random()) % ${30 * dayMs} end
      from seq`.execute(db);
    await sql`
      with recursive seq(n) as (select cast(${from} as integer) union all select n + 1 from seq where n < ${to - 1})
      insert into factors (id, user_id, type, label, status, secret_ciphertext, destination, created_at, activated_at)
      select 'fac_' || n, 'usr_' || n, 'totp', null, 'active', 'sealed', null, ${start} + n * ${minuteMs}, ${start} + n * ${minuteMs}
      from seq where abs(random()) % 10 < 7`.execute(db);
    return;
  }
  await sql`
    insert into users (id, username, email, phone, password_hash, created_at, updated_at, locked_at, last_sign_in_at)
    select 'usr_' || n, substr(md5(random()::text), 1, 8) || '-' || n, 'e' || substr(md5(random()::text), 1, 8) || n || '@example.org',
           '+1' || lpad((floor(random() * 1e10))::bigint::text, 10, '0'), 'x', ${start} + n * ${minuteMs}::bigint, ${start} + n * ${minuteMs}::bigint,
           case when random() < 0.01 then ${start} + n * ${minuteMs}::bigint end,
           case when random() < 0.7 then ${start} + n * ${minuteMs}::bigint + floor(random() * ${30 * dayMs})::bigint end
    from generate_series(${from}::bigint, ${to - 1}::bigint) as n`.execute(db);
  await sql`
    insert into factors (id, user_id, type, label, status, secret_ciphertext, destination, created_at, activated_at)
    select 'fac_' || n, 'usr_' || n, 'totp', null, 'active', 'sealed', null, ${start} + n * ${minuteMs}::bigint, ${start} + n * ${minuteMs}::bigint
    from generate_series(${from}::bigint, ${to - 1}::bigint) as n where random() < 0.7`.execute(db);
}

const hex = (length: number) => Array.from({ length }, () => Math.floor(Math.random() * 16).toString(16)).join('');
const digits = (length: number) => Array.from({ length }, () => Math.floor(Math.random() * 10)).join('');

/** The searches an admin makes, each with fresh random parameters. */
function searchKinds(users: number): Record<string, () => AdminUserQuery> {
  const someDay = () => start + Math.floor(Math.random() * Math.max(1, users - 1440)) * minuteMs;
  return {
    'username-or-email-prefix': () => ({ q: hex(4) }),
    'email-prefix': () => ({ email: `e${hex(4)}` }),
    'phone-suffix': () => ({ phoneSuffix: digits(4) }),
    'created-one-day': () => {
      const from = someDay();
      return { createdAfter: from, createdBefore: from + dayMs };
    },
    'last-sign-in-one-day-not-locked': () => {
      const from = someDay() + 15 * dayMs;
      return { lastSignInAfter: from, lastSignInBefore: from + dayMs, locked: false };
    },
    locked: () => ({ locked: true }),
    'no-factor': () => ({ hasFactor: 'none' }),
    'prefix-with-app': () => ({ q: hex(3), hasFactor: 'totp' }),
    'list-all': () => ({}),
  };
}

export async function measureAdminSearch(options: { backend: SearchBackend; users: number; searchesPerKind: number; log(message: string): void }): Promise<AdminSearchResult> {
  if (options.backend === 'postgres' && testDatabaseUrl === undefined) throw new Error('TWOFOLD_TEST_DATABASE_URL is not set');
  const { opened, schema, dispose } = await openBackend(options.backend);
  try {
    const db = opened.db;
    // Into the bench's own schema: the database's public one may hold another run's migrations.
    await migrateToLatest(db, { schema });
    const began = performance.now();
    const batch = 100_000;
    for (let from = 0; from < options.users; from += batch) {
      const to = Math.min(options.users, from + batch);
      await generateUsers(db, options.backend, from, to);
      options.log(`  admin search (${options.backend}): ${to.toLocaleString('en')} users generated`);
    }
    // As a database that has lived a while is: statistics, and the visibility map autovacuum would
    // otherwise build while the searches are timed (PostgreSQL; SQLite has only statistics).
    await (options.backend === 'postgres' ? sql`vacuum analyze` : sql`analyze`).execute(db);
    // …and whose bulk load is written out: not a checkpoint flushing a million rows mid-measurement.
    if (options.backend === 'postgres') await sql`checkpoint`.execute(db);
    const generateSeconds = (performance.now() - began) / 1000;
    // searchUsers reads ctx.db only; the actor is what requireAdmin hands out (checked elsewhere).
    const ctx = { db } as unknown as FlowContext;
    const actor = { auth: undefined, roles: ['support'] } as unknown as AdminActor;
    const all: number[] = [];
    const p99MsByKind = new Map<string, number>();
    for (const [kind, makeQuery] of Object.entries(searchKinds(options.users))) {
      // Warm the statement caches and pages the way a running server has them.
      for (let index = 0; index < 5; index += 1) await searchUsers(ctx, actor, makeQuery());
      const times: number[] = [];
      let next: string | null = null;
      for (let index = 0; index < options.searchesPerKind; index += 1) {
        // Every other list-all search is a next page, from the cursor the previous one gave.
        const query: AdminUserQuery = kind === 'list-all' && next !== null && index % 2 === 1 ? { after: next } : makeQuery();
        const before = performance.now();
        const page = await searchUsers(ctx, actor, query).catch((error: unknown) => {
          throw new Error(`${kind} ${JSON.stringify(query)}`, { cause: error });
        });
        times.push(performance.now() - before);
        next = page.next;
      }
      p99MsByKind.set(kind, percentile(times, 99));
      all.push(...times);
    }
    return { backend: options.backend, users: options.users, generateSeconds, p99MsByKind, p99Ms: percentile(all, 99) };
  } finally {
    await opened.close();
    await dispose();
  }
}
