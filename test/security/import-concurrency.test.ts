// Two or three `twofold import` runs of the same file at once — an operator starting it twice, or
// on two hosts against one PostgreSQL (AD-28): every person exists once, the ledger has one row
// per source id, no run fails, and the reports together account for every person (the run that
// lost a person to another reports them as already_imported). Runs as real CLI processes (the
// only way two SQLite writers meet) and inside one process (on PostgreSQL, one pool).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReportEntry } from '../../src/admin/import/import-users.js';
import { makeTempDir } from '../helpers/backend.js';
import { importFile, signInImported } from '../helpers/import-run.js';
import { runCommand } from '../helpers/process.js';
import { startTestTwofold, testEnvironment, type TestTwofold } from '../helpers/twofold.js';

const people = 1500;
let dir: { path: string; dispose(): void };
let bcrypt: string;
const totpSecret = new Secret({ size: 20 }).base32;
beforeAll(async () => {
  dir = makeTempDir('twofold-import-concurrency-');
  bcrypt = await bcryptHash('the same password for everyone', 4);
});
afterAll(() => dir.dispose());

/** A Twofold CSV of `people` people whose source ids start with `prefix`; the first has a TOTP secret. */
function writePeople(prefix: string): string {
  const file = join(dir.path, `${prefix}.csv`);
  const rows = Array.from({ length: people }, (_, index) => `${prefix}-${index},${prefix}-user-${index},${prefix}-${index}@example.com,${bcrypt},${index === 0 ? totpSecret : ''}`);
  writeFileSync(file, ['id,username,email,password_hash,totp_secret', ...rows].join('\n'));
  return file;
}

async function expectEachPersonOnce(t: TestTwofold, prefix: string, reports: ImportReportEntry[][]): Promise<void> {
  const users = await t.ctx.db.selectFrom('users').select('username').where('username', 'like', `${prefix}-user-%`).execute();
  expect(users).toHaveLength(people);
  const ledger = await t.ctx.db.selectFrom('imported_users').select(['source_id', 'user_id']).where('source', '=', 'csv').where('source_id', 'like', `${prefix}-%`).execute();
  expect(ledger).toHaveLength(people);
  expect(new Set(ledger.map((row) => row.source_id)).size).toBe(people);
  // Every ledger row names a user that exists (the rows of a lost race were rolled back whole).
  const ledgerUsers = await t.ctx.db.selectFrom('imported_users').innerJoin('users', 'users.id', 'imported_users.user_id').select('users.id').where('imported_users.source_id', 'like', `${prefix}-%`).execute();
  expect(ledgerUsers).toHaveLength(people);
  // Every run accounts for every person; together they imported each exactly once.
  for (const entries of reports) {
    expect(entries).toHaveLength(people);
    for (const entry of entries) expect(entry.status === 'imported' || entry.reason === 'already_imported', JSON.stringify(entry)).toBe(true);
  }
  const imported = reports.flat().filter((entry) => entry.status === 'imported');
  expect(imported).toHaveLength(people);
  expect(new Set(imported.map((entry) => entry.source_id)).size).toBe(people);
  // The run that lost a person names the user the other run made.
  const byUser = new Map(ledger.map((row) => [row.source_id, row.user_id]));
  for (const entry of reports.flat()) expect(entry.user_id).toBe(byUser.get(entry.source_id!));
  const factors = await t.ctx.db.selectFrom('factors').innerJoin('users', 'users.id', 'factors.user_id').select('factors.id').where('users.username', '=', `${prefix}-user-0`).execute();
  expect(factors).toHaveLength(1);
  await signInImported(t, `${prefix}-user-0`, 'the same password for everyone', totpSecret);
}

describe('concurrent imports of one file', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold();
  });
  afterAll(async () => {
    await t.close();
  });

  it('AD-28: three `twofold import` processes of the same file against one database: each person once, one ledger row each, no run fails, the reports account for everyone', async () => {
    const file = writePeople('cli');
    const env = testEnvironment(t.dataDir, { ...t.storage.env, TWOFOLD_LOG_LEVEL: 'warn' });
    const runs = await Promise.all(
      [1, 2, 3].map((run) => runCommand(process.execPath, ['dist/cli/main.js', 'import', '--from', 'csv', file, '--report', join(dir.path, `cli-report-${run}.jsonl`), '--json'], env)),
    );
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      // No stack trace, no error line: a person the other run took first is no failure.
      expect(run.stderr).not.toMatch(/error|\n\s+at /i);
      expect(JSON.parse(run.stdout)).toMatchObject({ source: 'csv', read: people, skipped_by_reason: expect.not.objectContaining({ username_taken: expect.anything() }) });
    }
    const summaries = runs.map((run) => JSON.parse(run.stdout) as { imported: number });
    expect(summaries.reduce((sum, summary) => sum + summary.imported, 0)).toBe(people);
    const reports = [1, 2, 3].map((run) => readFileSync(join(dir.path, `cli-report-${run}.jsonl`), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as ImportReportEntry));
    await expectEachPersonOnce(t, 'cli', reports);
  }, 120_000);

  it('AD-28: three imports of the same file at once in one process (on PostgreSQL each on its own pooled connection): each person once, no run fails', async () => {
    const file = writePeople('pool');
    const runs = await Promise.all([1, 2, 3].map(() => importFile(t, 'csv', file)));
    expect(runs.map((run) => run.summary.read)).toEqual([people, people, people]);
    await expectEachPersonOnce(
      t,
      'pool',
      runs.map((run) => run.entries),
    );
  }, 120_000);
});
