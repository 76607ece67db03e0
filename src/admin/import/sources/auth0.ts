// Auth0: newline-delimited JSON, one user per line, in the shapes Auth0 documents:
// - the bulk user export job (user_id, email, email_verified, username, phone_number,
//   phone_verified, created_at, blocked), joined with the password hash export Auth0 support
//   provides (passwordHash: bcrypt; `_id.$oid` as the id when user_id is absent);
// - the bulk user import format (password_hash: bcrypt; custom_password_hash: {algorithm,
//   hash: {value, encoding}} for bcrypt, argon2 and pbkdf2 as PHC strings
//   "$pbkdf2-sha512$i=100000,l=64$<salt>$<hash>"; mfa_factors: [{totp: {secret: base32}}]).
import type { Readable } from 'node:stream';
import { maxRecordBytes, readBoundedLines } from '../bounded-lines.js';
import { isPlainObject, optionalBoolean, optionalString, optionalTime, refuse, requiredId, toSourceRecord, type SourceRecord } from '../import-record.js';
import { acceptImportedHash } from '../imported-password.js';
import { totpSecretFromBase32 } from '../totp-secret.js';
import { usernameCandidates } from '../usernames.js';

export async function* readAuth0Users(input: Readable): AsyncGenerator<SourceRecord> {
  for await (const line of readBoundedLines(input)) {
    if ('tooLarge' in line) {
      yield { kind: 'skip', position: line.lineNumber, sourceId: null, reason: 'record_too_large', detail: `the line is longer than ${maxRecordBytes} bytes` };
      continue;
    }
    if (line.text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line.text);
    } catch {
      yield { kind: 'skip', position: line.lineNumber, sourceId: null, reason: 'malformed_record', detail: 'the line is not JSON' };
      continue;
    }
    if (!isPlainObject(parsed)) {
      yield { kind: 'skip', position: line.lineNumber, sourceId: null, reason: 'malformed_record', detail: 'the line is not a JSON object' };
      continue;
    }
    yield auth0Record(line.lineNumber, parsed);
  }
}

export function auth0Record(position: number, user: Record<string, unknown>): SourceRecord {
  const rawId = typeof user['user_id'] === 'string' ? user['user_id'] : isPlainObject(user['_id']) && typeof user['_id']['$oid'] === 'string' ? user['_id']['$oid'] : null;
  return toSourceRecord(position, rawId, () => {
    const id = user['user_id'] !== undefined ? requiredId(user, 'user_id') : isPlainObject(user['_id']) ? requiredId(user['_id'], '$oid') : refuse('missing_id', 'the record has no user_id');
    const email = optionalString(user, 'email', 320);
    return {
      sourceId: id,
      usernames: usernameCandidates(optionalString(user, 'username', 255), email, id),
      email,
      emailVerified: optionalBoolean(user, 'email_verified'),
      phone: optionalString(user, 'phone_number', 64),
      passwordHash: acceptImportedHash(auth0PasswordHash(user)),
      totpSecrets: auth0TotpSecrets(user['mfa_factors']),
      disabled: optionalBoolean(user, 'blocked'),
      createdAt: optionalTime(user, 'created_at'),
    };
  });
}

function auth0PasswordHash(user: Record<string, unknown>): string {
  const plain = optionalString(user, 'password_hash') ?? optionalString(user, 'passwordHash');
  if (plain !== null) return plain;
  const custom = user['custom_password_hash'];
  if (custom === undefined || custom === null) return refuse('no_password', 'the user has no password hash (a social or passwordless sign-in only)');
  if (!isPlainObject(custom) || !isPlainObject(custom['hash'])) return refuse('malformed_record', 'custom_password_hash is not an object with a hash');
  const algorithm = optionalString(custom, 'algorithm', 32);
  const value = optionalString(custom['hash'], 'value');
  const encoding = optionalString(custom['hash'], 'encoding', 16) ?? 'utf8';
  if (value === null) return refuse('malformed_record', 'custom_password_hash.hash.value is missing');
  if (algorithm !== 'bcrypt' && algorithm !== 'argon2' && algorithm !== 'pbkdf2') return refuse('unsupported_hash', `custom_password_hash algorithm "${algorithm ?? ''}" is not supported (bcrypt, argon2, pbkdf2)`);
  if (encoding !== 'utf8') return refuse('unsupported_hash', `custom_password_hash encoding "${encoding}" is not supported for ${algorithm}`);
  if (custom['salt'] !== undefined || custom['password'] !== undefined) return refuse('unsupported_hash', 'custom_password_hash with a separate salt or password encoding is not supported');
  return value;
}

function auth0TotpSecrets(factors: unknown): string[] {
  if (factors === undefined || factors === null) return [];
  if (!Array.isArray(factors) || factors.length > 16) return refuse('malformed_record', 'mfa_factors is not a short array');
  const secrets: string[] = [];
  for (const factor of factors) {
    if (!isPlainObject(factor)) return refuse('malformed_record', 'an mfa_factors entry is not an object');
    if (factor['totp'] === undefined) continue; // phone and e-mail factors: not carried
    if (!isPlainObject(factor['totp'])) return refuse('malformed_record', 'mfa_factors[].totp is not an object');
    const secret = optionalString(factor['totp'], 'secret', 512);
    if (secret === null) return refuse('unsupported_totp', 'mfa_factors[].totp has no secret');
    secrets.push(totpSecretFromBase32(secret));
  }
  return secrets;
}
