// The `twofold` command — serve, migrate, keys list|rotate, users
// list|show|reset-factors|unlock|grant-role|revoke-role — each with --help, run as the compiled binary against a data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, postJson, signUp } from '../helpers/flow.js';
import { runCommand } from '../helpers/process.js';
import { startTestTwofold, testEnvironment } from '../helpers/twofold.js';

const dataDir = mkdtempSync(join(tmpdir(), 'twofold-cli-'));
const env = testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn' });
const twofold = (...args: string[]) => runCommand(process.execPath, ['dist/cli/main.js', ...args], env);
let user: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  const t = await startTestTwofold({ dataDir });
  user = await signUp(t);
  // An SMS enrollment leaves a message in the development outbox.
  const enrolled = await postJson(t.app, '/v1/factors', { type: 'sms', phone: '+14155550199' }, bearer(user.accessToken));
  expect(enrolled.statusCode, enrolled.body).toBe(201);
  await t.app.close();
  await t.twofold.close();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('twofold CLI', () => {
  it.each([
    [[], ['serve', 'migrate', 'keys', 'users']],
    [['serve'], ['start the HTTP server']],
    [['migrate'], ['migrations']],
    [['keys'], ['list', 'rotate']],
    [['keys', 'list'], ['--json']],
    [['keys', 'rotate'], ['new signing key']],
    [['users'], ['list', 'show', 'reset-factors']],
    [['users', 'list'], ['--limit', '--after']],
    [['users', 'show'], ['<user>']],
    [['users', 'reset-factors'], ['--yes']],
    [['outbox'], ['--channel', '--to', '--limit']],
    [['audit'], ['--user', '--type', '--since', '--limit', '--before', 'prune']],
    [['users', 'unlock'], ['<user>']],
    [['users', 'grant-role'], ['<user>', '<role>', 'superadmin']],
    [['users', 'revoke-role'], ['<user>', '<role>']],
    [['import'], ['--from', '--dry-run', '--report', '--secret-env', '--quiet']],
  ])('twofold %j --help explains itself', async (command, expected) => {
    const result = await twofold(...command, '--help');
    expect(result.code).toBe(0);
    for (const text of expected) expect(result.stdout).toContain(text);
  });

  it('migrate reports an up-to-date database', async () => {
    const result = await twofold('migrate');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('up to date');
  });

  it('migrate applies the migrations to a fresh database', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'twofold-cli-fresh-'));
    try {
      const result = await runCommand(process.execPath, ['dist/cli/main.js', 'migrate'], testEnvironment(fresh));
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('applied: 0001-initial');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('users list and users show describe the user without secrets', async () => {
    const list = await twofold('users', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: user.userId, username: user.username })]);
    const show = await twofold('users', 'show', user.username, '--json');
    expect(show.code, show.stderr).toBe(0);
    const details = JSON.parse(show.stdout);
    expect(details).toMatchObject({ id: user.userId, recovery_codes_remaining: 10, failed_attempts: 0, has_password: true });
    // Both factors were created at the same (test) instant: compare regardless of order.
    expect(details.factors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: user.factorId, status: 'active' }),
        expect.objectContaining({ type: 'sms', status: 'pending', destination: '+•••••••••99' }),
      ]),
    );
    expect(details.factors).toHaveLength(2);
    expect(show.stdout).not.toContain(user.secret);
    const table = await twofold('users', 'show', user.userId);
    expect(table.stdout).toContain(user.factorId);
  });

  it('users show of an unknown user fails with a clear message', async () => {
    const result = await twofold('users', 'show', 'nobody-at-all');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No user "nobody-at-all"');
  });

  it('keys rotate makes a new key current and keeps the old one published', async () => {
    const before = JSON.parse((await twofold('keys', 'list', '--json')).stdout);
    expect(before).toHaveLength(1);
    const rotate = await twofold('keys', 'rotate', '--json');
    expect(rotate.code, rotate.stderr).toBe(0);
    const { previous_kid: previousKid, kid } = JSON.parse(rotate.stdout);
    expect(previousKid).toBe(before[0].kid);
    const after = JSON.parse((await twofold('keys', 'list', '--json')).stdout);
    expect(after.map((key: { kid: string; state: string }) => [key.kid, key.state])).toEqual(
      expect.arrayContaining([
        [kid, 'current'],
        [previousKid, 'retired (still published)'],
      ]),
    );
  });

  it('users reset-factors needs --yes, then removes factors and codes and ends sessions', async () => {
    const refused = await twofold('users', 'reset-factors', user.username);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const reset = await twofold('users', 'reset-factors', user.username, '--yes', '--json');
    expect(reset.code, reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ factorsRemoved: 2, recoveryCodesRemoved: 10, sessionsRevoked: 1 });
    const show = JSON.parse((await twofold('users', 'show', user.username, '--json')).stdout);
    expect(show).toMatchObject({ factors: [], recovery_codes_remaining: 0 });
  });

  it('OB-01: outbox opens the messages the development provider kept sealed, whose rows hold no code', async () => {
    const result = await twofold('outbox', '--json', '--channel', 'sms');
    expect(result.code, result.stderr).toBe(0);
    const messages = JSON.parse(result.stdout);
    expect(messages).toEqual([expect.objectContaining({ channel: 'sms', to: '+14155550199', purpose: 'enroll' })]);
    expect(messages[0].text).toMatch(/code to confirm this phone number is \d{6}/);
    const code = /is (\d{6})/.exec(messages[0].text)![1]!;
    const sqlite = new BetterSqlite3(join(dataDir, 'twofold.db'), { readonly: true });
    try {
      const rows = sqlite.prepare('select * from outbox').all();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(code);
      expect(JSON.stringify(rows)).not.toContain('confirm this phone number');
    } finally {
      sqlite.close();
    }
    const table = await twofold('outbox');
    expect(table.stdout).toContain(code);
    expect(JSON.parse((await twofold('outbox', '--json', '--to', '+10000000000')).stdout)).toEqual([]);
    expect((await twofold('outbox', '--channel', 'fax')).code).toBe(2);
  });

  it('audit lists security events, filtered by user and type; audit prune applies the retention', async () => {
    const all = await twofold('audit', '--json', '--user', user.username);
    expect(all.code, all.stderr).toBe(0);
    const events = JSON.parse(all.stdout);
    expect(events.map((event: { type: string }) => event.type)).toEqual(expect.arrayContaining(['user.registered', 'factor.activated', 'login.completed']));
    expect(events.every((event: { user_id: string }) => event.user_id === user.userId)).toBe(true);
    const filtered = JSON.parse((await twofold('audit', '--json', '--type', 'user.registered')).stdout);
    expect(filtered.every((event: { type: string }) => event.type === 'user.registered')).toBe(true);
    expect(all.stdout).not.toContain(user.secret);
    const prune = await twofold('audit', 'prune');
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toMatch(/removed \d+ event\(s\) older than 365 days; \d+ beyond TWOFOLD_AUDIT_EVENTS_PER_USER; \d+ timed-out session\(s\) retired/);
    expect((await twofold('audit', '--since', 'yesterday-ish')).code).toBe(1);
  });

  it('users unlock lifts a lock and records it', async () => {
    const result = await twofold('users', 'unlock', user.username, '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ user: { username: user.username }, wasLocked: false });
    const audit = JSON.parse((await twofold('audit', '--json', '--type', 'admin.account_unlocked')).stdout);
    expect(audit).toEqual([expect.objectContaining({ user_id: user.userId })]);
  });

  it('AD-01: users grant-role and revoke-role give and take an admin role, recorded with the operator; an unknown role is refused', async () => {
    const granted = await twofold('users', 'grant-role', user.username, 'support', '--json');
    expect(granted.code, granted.stderr).toBe(0);
    expect(JSON.parse(granted.stdout)).toMatchObject({ user: { username: user.username }, changed: true });
    expect((await twofold('users', 'grant-role', user.userId, 'support')).stdout).toContain('already holds support');
    const audit = JSON.parse((await twofold('audit', '--json', '--type', 'admin.role_granted')).stdout);
    // Both grants are recorded, the second as no change.
    expect(audit).toHaveLength(2);
    expect(audit).toContainEqual(expect.objectContaining({ user_id: user.userId, details: expect.objectContaining({ role: 'support', via: 'cli', changed: true }) }));
    const revoked = await twofold('users', 'revoke-role', user.username, 'support');
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked support from ${user.username}`);
    const unknown = await twofold('users', 'grant-role', user.username, 'root');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('Unknown role "root"');
  });

  it('a mistyped NODE_ENV is a warning on stderr (the answer on stdout stays parseable)', async () => {
    const result = await runCommand(process.execPath, ['dist/cli/main.js', 'users', 'list', '--json'], { ...env, NODE_ENV: 'prodution' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('twofold: warning: NODE_ENV="prodution" is neither production, development nor test: running in development mode');
    expect(JSON.parse(result.stdout)).toBeInstanceOf(Array);
    expect((await twofold('users', 'list', '--json')).stderr).not.toContain('warning');
  });

  it('a configuration mistake is one line naming the variable', async () => {
    const result = await runCommand(process.execPath, ['dist/cli/main.js', 'migrate'], { ...env, TWOFOLD_SIGNING_ALG: 'HS256' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^twofold: configuration error: TWOFOLD_SIGNING_ALG: /);
  });

  it('an unknown command is named as one, followed by the list of commands (not "too many arguments for serve")', async () => {
    const result = await twofold('bogus');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: unknown command 'bogus'\n/);
    for (const command of ['serve', 'migrate', 'keys', 'users', 'audit', 'outbox']) expect(result.stderr).toMatch(new RegExp(`\\n  ${command} `));
    expect(result.stderr).not.toContain('too many arguments');
    expect(result.stdout).toBe('');
  });

  it.each([
    [['users', 'list']],
    [['audit']],
    [['outbox']],
  ])('twofold %j refuses a --limit that is not a whole number from 1 to 10000, before opening the database', async (command) => {
    const values = ['abc', '-5', '0', '1.5', '10001'];
    const [fine, ...refused] = await Promise.all([twofold(...command, '--limit', '2', '--json'), ...values.map((value) => twofold(...command, '--limit', value))]);
    refused.forEach((result, index) => {
      expect(result.code, `--limit ${values[index]}`).toBe(1);
      expect(result.stderr).toContain(`option '--limit <n>' argument '${values[index]}' is invalid. Use a whole number from 1 to 10000.`);
      expect(result.stderr).not.toMatch(/SqliteError|\n\s+at /);
    });
    expect(fine!.code, fine!.stderr).toBe(0);
    expect(JSON.parse(fine!.stdout).length).toBeLessThanOrEqual(2);
  }, 90_000);
});
