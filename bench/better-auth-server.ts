// A real Better Auth server for the comparison benchmark (bench/better-auth.ts), as its own
// process: SQLite (better-sqlite3, a file in BETTER_AUTH_BENCH_DIR), email + password with Better
// Auth's default hashing (scrypt N=16384 r=16), the twoFactor plugin, its rate limiter off (as
// Twofold's throttle is turned up for the benchmark), schema created at start, node:http.
// Environment: PORT, BETTER_AUTH_BENCH_DIR, BETTER_AUTH_SECRET (BETTER_AUTH_BENCH_SQLITE). Prints "listening http://…".
import { createServer } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { twoFactor } from 'better-auth/plugins/two-factor';

const port = Number(process.env['PORT'] ?? '0');
const dir = process.env['BETTER_AUTH_BENCH_DIR'];
const secret = process.env['BETTER_AUTH_SECRET'];
if (!Number.isInteger(port) || port <= 0 || dir === undefined || secret === undefined) {
  throw new Error('set PORT, BETTER_AUTH_BENCH_DIR and BETTER_AUTH_SECRET');
}
const baseURL = `http://127.0.0.1:${port}`;

const database = new Database(join(dir, 'better-auth.sqlite'));
// The same pragmas as Twofold's SQLite store (src/store/dialects/sqlite.ts): WAL is faster than
// better-sqlite3's default rollback journal, so this favours Better Auth, never the reverse.
// BETTER_AUTH_BENCH_SQLITE=defaults keeps better-sqlite3's own (rollback journal), to compare.
if (process.env['BETTER_AUTH_BENCH_SQLITE'] !== 'defaults') {
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
}

const options = {
  appName: 'Better Auth bench',
  baseURL,
  secret,
  database,
  emailAndPassword: { enabled: true },
  plugins: [twoFactor({ issuer: 'Better Auth bench' })],
  rateLimit: { enabled: false },
  logger: { disabled: true },
  telemetry: { enabled: false },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();

const auth = betterAuth(options);
const handler = toNodeHandler(auth);
const server = createServer((request, response) => {
  handler(request, response).catch(() => {
    if (!response.headersSent) response.statusCode = 500;
    response.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${baseURL}\n`);
});

const shutdown = () => {
  server.close(() => {
    database.close();
    process.exit(0);
  });
  server.closeAllConnections();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
