// What people and clients typed reaches an operator's terminal through
// `twofold` — a factor's label, an address, a user agent, an event's details. Values planted
// straight into the database (as an old row, a direct write or a library caller's bug would leave
// them) carry ANSI sequences (ESC and the 8-bit CSI), BEL, DEL, C1 controls, a bidi override and
// line breaks; every command prints them as visible escapes — in tables, lines and errors — and in
// --json as \uXXXX escapes that parse back to the very same value.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containsUnsafeCharacters } from '../../src/core/text/unsafe-characters.js';
import { signUp } from '../helpers/flow.js';
import { runCommand } from '../helpers/process.js';
import { startTestTwofold, testEnvironment } from '../helpers/twofold.js';

const dataDir = mkdtempSync(join(tmpdir(), 'twofold-cli-hostile-'));
// NO_COLOR: the only escape sequences left in the output would be the planted ones.
const env = { ...testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn' }), NO_COLOR: '1' };
const twofold = (...args: string[]) => runCommand(process.execPath, ['dist/cli/main.js', ...args], env);

/** Clears the screen, retitles the window, rings, turns text red (8-bit CSI), reverses the rest, breaks lines. */
const hostile = 'Key\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202egnp.exe\u0085\u007f\r\nfake line';
const hostileEmail = `ops\u202e@example.com\u001b[8m`;
let user: Awaited<ReturnType<typeof signUp>>;

/** Everything a terminal could act on, other than the line breaks the command itself writes. */
const actsOnTerminal = (output: string) => containsUnsafeCharacters(output.replaceAll('\n', ''));

beforeAll(async () => {
  const t = await startTestTwofold({ dataDir });
  user = await signUp(t);
  await t.app.close();
  await t.twofold.close();
  const sqlite = new BetterSqlite3(join(dataDir, 'twofold.db'));
  try {
    sqlite.prepare('update factors set label = ? where id = ?').run(hostile, user.factorId);
    sqlite.prepare('update users set email = ? where id = ?').run(hostileEmail, user.userId);
    sqlite
      .prepare('insert into security_events (id, type, user_id, session_id, factor_id, ip, user_agent, details, created_at) values (?, ?, ?, null, null, ?, ?, ?, ?)')
      .run('evt_hostile', 'webauthn.registration_failed', user.userId, `203.0.113.9${hostile}`, hostile, JSON.stringify({ reason: hostile }), Date.now());
  } finally {
    sqlite.close();
  }
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('twofold prints what others typed escaped, never raw', () => {
  it('users show: a planted factor label and address are visible escapes in the table, nothing a terminal obeys', async () => {
    const result = await twofold('users', 'show', user.userId);
    expect(result.code, result.stderr).toBe(0);
    expect(actsOnTerminal(result.stdout)).toBe(false);
    expect(result.stdout).toContain('Key\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202egnp.exe\\x85\\x7f\\x0d\\x0afake line');
    expect(result.stdout).toContain('ops\\u202e@example.com\\x1b[8m');
    // The label stays on its row: no line of the output starts with the planted "fake line".
    expect(result.stdout.split('\n').some((line) => line.startsWith('fake line'))).toBe(false);
  });

  it('users show --json and users list --json: \\u escapes that parse back to the exact stored values', async () => {
    for (const [args, escaped] of [
      [['users', 'show', user.userId, '--json'], '\\u009b31m\\u202egnp.exe'],
      [['users', 'list', '--json'], 'ops\\u202e@example.com\\u001b[8m'],
    ] as const) {
      const result = await twofold(...args);
      expect(result.code, result.stderr).toBe(0);
      expect(actsOnTerminal(result.stdout), args.join(' ')).toBe(false);
      expect(result.stdout).toContain(escaped);
    }
    const details = JSON.parse((await twofold('users', 'show', user.userId, '--json')).stdout);
    expect(details.email).toBe(hostileEmail);
    expect(details.factors.find((factor: { id: string }) => factor.id === user.factorId).label).toBe(hostile);
    const list = await twofold('users', 'list');
    expect(actsOnTerminal(list.stdout)).toBe(false);
    expect(list.stdout).toContain('ops\\u202e@example.com');
  });

  it('audit: a planted IP, user agent and event details are escaped in the table and in --json', async () => {
    const table = await twofold('audit', '--user', user.userId);
    expect(table.code, table.stderr).toBe(0);
    expect(actsOnTerminal(table.stdout)).toBe(false);
    expect(table.stdout).toContain('203.0.113.9Key\\x1b[2J');
    const json = await twofold('audit', '--user', user.userId, '--json');
    expect(actsOnTerminal(json.stdout)).toBe(false);
    const planted = JSON.parse(json.stdout).find((event: { type: string }) => event.type === 'webauthn.registration_failed');
    expect(planted).toMatchObject({ ip: `203.0.113.9${hostile}`, details: { reason: hostile } });
  });

  it('lines and errors: unlock names the user escaped; an unknown user given with escapes is echoed escaped on stderr', async () => {
    const sqlite = new BetterSqlite3(join(dataDir, 'twofold.db'));
    try {
      sqlite.prepare('update users set username = ? where id = ?').run(`${user.username}\u001b[31m\u202e`, user.userId);
    } finally {
      sqlite.close();
    }
    const unlock = await twofold('users', 'unlock', user.userId);
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(actsOnTerminal(unlock.stdout)).toBe(false);
    expect(unlock.stdout).toContain(`${user.username}\\x1b[31m\\u202e`);
    const missing = await twofold('users', 'show', 'usr_\u001b[2Jnobody');
    expect(missing.code).toBe(1);
    expect(actsOnTerminal(missing.stderr)).toBe(false);
    expect(missing.stderr).toContain('usr_\\x1b[2Jnobody');
  });
});
