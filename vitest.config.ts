// Three test projects, one per way Twofold is deployed. "sqlite" runs everything on the embedded
// default. "postgres" runs the flow, store and security suites again on PostgreSQL + Redis (fresh
// schema and key prefix per test instance), and "postgres-no-redis" the attack and throttle suites
// on PostgreSQL with in-process shared state, when TWOFOLD_TEST_DATABASE_URL and
// TWOFOLD_TEST_REDIS_URL are set; without them both are skipped with a loud note — or, under
// TWOFOLD_TEST_REQUIRE_ALL=1 (CI), the run fails.
import { configDefaults, defineConfig } from 'vitest/config';

const postgresAvailable = process.env['TWOFOLD_TEST_DATABASE_URL'] !== undefined && process.env['TWOFOLD_TEST_REDIS_URL'] !== undefined;
if (!postgresAvailable) {
  const message = 'the PostgreSQL projects need TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL (see .ci/run)';
  if (process.env['TWOFOLD_TEST_REQUIRE_ALL'] === '1') throw new Error(`TWOFOLD_TEST_REQUIRE_ALL=1 but ${message}`);
  process.stderr.write(`\n[twofold tests] SKIPPING the "postgres" and "postgres-no-redis" projects: ${message}\n\n`);
}

export default defineConfig({
  test: {
    // Native addons (better-sqlite3, argon2) and child processes behave best in forked workers.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] } },
      ...(postgresAvailable
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: ['test/http/**/*.test.ts', 'test/admin/**/*.test.ts', 'test/store/**/*.test.ts', 'test/security/**/*.test.ts', 'test/interop/**/*.test.ts', 'test/oidc/**/*.test.ts'],
                // The CLI's own data directory is SQLite whatever the project.
                exclude: [...configDefaults.exclude, 'test/oidc/clients.test.ts', 'test/oidc/backchannel-logout-cli.test.ts', 'test/oidc/client-credentials.test.ts', 'test/oidc/client-update.test.ts'],
                env: { TWOFOLD_TEST_BACKEND: 'postgres' },
              },
            },
            {
              extends: true as const,
              test: {
                name: 'postgres-no-redis',
                include: ['test/security/**/*.test.ts', 'test/http/throttle.test.ts', 'test/http/lockout.test.ts', 'test/store/kv.test.ts'],
                env: { TWOFOLD_TEST_BACKEND: 'postgres-no-redis' },
              },
            },
          ]
        : []),
    ],
  },
});
