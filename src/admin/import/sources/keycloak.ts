// Keycloak: a realm export (`kc.sh export --realm <realm> --file realm.json`, or the per-file
// `--users different_files` parts) — a JSON object whose "users" array holds, per user, id,
// username, email, emailVerified, enabled, createdTimestamp and credentials[], each credential with
// JSON-in-a-string fields:
//   password  secretData {"value": base64 hash, "salt": base64}, credentialData {"hashIterations",
//             "algorithm": "pbkdf2-sha256" | "pbkdf2-sha512" | "pbkdf2" (SHA-1) | "argon2",
//             "additionalParameters": {...}} — argon2's value is a raw hash too, with its type,
//             version, memory, iterations and parallelism in additionalParameters
//   otp       secretData {"value": the key text}, credentialData {"subType": "totp", "digits",
//             "period", "algorithm": "HmacSHA1"} — the HMAC key is the text's UTF-8 bytes
// The array is streamed: a realm of a million users is read element by element.
import type { Readable } from 'node:stream';
import { formatPbkdf2Hash, type Pbkdf2Digest } from '../../../core/password/imported/imported-hash.js';
import { maxRecordBytes } from '../bounded-lines.js';
import { isPlainObject, optionalBoolean, optionalString, optionalTime, refuse, requiredId, toSourceRecord, type SourceRecord } from '../import-record.js';
import { acceptImportedHash } from '../imported-password.js';
import { readJsonArrayElements } from '../json-array-elements.js';
import { requireTwofoldTotpParameters, totpSecretFromUtf8 } from '../totp-secret.js';
import { usernameCandidates } from '../usernames.js';

export async function* readKeycloakUsers(input: Readable): AsyncGenerator<SourceRecord> {
  for await (const element of readJsonArrayElements(input, 'users')) {
    const position = element.index + 1;
    if ('tooLarge' in element) {
      yield { kind: 'skip', position, sourceId: null, reason: 'record_too_large', detail: `the user is longer than ${maxRecordBytes} characters` };
      continue;
    }
    let user: unknown;
    try {
      user = JSON.parse(element.text);
    } catch {
      yield { kind: 'skip', position, sourceId: null, reason: 'malformed_record', detail: 'the user is not valid JSON' };
      continue;
    }
    if (!isPlainObject(user)) {
      yield { kind: 'skip', position, sourceId: null, reason: 'malformed_record', detail: 'the user is not a JSON object' };
      continue;
    }
    yield keycloakRecord(position, user);
  }
}

function keycloakRecord(position: number, user: Record<string, unknown>): SourceRecord {
  return toSourceRecord(position, typeof user['id'] === 'string' ? user['id'] : null, () => {
    const id = requiredId(user, 'id');
    const email = optionalString(user, 'email', 320);
    const credentials = user['credentials'] ?? [];
    if (!Array.isArray(credentials) || credentials.length > 32) refuse('malformed_record', 'credentials is not a short array');
    let passwordHash: string | null = null;
    const totpSecrets: string[] = [];
    for (const credential of credentials) {
      if (!isPlainObject(credential)) refuse('malformed_record', 'a credential is not an object');
      const type = optionalString(credential, 'type', 64);
      if (type === 'password' && passwordHash === null) passwordHash = keycloakPasswordHash(credential);
      else if (type === 'otp') totpSecrets.push(keycloakTotpSecret(credential));
    }
    if (passwordHash === null) refuse('no_password', 'the user has no password credential');
    return {
      sourceId: id,
      usernames: usernameCandidates(optionalString(user, 'username', 255), email, id),
      email,
      emailVerified: optionalBoolean(user, 'emailVerified'),
      phone: null,
      passwordHash,
      totpSecrets,
      disabled: user['enabled'] === false,
      createdAt: optionalTime(user, 'createdTimestamp'),
    };
  });
}

function jsonField(credential: Record<string, unknown>, field: string): Record<string, unknown> {
  const text = optionalString(credential, field, 8192);
  if (text === null) return refuse('malformed_record', `the credential has no ${field}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse('malformed_record', `the credential's ${field} is not JSON`);
  }
  if (!isPlainObject(parsed)) return refuse('malformed_record', `the credential's ${field} is not a JSON object`);
  return parsed;
}

const pbkdf2Digests: Record<string, Pbkdf2Digest> = { pbkdf2: 'sha1', 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512' };

function keycloakPasswordHash(credential: Record<string, unknown>): string {
  const secretData = jsonField(credential, 'secretData');
  const credentialData = jsonField(credential, 'credentialData');
  const algorithm = optionalString(credentialData, 'algorithm', 64) ?? 'pbkdf2-sha256';
  const value = Buffer.from(optionalString(secretData, 'value') ?? refuse('malformed_record', 'the password has no value'), 'base64');
  const salt = Buffer.from(optionalString(secretData, 'salt') ?? '', 'base64');
  const iterations = credentialData['hashIterations'];
  if (typeof iterations !== 'number' || !Number.isSafeInteger(iterations)) return refuse('malformed_record', 'hashIterations is not an integer');
  const digest = pbkdf2Digests[algorithm];
  if (digest !== undefined) return acceptImportedHash(formatPbkdf2Hash(digest, iterations, salt, value));
  if (algorithm === 'argon2') return acceptImportedHash(keycloakArgon2Hash(credentialData, salt, value));
  return refuse('unsupported_hash', `Keycloak password algorithm "${algorithm}" is not supported`);
}

/** Keycloak's argon2 provider keeps the raw hash and its parameters apart: put them back into a PHC string. */
function keycloakArgon2Hash(credentialData: Record<string, unknown>, salt: Buffer, value: Buffer): string {
  const parameters = isPlainObject(credentialData['additionalParameters']) ? credentialData['additionalParameters'] : {};
  const first = (name: string, fallback: string): string => {
    const list = parameters[name];
    return Array.isArray(list) && typeof list[0] === 'string' ? list[0] : fallback;
  };
  const variant = first('type', 'id');
  const version = first('version', '1.3') === '1.3' ? 19 : 16;
  const memory = first('memory', '7168');
  const parallelism = first('parallelism', '1');
  const iterations = credentialData['hashIterations'];
  if (!['id', 'i', 'd'].includes(variant) || !/^\d{1,10}$/.test(memory) || !/^\d{1,10}$/.test(parallelism)) return refuse('malformed_record', 'argon2 parameters are not readable');
  const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
  return `$argon2${variant}$v=${version}$m=${memory},t=${String(iterations)},p=${parallelism}$${b64(salt)}$${b64(value)}`;
}

function keycloakTotpSecret(credential: Record<string, unknown>): string {
  const secretData = jsonField(credential, 'secretData');
  const credentialData = jsonField(credential, 'credentialData');
  if (optionalString(credentialData, 'subType', 16) !== 'totp') refuse('unsupported_totp', 'an HOTP (counter) credential is not supported');
  const digits = credentialData['digits'] ?? 6;
  const period = credentialData['period'] ?? 30;
  if (typeof digits !== 'number' || typeof period !== 'number') refuse('malformed_record', 'digits and period are not numbers');
  requireTwofoldTotpParameters({ algorithm: optionalString(credentialData, 'algorithm', 32) ?? 'HmacSHA1', digits, periodSeconds: period });
  return totpSecretFromUtf8(optionalString(secretData, 'value', 512) ?? refuse('unsupported_totp', 'the OTP credential has no secret'));
}
