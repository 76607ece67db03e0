// `twofold import` as the compiled binary: a Better Auth database made by Better Auth itself,
// imported with its secret from the environment; the summary on stdout, the report file, the
// progress line only on a terminal, and mistakes answered in one line, exit code 1.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import mysql from 'mysql2/promise';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, uniqueName } from '../helpers/backend.js';
import { makeBetterAuthExport, type BetterAuthExport } from '../helpers/better-auth-export.js';
import { encryptLikeGoTrue, gotrueTestKey } from '../helpers/gotrue-encryption.js';
import { runCommand } from '../helpers/process.js';
import { commandAvailable, requirement } from '../helpers/requirements.js';
import { testEnvironment } from '../helpers/twofold.js';

let dir: { path: string; dispose(): void };
let exported: BetterAuthExport;
const testMysqlUrl = process.env['TWOFOLD_TEST_MYSQL_URL'];
const mysqlRuns = requirement('Better Auth on MySQL (CLI import test)', testMysqlUrl !== undefined, 'set TWOFOLD_TEST_MYSQL_URL to a MySQL or MariaDB user that may create databases (see .ci/run)');
const haveScript = requirement('script (util-linux)', commandAvailable('script', ['--version']), 'apt-get install -y bsdutils');

beforeAll(async () => {
  dir = makeTempDir('twofold-cli-import-');
  exported = await makeBetterAuthExport(dir.path, [
    { email: 'ada@example.com', password: 'analytical engine 1843', name: 'Ada', totp: 'confirmed' },
    { email: 'bob@example.com', password: 'bobs own passphrase', name: 'Bob' },
  ]);
}, 60_000);
afterAll(() => dir.dispose());

function twofold(dataDir: string, args: string[], extra: Record<string, string> = {}) {
  return runCommand(process.execPath, ['dist/cli/main.js', ...args], { ...testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn' }), ...extra });
}

describe('twofold import (CLI)', () => {
  it('AD-03: imports a Better Auth database with its secret from the environment; summary on stdout, one report line per person, the secret nowhere', async () => {
    const dataDir = makeTempDir('twofold-cli-import-data-');
    try {
      const report = join(dir.path, 'report.jsonl');
      const result = await twofold(dataDir.path, ['import', '--from', 'better-auth', exported.file, '--report', report, '--json'], { BETTER_AUTH_SECRET: exported.secret });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ source: 'better-auth', dry_run: false, read: 2, imported: 2, skipped: 0 });
      const lines = readFileSync(report, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      expect(lines.map((line) => [line.status, line.username, line.totp_factors])).toEqual([
        ['imported', 'ada', 1],
        ['imported', 'bob', 0],
      ]);
      // Not a terminal: no progress line, and the secret is never echoed.
      expect(result.stderr).not.toContain('\r');
      expect(result.stdout + result.stderr + readFileSync(report, 'utf8')).not.toContain(exported.secret);

      const again = await twofold(dataDir.path, ['import', '--from', 'better-auth', exported.file], { BETTER_AUTH_SECRET: exported.secret });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('read 2, imported 0, skipped 2');
      expect(again.stdout).toContain('already_imported: 2');
    } finally {
      dataDir.dispose();
    }
  });

  it('AD-22: --dry-run says so and writes nothing', async () => {
    const dataDir = makeTempDir('twofold-cli-import-dry-');
    try {
      const result = await twofold(dataDir.path, ['import', '--from', 'better-auth', exported.file, '--dry-run', '--secret-env', 'OLD_AUTH_SECRET'], { OLD_AUTH_SECRET: exported.secret });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('dry run (nothing written): read 2, would import 2, skipped 0');
      const list = await twofold(dataDir.path, ['users', 'list', '--json']);
      expect(JSON.parse(list.stdout)).toEqual([]);
    } finally {
      dataDir.dispose();
    }
  });

  it.runIf(haveScript)('draws a progress line on a terminal (stderr), and not with --quiet', async () => {
    const dataDir = makeTempDir('twofold-cli-import-tty-');
    try {
      const command = (quiet: string) => `${process.execPath} dist/cli/main.js import --from better-auth ${exported.file} --dry-run ${quiet}`;
      const env = { ...testEnvironment(dataDir.path, { TWOFOLD_LOG_LEVEL: 'warn' }), BETTER_AUTH_SECRET: exported.secret };
      const shown = await runCommand('script', ['-qec', command(''), '/dev/null'], env);
      expect(shown.code, shown.stdout).toBe(0);
      // The first record draws the bar (later ones within the redraw interval do not); then the summary.
      expect(shown.stdout).toMatch(/\[[#.]{30}\] +[\d.]+% +1 users/);
      expect(shown.stdout).toContain('would import 2');
      const quiet = await runCommand('script', ['-qec', command('--quiet'), '/dev/null'], env);
      expect(quiet.stdout).toContain('would import 2');
      expect(quiet.stdout).not.toMatch(/\[[#.]{30}\]/);
    } finally {
      dataDir.dispose();
    }
  });

  it.runIf(mysqlRuns)('AD-03: reads Better Auth from its MySQL database URL, the password from MYSQL_PWD; a URL that reaches nothing is one line naming neither URL nor password', async () => {
    const dataDir = makeTempDir('twofold-cli-import-mysql-');
    const name = uniqueName('twofold_ba_cli');
    const admin = new URL(testMysqlUrl ?? '');
    const password = decodeURIComponent(admin.password);
    const withoutPassword = new URL(admin);
    withoutPassword.password = '';
    withoutPassword.pathname = `/${name}`;
    const connection = await mysql.createConnection({ uri: admin.toString() });
    try {
      await connection.query(`create database ${name}`);
      const fromMysql = await makeBetterAuthExport(dir.path, [{ email: 'mya@example.com', password: 'my sql passphrase', name: 'Mya', totp: 'confirmed' }], { databaseUrl: new URL(`/${name}`, admin).toString() });
      const result = await twofold(dataDir.path, ['import', '--from', 'better-auth', withoutPassword.toString(), '--json'], { BETTER_AUTH_SECRET: fromMysql.secret, MYSQL_PWD: password });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ source: 'better-auth', read: 1, imported: 1, skipped: 0 });
      const unreachable = await twofold(dataDir.path, ['import', '--from', 'better-auth', 'mysql://someone@127.0.0.1:1/nothing'], { MYSQL_PWD: 'hunter2-not-shown' });
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toContain('the URL does not reach a Better Auth database');
      expect(unreachable.stderr).not.toContain('hunter2-not-shown');
      expect(unreachable.stderr).not.toMatch(/\n\s+at /);
      const urlForOtherSource = await twofold(dataDir.path, ['import', '--from', 'auth0', withoutPassword.toString()]);
      expect(urlForOtherSource.code).toBe(1);
      expect(urlForOtherSource.stderr).toContain('only --from better-auth reads a database URL');
    } finally {
      await connection.query(`drop database if exists ${name}`);
      await connection.end();
      dataDir.dispose();
    }
  });

  it('AD-20: mistakes are one line and exit code 1: an unknown source, a missing file, a file that is not the source\'s format', async () => {
    const dataDir = makeTempDir('twofold-cli-import-bad-');
    try {
      const unknown = await twofold(dataDir.path, ['import', '--from', 'okta', exported.file]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('--from must be one of better-auth, supabase, auth0, keycloak, csv');
      const missing = await twofold(dataDir.path, ['import', '--from', 'auth0', join(dir.path, 'nope.ndjson')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('is not a file');
      const notRealm = join(dir.path, 'not-realm.json');
      writeFileSync(notRealm, '[{"id": "1"}]');
      const realm = await twofold(dataDir.path, ['import', '--from', 'keycloak', notRealm]);
      expect(realm.code).toBe(1);
      expect(realm.stderr).toContain('the file is not a JSON object');
      const notSqlite = await twofold(dataDir.path, ['import', '--from', 'better-auth', notRealm]);
      expect(notSqlite.code).toBe(1);
      expect(notSqlite.stderr).toContain('is not a Better Auth SQLite database');
      for (const result of [unknown, missing, realm, notSqlite]) expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      dataDir.dispose();
    }
  });

  it('AD-30: Supabase secrets GoTrue encrypted open with its decryption keys from GOTRUE_SECURITY_DB_ENCRYPTION_DECRYPTION_KEYS (or --secret-env); the key is never printed; a malformed key is one line naming the variable', async () => {
    const dataDir = makeTempDir('twofold-cli-import-supabase-');
    try {
      const secret = new Secret({ size: 20 }).base32;
      const factorId = 'd1d1d1d1-0000-4000-8000-000000000001';
      const stored = encryptLikeGoTrue(factorId, secret, 'abc', gotrueTestKey);
      const file = join(dir.path, 'supabase-encrypted.csv');
      const hash = await bcryptHash('an encrypted factor', 4);
      writeFileSync(file, ['id,email,encrypted_password,totp_secrets', `d1d1d1d1-1111-4111-8111-111111111111,dora@example.com,${hash},"${factorId}:${stored.replace(/"/g, '""')}"`].join('\n'));
      const report = join(dir.path, 'supabase-report.jsonl');

      const withoutKeys = await twofold(dataDir.path, ['import', '--from', 'supabase', file, '--dry-run', '--report', report]);
      expect(withoutKeys.code, withoutKeys.stderr).toBe(0);
      expect(withoutKeys.stdout).toContain('secret_undecryptable: 1');
      expect(readFileSync(report, 'utf8')).toContain('GOTRUE_SECURITY_DB_ENCRYPTION_DECRYPTION_KEYS');

      const malformed = await twofold(dataDir.path, ['import', '--from', 'supabase', file], { GOTRUE_SECURITY_DB_ENCRYPTION_DECRYPTION_KEYS: `abc:${gotrueTestKey.slice(0, 30)}` });
      expect(malformed.code).toBe(1);
      expect(malformed.stderr).toContain('GOTRUE_SECURITY_DB_ENCRYPTION_DECRYPTION_KEYS is not GoTrue');
      expect(malformed.stderr).not.toMatch(/\n\s+at /);

      const imported = await twofold(dataDir.path, ['import', '--from', 'supabase', file, '--report', report, '--secret-env', 'SUPABASE_KEYS', '--json'], { SUPABASE_KEYS: `abc:${gotrueTestKey}`, TWOFOLD_LOG_LEVEL: 'debug' });
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 1, skipped: 0 });
      for (const text of [imported.stdout, imported.stderr, malformed.stdout, malformed.stderr, readFileSync(report, 'utf8')]) {
        expect(text).not.toContain(gotrueTestKey.slice(0, 30));
        expect(text).not.toContain(secret);
      }
    } finally {
      dataDir.dispose();
    }
  });
});
