// Supabase projects with GoTrue's database encryption on store auth.mfa_factors.secret encrypted
// (AD-30): with GoTrue's decryption keys the import opens them and the person signs in with the
// authenticator entry they had; without the keys, or with a wrong one, the person is skipped whole
// with a reason naming where the keys go (AD-23). The encrypted secrets are made by a
// re-implementation of GoTrue's own encrypt (test/helpers/gotrue-encryption.ts); one fixed
// vector was computed independently (Python's `cryptography`: HKDF + AESGCM) to pin the format.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordRefusal } from '../../src/admin/import/import-record.js';
import { openSupabaseSecret, parseSupabaseDecryptionKeys, SupabaseKeysError, supabaseKeysVariable } from '../../src/admin/import/sources/supabase-encryption.js';
import { importUsers, type ImportReportEntry } from '../../src/admin/import/import-users.js';
import { readSourceRecords } from '../../src/admin/import/read-source.js';
import { makeTempDir } from '../helpers/backend.js';
import { encryptLikeGoTrue, gotrueTestKey } from '../helpers/gotrue-encryption.js';
import { signInImported } from '../helpers/import-run.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
let dir: { path: string; dispose(): void };
let bcrypt: string;
beforeAll(async () => {
  t = await startTestTwofold();
  dir = makeTempDir('twofold-import-supabase-enc-');
  bcrypt = await bcryptHash('supabase encrypted factor', 4);
});
afterAll(async () => {
  await t.close();
  dir.dispose();
});

const keys = parseSupabaseDecryptionKeys(`abc:${gotrueTestKey}`);

function refusalOf(open: () => unknown): { reason: string; detail: string } {
  try {
    open();
  } catch (error) {
    if (error instanceof RecordRefusal) return { reason: error.reason, detail: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('GoTrue\'s EncryptedString', () => {
  it('AD-30: opens a fixed vector computed outside Node (Python cryptography: HKDF-SHA256, no salt, info = factor id; AES-256-GCM)', () => {
    const vector = '{"key_id":"abc","alg":"aes-gcm-hkdf","data":"zbNOvYzovkZ7hHJ2xpfWr1oNoH8FrbfxwmME/surtCrUm343N3mH0va81J89BeTA","nonce":"AAECAwQFBgcICQoL"}';
    expect(openSupabaseSecret('66666666-6666-4666-8666-666666666666', vector, keys, supabaseKeysVariable)).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    // The test's re-implementation of GoTrue's encrypt makes the same bytes for the same nonce.
    expect(encryptLikeGoTrue('66666666-6666-4666-8666-666666666666', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'abc', gotrueTestKey, Buffer.from('000102030405060708090a0b', 'hex'))).toBe(vector);
    // Bound to the factor: the same ciphertext under another factor's id does not open.
    expect(refusalOf(() => openSupabaseSecret('77777777-7777-4777-8777-777777777777', vector, keys, supabaseKeysVariable)).reason).toBe('secret_undecryptable');
  });

  it('AD-30: GoTrue\'s "<id>:<key>,…" and a bare key are read; malformed values are refused without echoing the key', () => {
    const other = Buffer.alloc(32, 7).toString('base64url');
    expect([...parseSupabaseDecryptionKeys(`abc:${gotrueTestKey},old:${other}`).keys()]).toEqual(['abc', 'old']);
    expect([...parseSupabaseDecryptionKeys(gotrueTestKey).keys()]).toEqual(['']);
    for (const bad of [`abc:${gotrueTestKey.slice(0, 20)}`, `abc:${gotrueTestKey}!`, `${gotrueTestKey},old:${other}`, `abc:${gotrueTestKey},abc:${other}`]) {
      let thrown: unknown;
      try {
        parseSupabaseDecryptionKeys(bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, bad).toBeInstanceOf(SupabaseKeysError);
      expect((thrown as Error).message).not.toContain(gotrueTestKey.slice(0, 20));
    }
  });
});

describe('twofold import --from supabase with encrypted TOTP secrets', () => {
  const password = 'supabase encrypted factor';

  /** A Supabase export (README's \copy query) of people each with one verified factor stored as given. */
  function writeExport(name: string, people: { id: string; email: string; factorId: string; stored: string; bare?: boolean }[]): string {
    const file = join(dir.path, name);
    const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
    const rows = people.map((person) => `${person.id},${person.email},${bcrypt},2024-01-02 03:04:05+00,,,2024-01-02 03:04:05+00,,${quote(person.bare === true ? person.stored : `${person.factorId}:${person.stored}`)}`);
    writeFileSync(file, ['id,email,encrypted_password,email_confirmed_at,phone,phone_confirmed_at,created_at,banned_until,totp_secrets', ...rows].join('\n'));
    return file;
  }

  async function run(file: string, decryptionKeys?: string): Promise<ImportReportEntry[]> {
    const entries: ImportReportEntry[] = [];
    const records = readSourceRecords('supabase', file, { now: t.clock.now(), supabaseDecryptionKeys: decryptionKeys === undefined ? undefined : parseSupabaseDecryptionKeys(decryptionKeys) });
    await importUsers(t.ctx, records, { source: 'supabase', dryRun: false, onEntry: (entry) => void entries.push(entry) });
    return entries;
  }

  async function rowsOf(sourceId: string) {
    const ledger = await t.ctx.db.selectFrom('imported_users').select('user_id').where('source', '=', 'supabase').where('source_id', '=', sourceId).execute();
    const users = await t.ctx.db.selectFrom('users').select('id').where('email', '=', `${sourceId.slice(0, 8)}@example.com`).execute();
    return { ledger, users };
  }

  it('AD-30: with GoTrue\'s decryption keys an encrypted secret (and a plain one beside it) is imported, and a code from the original secret signs in', async () => {
    const secret = new Secret({ size: 20 }).base32;
    const plain = new Secret({ size: 20 }).base32;
    const factorId = 'a1a1a1a1-0000-4000-8000-000000000001';
    const file = writeExport('encrypted.csv', [
      { id: 'a1a1a1a1-1111-4111-8111-111111111111', email: 'a1a1a1a1@example.com', factorId, stored: encryptLikeGoTrue(factorId, secret, 'abc', gotrueTestKey) },
      { id: 'a2a2a2a2-1111-4111-8111-111111111111', email: 'a2a2a2a2@example.com', factorId: 'a2a2a2a2-0000-4000-8000-000000000002', stored: plain },
    ]);
    // An older key id that rotated out still opens what it wrote (GoTrue keeps it in DECRYPTION_KEYS).
    const entries = await run(file, `new:${Buffer.alloc(32, 1).toString('base64url')},abc:${gotrueTestKey}`);
    expect(entries.map((entry) => [entry.status, entry.totp_factors])).toEqual([
      ['imported', 1],
      ['imported', 1],
    ]);
    await signInImported(t, entries[0]!.username!, password, secret);
    await signInImported(t, entries[1]!.username!, password, plain);
  });

  it('AD-23, AD-30: without the keys, or with a wrong key, the person is skipped whole (no user, no ledger row) with a reason naming where the keys go; the others come in', async () => {
    const secret = new Secret({ size: 20 }).base32;
    const factorId = 'b1b1b1b1-0000-4000-8000-000000000001';
    const encrypted = encryptLikeGoTrue(factorId, secret, 'abc', gotrueTestKey);
    const people = [
      { id: 'b1b1b1b1-1111-4111-8111-111111111111', email: 'b1b1b1b1@example.com', factorId, stored: encrypted },
      { id: 'b2b2b2b2-1111-4111-8111-111111111111', email: 'b2b2b2b2@example.com', factorId: 'b2b2b2b2-0000-4000-8000-000000000002', stored: new Secret({ size: 20 }).base32 },
    ];
    const wrongKey = Buffer.alloc(32, 9).toString('base64url');
    const withoutKeys = await run(writeExport('no-keys.csv', [people[0]!]));
    expect(withoutKeys[0]).toMatchObject({ status: 'skipped', reason: 'secret_undecryptable' });
    expect(withoutKeys[0]!.detail).toContain(supabaseKeysVariable);
    expect(withoutKeys[0]!.detail).toContain('"abc"');

    const wrong = await run(writeExport('wrong-key.csv', people), `abc:${wrongKey}`);
    expect(wrong.map((entry) => entry.reason ?? entry.status)).toEqual(['secret_undecryptable', 'imported']);
    expect(wrong[0]!.detail).toMatch(/does not open this TOTP secret/);
    const otherId = await run(writeExport('other-id.csv', [people[0]!]), `zzz:${gotrueTestKey}`);
    expect(otherId[0]).toMatchObject({ reason: 'secret_undecryptable', detail: expect.stringContaining('no decryption key with id "abc"') });
    // An export without the factor id (the query before it was added) cannot open it either.
    const bare = await run(writeExport('bare.csv', [{ ...people[0]!, bare: true }]), `abc:${gotrueTestKey}`);
    expect(bare[0]).toMatchObject({ reason: 'secret_undecryptable', detail: expect.stringContaining('factor id') });
    expect(await rowsOf(people[0]!.id)).toEqual({ ledger: [], users: [] });
    // Nothing of the keys or the secret reaches the report.
    for (const entry of [...withoutKeys, ...wrong, ...otherId, ...bare]) {
      const text = JSON.stringify(entry);
      for (const leaked of [gotrueTestKey, wrongKey, secret]) expect(text).not.toContain(leaked);
    }

    // With the right key the same file completes the skipped person.
    const again = await run(writeExport('right-key.csv', people), `abc:${gotrueTestKey}`);
    expect(again.map((entry) => entry.reason ?? entry.status)).toEqual(['imported', 'already_imported']);
    await signInImported(t, again[0]!.username!, password, secret);
  });

  it('AD-20: a malformed encrypted form is unsupported_totp, not a crash', async () => {
    const factorId = 'c1c1c1c1-0000-4000-8000-000000000001';
    const broken = ['{"key_id":"abc","alg":"aes-cbc","data":"AAAA","nonce":"AAECAwQFBgcICQoL"}', '{"key_id":"abc","alg":"aes-gcm-hkdf","data":"AAAA","nonce":"AAEC"}', '{not json', '{"key_id":1}'];
    const entries = await run(
      writeExport(
        'broken.csv',
        broken.map((stored, index) => ({ id: `c${index}c1c1c1-1111-4111-8111-111111111111`, email: `c${index}c1c1c1@example.com`, factorId, stored })),
      ),
      `abc:${gotrueTestKey}`,
    );
    expect(entries.map((entry) => entry.reason)).toEqual(['unsupported_totp', 'unsupported_totp', 'unsupported_totp', 'unsupported_totp']);
  });
});
