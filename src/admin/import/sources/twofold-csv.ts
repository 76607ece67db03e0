// Twofold's own CSV, for any system without a reader here: a header row naming these columns
// (any order; only id and password_hash are required):
//   id, username, email, email_verified, phone, password_hash, totp_secret, disabled, created_at
// password_hash in a stored form Twofold verifies: bcrypt ($2a$/$2b$/$2y$), argon2 PHC
// ($argon2id$/$argon2i$/$argon2d$), $scrypt$n=…,r=…,p=…$<salt>$<key>, or
// $pbkdf2-sha1|sha256|sha512$i=…[,l=…]$<salt>$<key> (base64 salt and key); totp_secret in base32
// (SHA-1, 6 digits, 30 s); booleans true/false; created_at ISO 8601 or milliseconds.
import type { Readable } from 'node:stream';
import { csvSourceRecords } from '../csv-records.js';
import { optionalBoolean, optionalString, optionalTime, refuse, requiredId, type SourceRecord } from '../import-record.js';
import { acceptImportedHash } from '../imported-password.js';
import { totpSecretFromBase32 } from '../totp-secret.js';
import { usernameCandidates } from '../usernames.js';

export function readTwofoldCsvUsers(input: Readable): AsyncGenerator<SourceRecord> {
  return csvSourceRecords(input, (row) => {
    const id = requiredId(row, 'id');
    const email = optionalString(row, 'email', 320);
    const password = optionalString(row, 'password_hash');
    if (password === null) refuse('no_password', 'password_hash is empty');
    const totp = optionalString(row, 'totp_secret', 512);
    return {
      sourceId: id,
      usernames: usernameCandidates(optionalString(row, 'username', 255), email, id),
      email,
      emailVerified: optionalBoolean(row, 'email_verified'),
      phone: optionalString(row, 'phone', 64),
      passwordHash: acceptImportedHash(password),
      totpSecrets: totp === null ? [] : [totpSecretFromBase32(totp)],
      disabled: optionalBoolean(row, 'disabled'),
      createdAt: optionalTime(row, 'created_at'),
    };
  });
}
