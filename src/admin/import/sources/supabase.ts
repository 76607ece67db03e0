// Supabase Auth (GoTrue): a CSV made by psql from its auth schema, one row per user
// (README "Importing users"):
//   \copy (select u.id, u.email, u.encrypted_password, u.email_confirmed_at, u.phone,
//          u.phone_confirmed_at, u.created_at, u.banned_until,
//          (select string_agg(f.id || ':' || f.secret, ' ') from auth.mfa_factors f where f.user_id = u.id
//             and f.factor_type = 'totp' and f.status = 'verified') as totp_secrets
//          from auth.users u where u.deleted_at is null order by u.created_at)
//     to 'supabase-users.csv' with (format csv, header)
// encrypted_password is bcrypt ($2a$10$…); mfa_factors.secret is base32, or — when the project
// turned on GoTrue's database encryption — an encrypted JSON bound to the factor's id, opened
// with GoTrue's decryption keys (supabase-encryption.ts). Exports made before the factor id was
// part of the query (bare secrets) are still read; their encrypted secrets cannot be opened.
import type { Readable } from 'node:stream';
import { csvSourceRecords } from '../csv-records.js';
import { optionalString, optionalTime, refuse, requiredId, type SourceRecord } from '../import-record.js';
import { acceptImportedHash } from '../imported-password.js';
import { totpSecretFromBase32 } from '../totp-secret.js';
import { usernameCandidates } from '../usernames.js';
import { isSupabaseEncryptedSecret, openSupabaseSecret, type SupabaseDecryptionKeys } from './supabase-encryption.js';

export interface SupabaseOptions {
  now: number;
  /** GoTrue's decryption keys, for encrypted TOTP secrets; without them those people are skipped. */
  decryptionKeys?: SupabaseDecryptionKeys | undefined;
  /** Where the keys come from (an environment variable), named when a secret cannot be opened. */
  keysVariable: string;
}

export function readSupabaseUsers(input: Readable, options: SupabaseOptions): AsyncGenerator<SourceRecord> {
  const { now } = options;
  return csvSourceRecords(input, (row) => {
    const id = requiredId(row, 'id');
    const email = optionalString(row, 'email', 320);
    const password = optionalString(row, 'encrypted_password');
    if (password === null) refuse('no_password', 'the user has no password (a magic link, phone or social sign-in only)');
    const bannedUntil = optionalTime(row, 'banned_until');
    const secrets = optionalString(row, 'totp_secrets', 4096);
    return {
      sourceId: id,
      usernames: usernameCandidates(null, email, id),
      email,
      emailVerified: optionalTime(row, 'email_confirmed_at') !== null,
      // Supabase stores phone numbers without the "+".
      phone: withPlus(optionalString(row, 'phone', 64)),
      passwordHash: acceptImportedHash(password),
      totpSecrets: secrets === null ? [] : secrets.split(' ').filter((secret) => secret !== '').map((entry) => totpSecretOf(entry, options)),
      disabled: bannedUntil !== null && bannedUntil > now,
      createdAt: optionalTime(row, 'created_at'),
    };
  });
}

/** "<factor id>:<secret>" (or a bare secret, from an older export): the base32 secret, opened if GoTrue encrypted it. */
function totpSecretOf(entry: string, options: SupabaseOptions): string {
  const withId = /^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}):(.*)$/s.exec(entry);
  const factorId = withId?.[1] ?? null;
  const stored = withId?.[2] ?? entry;
  if (!isSupabaseEncryptedSecret(stored)) return totpSecretFromBase32(stored);
  return totpSecretFromBase32(openSupabaseSecret(factorId, stored, options.decryptionKeys, options.keysVariable));
}

function withPlus(phone: string | null): string | null {
  if (phone === null) return null;
  return phone.startsWith('+') ? phone : `+${phone}`;
}
