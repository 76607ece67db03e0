// Importing a Better Auth user base: the export is made by Better Auth itself (npm, SQLite,
// twoFactor plugin), the import goes through the same pipeline as `twofold import`, and the
// imported people sign in to Twofold with their old password and the authenticator entry they
// already had.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importUsers, type ImportReportEntry } from '../../src/admin/import/import-users.js';
import { readSourceRecords } from '../../src/admin/import/read-source.js';
import { makeTempDir } from '../helpers/backend.js';
import { makeBetterAuthExport, signInAsImported, type BetterAuthExport } from '../helpers/better-auth-export.js';
import { expectProblem, postJson } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const ada = { email: 'ada@example.com', password: 'analytical engine 1843', name: 'Ada', totp: 'confirmed' as const };
const bob = { email: 'bob.smith+work@example.org', password: 'bobs own passphrase', name: 'Bob' };
const cyd = { email: 'cyd@example.net', password: 'never finished enrolling', name: 'Cyd', totp: 'unconfirmed' as const };

let dir: { path: string; dispose(): void };
let exported: BetterAuthExport;

beforeAll(async () => {
  dir = makeTempDir('twofold-better-auth-');
  exported = await makeBetterAuthExport(dir.path, [ada, bob, cyd]);
}, 60_000);
afterAll(() => dir.dispose());

async function runImport(t: TestTwofold, options: { dryRun?: boolean; secret?: string | undefined } = {}) {
  const entries: ImportReportEntry[] = [];
  const records = readSourceRecords('better-auth', exported.file, { betterAuthSecret: 'secret' in options ? options.secret : exported.secret, now: t.clock.now() });
  const summary = await importUsers(t.ctx, records, { source: 'better-auth', dryRun: options.dryRun ?? false, onEntry: (entry) => void entries.push(entry) });
  return { summary, entries };
}

describe('twofold import --from better-auth', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold();
  });
  afterAll(() => t.close());

  it('AD-03: imports every person of a real Better Auth database, with TOTP only where it was confirmed', async () => {
    const { summary, entries } = await runImport(t);
    expect(summary).toMatchObject({ read: 3, imported: 3, skipped: 0 });
    expect(entries.map((entry) => [entry.username, entry.totp_factors])).toEqual([
      ['ada', 1],
      ['bob.smith-work', 0],
      ['cyd', 0],
    ]);
    const stored = await t.ctx.db.selectFrom('users').select(['username', 'email', 'email_verified_at', 'password_hash']).orderBy('username').execute();
    expect(stored.map((row) => row.email)).toEqual([ada.email, bob.email, cyd.email]);
    expect(stored.every((row) => row.password_hash.startsWith('$scrypt$n=16384,r=16,p=1$'))).toBe(true);
    // Better Auth never verified these addresses: Twofold does not pretend it did.
    expect(stored.every((row) => row.email_verified_at === null)).toBe(true);
    // One audit event per person, naming the source and the source id (kept, never capped away).
    const imported = t.events.filter((event) => event.type === 'user.imported');
    expect(imported.map((event) => event.details?.['source'])).toEqual(['better-auth', 'better-auth', 'better-auth']);
    expect(new Set(imported.map((event) => event.userId))).toEqual(new Set(entries.map((entry) => entry.user_id)));
  });

  it('AD-03: an imported person signs in with their Better Auth password and the authenticator entry they already had; the hash becomes argon2id', async () => {
    const verified = await signInAsImported(t, exported, ada, 'ada');
    expect(typeof verified.json().access_token).toBe('string');
    const row = await t.ctx.db.selectFrom('users').select('password_hash').where('username', '=', 'ada').executeTakeFirstOrThrow();
    expect(row.password_hash.startsWith('$argon2id$')).toBe(true);
    // And the new hash still takes the same password.
    t.clock.advanceSeconds(30);
    expect((await postJson(t.app, '/v1/login', { username: 'ada', password: ada.password })).statusCode).toBe(200);
  });

  it('AD-03: a wrong password against an imported scrypt hash is an ordinary invalid_credentials', async () => {
    expectProblem(await postJson(t.app, '/v1/login', { username: 'bob.smith-work', password: 'not bobs passphrase' }), 401, 'invalid_credentials');
    const row = await t.ctx.db.selectFrom('users').select('password_hash').where('username', '=', 'bob.smith-work').executeTakeFirstOrThrow();
    expect(row.password_hash.startsWith('$scrypt$')).toBe(true);
  });

  it('AD-03: a person without a confirmed factor is asked to enroll one', async () => {
    const login = await postJson(t.app, '/v1/login', { username: 'cyd', password: cyd.password });
    expect(login.statusCode, login.body).toBe(200);
    expect(login.json().next).toBe('enroll');
  });

  it('AD-21: a second run imports nobody twice: every person is skipped as already_imported', async () => {
    const before = await t.ctx.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const { summary, entries } = await runImport(t);
    expect(summary).toMatchObject({ read: 3, imported: 0, skipped: 3, skipped_by_reason: { already_imported: 3 } });
    expect(entries.every((entry) => entry.user_id !== undefined)).toBe(true);
    const after = await t.ctx.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});

describe('twofold import --from better-auth --dry-run, and without the secret', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold();
  });
  afterAll(() => t.close());

  it('AD-22: a dry run reports what it would import and writes nothing', async () => {
    const { summary, entries } = await runImport(t, { dryRun: true });
    expect(summary).toMatchObject({ dry_run: true, read: 3, imported: 3, skipped: 0 });
    expect(entries.every((entry) => entry.status === 'would_import')).toBe(true);
    expect(t.events.filter((event) => event.type === 'user.imported')).toEqual([]);
    expect(await t.ctx.db.selectFrom('users').selectAll().execute()).toEqual([]);
    expect(await t.ctx.db.selectFrom('factors').selectAll().execute()).toEqual([]);
    expect(await t.ctx.db.selectFrom('imported_users').selectAll().execute()).toEqual([]);
  });

  it('AD-23: without Better Auth\'s secret a person with TOTP is skipped whole (never imported without their second factor); the others come in', async () => {
    const { summary, entries } = await runImport(t, { secret: undefined });
    expect(summary).toMatchObject({ imported: 2, skipped: 1, skipped_by_reason: { secret_undecryptable: 1 } });
    expect(entries[0]).toMatchObject({ status: 'skipped', reason: 'secret_undecryptable' });
    expect(await t.ctx.db.selectFrom('users').select('username').where('username', '=', 'ada').executeTakeFirst()).toBeUndefined();
    // The wrong secret is refused the same way.
    const wrong = await runImport(t, { secret: 'another deployment entirely' });
    expect(wrong.entries[0]).toMatchObject({ status: 'skipped', reason: 'secret_undecryptable' });
  });
});
