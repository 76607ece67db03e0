// Attacks on `twofold import` (AD-03 and AD-20..AD-27): a crafted export file must never stall the
// server, crash the import, half-import a person, or plant a formula in the report an operator
// opens in a spreadsheet.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImportReport } from '../../src/admin/import/import-report.js';
import { importUsers } from '../../src/admin/import/import-users.js';
import { JsonShapeError, readJsonArrayElements } from '../../src/admin/import/json-array-elements.js';
import { readSourceRecords } from '../../src/admin/import/read-source.js';
import { readBoundedLines } from '../../src/admin/import/bounded-lines.js';
import { parseCsvLine } from '../../src/admin/import/csv-records.js';
import { makeTempDir } from '../helpers/backend.js';
import { expectProblem, postJson } from '../helpers/flow.js';
import { importFile } from '../helpers/import-run.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
let dir: { path: string; dispose(): void };
let bcrypt: string;
beforeAll(async () => {
  t = await startTestTwofold();
  dir = makeTempDir('twofold-import-attacks-');
  bcrypt = await bcryptHash('a perfectly fine password', 4);
});
afterAll(async () => {
  await t.close();
  dir.dispose();
});

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
function writeNdjson(name: string, lines: unknown[]): string {
  const file = join(dir.path, name);
  writeFileSync(file, `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`);
  return file;
}
async function userCount(): Promise<number> {
  return Number((await t.ctx.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
}

describe('import attacks', () => {
  it('AD-03: absurd hash cost parameters are refused at import with the reason, and signing in as that person stays fast', async () => {
    const salt = randomBytes(16);
    const absurd = {
      'bcrypt-31': `$2b$31$${bcrypt.slice(7)}`,
      'scrypt-2^30': `$scrypt$n=1073741824,r=8,p=1$${b64(salt)}$${b64(randomBytes(32))}`,
      'scrypt-p': `$scrypt$n=16384,r=16,p=65535$${b64(salt)}$${b64(randomBytes(32))}`,
      'pbkdf2-2e9': `$pbkdf2-sha512$i=2000000000$${b64(salt)}$${b64(randomBytes(64))}`,
      'argon2-4GiB': `$argon2id$v=19$m=4194304,t=3,p=1$${b64(salt)}$${b64(randomBytes(32))}`,
      'argon2-t': `$argon2i$v=19$m=4096,t=4000000,p=1$${b64(salt)}$${b64(randomBytes(32))}`,
    };
    const file = writeNdjson(
      'absurd.ndjson',
      Object.entries(absurd).map(([name, hash]) => ({ user_id: `auth0|${name}`, username: `cost-${name.replace('^', '')}`, password_hash: hash })),
    );
    const { summary, entries } = await importFile(t, 'auth0', file);
    expect(summary).toMatchObject({ imported: 0, skipped: 6, skipped_by_reason: { hash_cost_too_high: 6 } });
    for (const entry of entries) expect(entry.detail).toMatch(/cost|iterations|N|memory|time|p /);
    const startedAt = performance.now();
    expectProblem(await postJson(t.app, '/v1/login', { username: 'cost-bcrypt-31', password: 'a perfectly fine password' }), 401, 'invalid_credentials');
    expect(performance.now() - startedAt).toBeLessThan(1000);
  });

  it('AD-03: a hash beyond the caps that reached the database some other way is never computed: the sign-in is refused at once', async () => {
    const file = writeNdjson('fine.ndjson', [{ user_id: 'auth0|tampered', username: 'tampered', password_hash: bcrypt }]);
    await importFile(t, 'auth0', file);
    const planted = [`$2b$31$${bcrypt.slice(7)}`, `$argon2id$v=19$m=4194304,t=1000,p=1$${b64(randomBytes(16))}$${b64(randomBytes(32))}`];
    for (const hash of planted) {
      await t.ctx.db.updateTable('users').set({ password_hash: hash }).where('username', '=', 'tampered').execute();
      const startedAt = performance.now();
      expectProblem(await postJson(t.app, '/v1/login', { username: 'tampered', password: 'a perfectly fine password' }), 401, 'invalid_credentials');
      expect(performance.now() - startedAt).toBeLessThan(1000);
    }
    // The server answers other requests meanwhile as always.
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('AD-20: wrong types in a record skip that record as malformed_record; the others come in', async () => {
    const file = writeNdjson('types.ndjson', [
      { user_id: { $ne: null }, password_hash: bcrypt },
      { user_id: 'auth0|t1', email: 42, password_hash: bcrypt },
      { user_id: 'auth0|t2', email_verified: 'yes please', password_hash: bcrypt },
      { user_id: 'auth0|t3', password_hash: ['$2b$'] },
      { user_id: 'auth0|t4', username: 'types-4', password_hash: bcrypt, mfa_factors: 'totp' },
      { user_id: 'auth0|t5', username: 'types-5', password_hash: bcrypt, custom_password_hash: 7 },
      '[1, 2, 3]',
      'not json at all {',
      'null',
      { user_id: 'auth0|ok', username: 'types-ok', password_hash: bcrypt },
    ]);
    const { summary, entries } = await importFile(t, 'auth0', file);
    expect(summary).toMatchObject({ read: 10, imported: 2 });
    expect(entries.filter((entry) => entry.status === 'skipped').every((entry) => entry.reason === 'malformed_record' || entry.reason === 'missing_id')).toBe(true);
    // custom_password_hash is only read when there is no plain hash: types-5 came in on its bcrypt.
    expect(entries.filter((entry) => entry.status === 'imported').map((entry) => entry.username)).toEqual(['types-5', 'types-ok']);
    const keycloak = join(dir.path, 'types-realm.json');
    writeFileSync(keycloak, JSON.stringify({ realm: 'x', users: [{ id: 'k1', username: 'kc-1', credentials: 'password' }, { id: 'k2', username: 'kc-2', credentials: [{ type: 'password', secretData: { value: 1 }, credentialData: '{}' }] }, 5] }));
    const realm = await importFile(t, 'keycloak', keycloak);
    expect(realm.summary).toMatchObject({ read: 3, imported: 0, skipped_by_reason: { malformed_record: 3 } });
  });

  it('AD-25: a huge line, record or array element is skipped as record_too_large and the file goes on', async () => {
    const hugeLine = JSON.stringify({ user_id: 'auth0|huge', password_hash: bcrypt, padding: 'x'.repeat(5 * 1024 * 1024) });
    const ndjson = writeNdjson('huge.ndjson', [hugeLine, { user_id: 'auth0|after-huge', username: 'after-huge', password_hash: bcrypt }]);
    const { summary, entries } = await importFile(t, 'auth0', ndjson);
    expect(entries[0]).toMatchObject({ position: 1, status: 'skipped', reason: 'record_too_large' });
    expect(summary).toMatchObject({ imported: 1 });

    // A CSV quoted field spanning many lines is capped as it grows, skipped to its closing quote,
    // and the next record is read as usual; one that never closes ends the file as one refused record.
    const csv = join(dir.path, 'huge.csv');
    writeFileSync(csv, `id,email,password_hash\n"open${'\nmore'.repeat(20_000)}\nend",x@example.com,${bcrypt}\nz2,z2@example.com,${bcrypt}\n`);
    const fromCsv = await importFile(t, 'csv', csv);
    expect(fromCsv.entries.map((entry) => entry.reason ?? entry.status)).toEqual(['record_too_large', 'imported']);
    const unclosed = join(dir.path, 'unclosed.csv');
    writeFileSync(unclosed, `id,email,password_hash\n"open${'\nmore'.repeat(20_000)}\nz3,z3@example.com,${bcrypt}\n`);
    expect((await importFile(t, 'csv', unclosed)).entries.map((entry) => entry.reason)).toEqual(['record_too_large']);

    const realm = join(dir.path, 'huge-realm.json');
    writeFileSync(realm, JSON.stringify({ realm: 'x', users: [{ id: 'big', username: 'big', attributes: { blob: ['y'.repeat(200_000)] } }, { id: 'small', username: 'kc-small', credentials: [] }] }));
    const fromRealm = await importFile(t, 'keycloak', realm);
    expect(fromRealm.entries.map((entry) => entry.reason)).toEqual(['record_too_large', 'no_password']);
  });

  it('AD-25: a 256 MB line without a newline streams past in bounded memory', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    let peakArrayBuffers = 0;
    const before = process.memoryUsage().arrayBuffers;
    // The same chunk object every time: anything the reader keeps of it is a copy it made.
    const source = Readable.from(
      (function* () {
        for (let index = 0; index < 256; index += 1) {
          peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
          yield chunk;
        }
        yield Buffer.from('\n{"after": true}\n');
      })(),
    );
    const lines: unknown[] = [];
    for await (const line of readBoundedLines(source)) lines.push('tooLarge' in line ? 'too large' : line.text);
    expect(lines).toEqual(['too large', '{"after": true}']);
    expect(peakArrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('AD-25: JSON that is not the documented shape, or ends mid-value, stops the import with a clear error after the records before it', async () => {
    const elements = async (text: string, property: string | null) => {
      const seen: string[] = [];
      for await (const element of readJsonArrayElements(Readable.from([Buffer.from(text)]), property)) seen.push('text' in element ? element.text : 'too large');
      return seen;
    };
    expect(await elements('{"realm":"a","users":[{"id":"1"},{"id":"2","x":"]}"}],"clients":[{"id":"c"}]}', 'users')).toEqual(['{"id":"1"}', '{"id":"2","x":"]}"}']);
    expect(await elements('[{"a":[1,{"b":"\\"}"}]},"s",3]', null)).toEqual(['{"a":[1,{"b":"\\"}"}]}', '"s"', '3']);
    await expect(elements('[1, 2]', 'users')).rejects.toBeInstanceOf(JsonShapeError);
    await expect(elements('{"users":[{"id":"1"},{"id":', 'users')).rejects.toBeInstanceOf(JsonShapeError);
    await expect(elements('{"realm":"x"}', 'users')).rejects.toBeInstanceOf(JsonShapeError);
  });

  it('AD-26: a half-valid person (good password, broken TOTP secret) is skipped whole: no user, no factor, no ledger row', async () => {
    const before = await userCount();
    const file = writeNdjson('half.ndjson', [
      { user_id: 'auth0|half', username: 'half-valid', password_hash: bcrypt, mfa_factors: [{ totp: { secret: new Secret({ size: 20 }).base32 } }, { totp: { secret: 'not*base32!' } }] },
    ]);
    const { entries } = await importFile(t, 'auth0', file);
    expect(entries[0]).toMatchObject({ status: 'skipped', reason: 'unsupported_totp' });
    expect(await userCount()).toBe(before);
    expect(await t.ctx.db.selectFrom('imported_users').selectAll().where('source_id', '=', 'auth0|half').execute()).toEqual([]);
  });

  it('AD-26: a write failing in the middle of a person rolls that person back whole; a re-run completes the file without duplicates', async () => {
    const secrets = [new Secret({ size: 20 }).base32, new Secret({ size: 20 }).base32];
    const file = writeNdjson('fault.ndjson', [
      { user_id: 'auth0|f1', username: 'fault-1', password_hash: bcrypt },
      { user_id: 'auth0|f2', username: 'fault-2', password_hash: bcrypt, mfa_factors: secrets.map((secret) => ({ totp: { secret } })) },
      { user_id: 'auth0|f3', username: 'fault-3', password_hash: bcrypt },
    ]);
    // Writing fault-2's second factor fails (the sealing step throws, as a missing encryption key
    // would): the pipeline's transaction is what must undo fault-2's user row and first factor.
    const original = t.ctx.secretBox.seal.bind(t.ctx.secretBox);
    let seals = 0;
    const box = t.ctx.secretBox as { seal: typeof original };
    box.seal = (plain, aad) => {
      seals += 1;
      if (seals === 2) throw new Error('injected failure while writing fault-2');
      return original(plain, aad);
    };
    try {
      await expect(importFile(t, 'auth0', file)).rejects.toThrow('injected failure');
    } finally {
      box.seal = original;
    }
    const names = async () => (await t.ctx.db.selectFrom('users').select('username').where('username', 'like', 'fault-%').orderBy('username').execute()).map((row) => row.username);
    expect(await names()).toEqual(['fault-1']);
    expect(await t.ctx.db.selectFrom('factors').innerJoin('users', 'users.id', 'factors.user_id').select('factors.id').where('users.username', '=', 'fault-2').execute()).toEqual([]);
    const rerun = await importFile(t, 'auth0', file);
    expect(rerun.entries.map((entry) => entry.reason ?? entry.status)).toEqual(['already_imported', 'imported', 'imported']);
    expect(await names()).toEqual(['fault-1', 'fault-2', 'fault-3']);
  });

  it('AD-24: the CSV report neutralizes cells an attacker chose (= + - @ tab CR) so a spreadsheet shows text, not a formula', async () => {
    const hostile = ['=HYPERLINK("http://evil.test","x")', '+SUM(1,1)', '-2+3', '@cmd', '\tTAB', '\rCR'];
    const file = join(dir.path, 'hostile.csv');
    writeFileSync(file, `id,username,password_hash\n${hostile.map((id) => `"${id.replaceAll('"', '""')}",,$md5$nope`).join('\n')}\n`);
    const reportFile = join(dir.path, 'report.csv');
    const report = openImportReport(reportFile);
    const records = readSourceRecords('csv', file, { now: t.clock.now() });
    await importUsers(t.ctx, records, { source: 'csv', dryRun: true, onEntry: (entry) => report.write(entry) });
    await report.close();
    const rows = readFileSync(reportFile, 'utf8').split('\n').filter((line) => line !== '');
    expect(rows[0]).toBe('position,source_id,status,reason,detail,user_id,username,totp_factors');
    const sourceIds = rows.slice(1).map((row) => parseCsvLine(row.replace(/\r/g, '')) as string[]).map((cells) => cells[1]!);
    expect(sourceIds).toHaveLength(hostile.length);
    for (const cell of sourceIds) expect(cell.startsWith("'")).toBe(true);
    for (const row of rows.slice(1)) for (const cell of parseCsvLine(row.replace(/\r/g, '')) as string[]) expect(cell).not.toMatch(/^[=+\-@\t]/);
  });

  it('AD-27: the report never holds a password hash or a TOTP secret', async () => {
    const secret = new Secret({ size: 20 }).base32;
    const file = writeNdjson('report-secrets.ndjson', [
      { user_id: 'auth0|r1', username: 'report-1', password_hash: bcrypt, mfa_factors: [{ totp: { secret } }] },
      { user_id: 'auth0|r2', username: 'report-2', password_hash: `$2b$31$${bcrypt.slice(7)}` },
    ]);
    const reportFile = join(dir.path, 'report.jsonl');
    const report = openImportReport(reportFile);
    await importUsers(t.ctx, readSourceRecords('auth0', file, { now: t.clock.now() }), { source: 'auth0', dryRun: false, onEntry: (entry) => report.write(entry) });
    await report.close();
    const text = readFileSync(reportFile, 'utf8');
    expect(text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line).status)).toEqual(['imported', 'skipped']);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(bcrypt.slice(7));
  });
});
