// Better Auth (better-auth.com) with its SQLite database: the export file IS the database file
// (or a copy: `sqlite3 auth.db ".backup export.db"`); on PostgreSQL the database itself is read
// (better-auth-postgres.ts). Read-only, row by row, from its tables
//   user       id, email, emailVerified, createdAt (and username, with the username plugin)
//   account    providerId = 'credential': password = scrypt "salt:key" (hex; N=16384, r=16, p=1, 64 bytes;
//              the salt's hex text itself is the scrypt salt, the password NFKC-normalized)
//   twoFactor  secret = the TOTP key text, encrypted with the auth secret (XChaCha20-Poly1305
//              under SHA-256(secret), nonce first, hex; "$ba$<version>$" in front with versioned
//              secrets); verified = 0 means enrollment was never confirmed (not imported).
// The auth secret (BETTER_AUTH_SECRET of that deployment) is needed to open twoFactor secrets; it
// is used here and nowhere else, never logged or written.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { formatScryptHash } from '../../../core/password/imported/imported-hash.js';
import { acceptImportedHash } from '../imported-password.js';
import { optionalBoolean, optionalString, optionalTime, refuse, requiredId, toSourceRecord, type SourceRecord } from '../import-record.js';
import { totpSecretFromUtf8 } from '../totp-secret.js';
import { usernameCandidates } from '../usernames.js';

/** Better Auth's scrypt parameters (@better-auth/utils/password). */
const betterAuthScrypt = { n: 16384, r: 16, p: 1 } as const;
const nonceBytes = 24;

export interface BetterAuthOptions {
  /** The deployment's BETTER_AUTH_SECRET; without it, users with a TOTP factor are skipped. */
  secret?: string | undefined;
}

export function countBetterAuthUsers(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('select count(*) as n from "user"').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** One Better Auth user with the rows that go with it, however its database was read. */
export interface BetterAuthUserRows {
  user: Record<string, unknown>;
  /** The account row with providerId 'credential' (its password), if any. */
  credential: Record<string, unknown> | undefined;
  twoFactors: ReadonlyArray<Record<string, unknown>>;
}

/** The user table's columns that vary with Better Auth's plugins (username, phoneNumber, banned). */
export type BetterAuthUserColumns = ReadonlySet<string>;

export function betterAuthRecord(position: number, rows: BetterAuthUserRows, userColumns: BetterAuthUserColumns, options: BetterAuthOptions): SourceRecord {
  const { user, credential } = rows;
  const sourceId = typeof user['id'] === 'string' ? user['id'] : null;
  return toSourceRecord(position, sourceId, () => {
    const id = requiredId(user, 'id');
    const email = optionalString(user, 'email', 320);
    const stored = credential === undefined ? null : optionalString(credential, 'password', 1024);
    if (stored === null) refuse('no_password', 'the user has no e-mail and password account');
    const totpSecrets: string[] = [];
    for (const twoFactor of rows.twoFactors) {
      if ('verified' in twoFactor && !optionalBoolean(twoFactor, 'verified')) continue;
      const sealed = optionalString(twoFactor, 'secret', 4096);
      if (sealed === null) continue;
      totpSecrets.push(totpSecretFromUtf8(openBetterAuthSecret(sealed, options.secret)));
    }
    return {
      sourceId: id,
      usernames: usernameCandidates(userColumns.has('username') ? optionalString(user, 'username', 255) : null, email, id),
      email,
      emailVerified: optionalBoolean(user, 'emailVerified'),
      phone: userColumns.has('phoneNumber') ? optionalString(user, 'phoneNumber', 64) : null,
      passwordHash: betterAuthPasswordHash(stored),
      totpSecrets,
      disabled: userColumns.has('banned') ? optionalBoolean(user, 'banned') : false,
      createdAt: optionalTime(user, 'createdAt'),
    };
  });
}

export async function* readBetterAuthUsers(file: string, options: BetterAuthOptions): AsyncGenerator<SourceRecord> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const userColumns = new Set((db.prepare('select name from pragma_table_info(\'user\')').all() as Array<{ name: string }>).map((row) => row.name));
    const hasTwoFactor = (db.prepare('select count(*) as n from sqlite_master where type = \'table\' and name = \'twoFactor\'').get() as { n: number }).n > 0;
    const users = db.prepare('select * from "user" order by rowid');
    const credentialOf = db.prepare('select password from account where userId = ? and providerId = \'credential\' limit 1');
    const twoFactorsOf = hasTwoFactor ? db.prepare('select * from twoFactor where userId = ?') : undefined;
    let position = 0;
    for (const user of users.iterate() as Iterable<Record<string, unknown>>) {
      position += 1;
      const id = typeof user['id'] === 'string' ? user['id'] : undefined;
      const credential = id === undefined ? undefined : (credentialOf.get(id) as Record<string, unknown> | undefined);
      const twoFactors = id === undefined ? [] : ((twoFactorsOf?.all(id) ?? []) as Array<Record<string, unknown>>);
      yield betterAuthRecord(position, { user, credential, twoFactors }, userColumns, options);
    }
  } finally {
    db.close();
  }
}

/** "salt:key" → $scrypt$…; the salt is used as the text it is (its hex digits), not decoded. */
export function betterAuthPasswordHash(stored: string): string {
  const match = /^([0-9a-f]{16,512}):([0-9a-f]{32,512})$/i.exec(stored);
  // Some deployments configure their own hasher (e.g. bcrypt or argon2 strings): take those as they are.
  if (match === null) return acceptImportedHash(stored);
  return acceptImportedHash(formatScryptHash(betterAuthScrypt, Buffer.from(match[1]!, 'utf8'), Buffer.from(match[2]!, 'hex')));
}

/** Opens a twoFactor secret as Better Auth's symmetricEncrypt sealed it. */
export function openBetterAuthSecret(sealed: string, secret: string | undefined): string {
  if (secret === undefined || secret === '') refuse('secret_undecryptable', 'the TOTP secret is encrypted with the Better Auth secret; pass it (--secret-env)');
  const hex = sealed.startsWith('$ba$') ? sealed.slice(sealed.indexOf('$', 4) + 1) : sealed;
  if (!/^[0-9a-f]+$/i.test(hex) || hex.length % 2 !== 0 || hex.length < (nonceBytes + 16) * 2) refuse('secret_undecryptable', 'the TOTP secret is not Better Auth ciphertext');
  const bytes = Buffer.from(hex, 'hex');
  const key = createHash('sha256').update(secret, 'utf8').digest();
  try {
    const plain = xchacha20poly1305(key, bytes.subarray(0, nonceBytes)).decrypt(bytes.subarray(nonceBytes));
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    return refuse('secret_undecryptable', 'the TOTP secret does not open with the given Better Auth secret');
  }
}
