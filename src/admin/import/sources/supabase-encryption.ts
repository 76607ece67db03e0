// Supabase Auth's (GoTrue's) database encryption, read back. With
// GOTRUE_SECURITY_DB_ENCRYPTION_ENCRYPT=true GoTrue stores auth.mfa_factors.secret as an
// "EncryptedString" (supabase/auth internal/crypto/crypto.go): the JSON
//   {"key_id":"<id>","alg":"aes-gcm-hkdf","data":"<base64>","nonce":"<base64>"}
// where data is AES-256-GCM ciphertext with its 16-byte tag appended (Go's Seal, no additional
// data), nonce is 12 bytes, and the AES key is HKDF-SHA256 of the 32-byte key named key_id (no
// salt, info = the factor's id as text, its UUID in lowercase), so a secret opens only for the
// factor it was written for. The keys are GoTrue's GOTRUE_SECURITY_DB_ENCRYPTION_DECRYPTION_KEYS:
// "<id>:<key>[,<id>:<key>…]", each key base64url without padding. This only decodes a storage
// format; nothing here is a protocol of Twofold's own.
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { refuse } from '../import-record.js';

export type SupabaseDecryptionKeys = ReadonlyMap<string, Buffer>;

/** The variable GoTrue itself reads its decryption keys from, and the import's default. */
export const supabaseKeysVariable = 'GOTRUE_SECURITY_DB_ENCRYPTION_DECRYPTION_KEYS';

const keyBytes = 32;
const nonceBytes = 12;
const tagBytes = 16;

/** Thrown for a malformed keys value; the message never holds a key. */
export class SupabaseKeysError extends Error {}

/** GoTrue's "<id>:<key>,…" form; a bare key (one, no id) opens a secret whatever its key id. */
export function parseSupabaseDecryptionKeys(text: string): SupabaseDecryptionKeys {
  const keys = new Map<string, Buffer>();
  for (const [index, item] of text.split(',').entries()) {
    const trimmed = item.trim();
    const colon = trimmed.indexOf(':');
    const id = colon === -1 ? '' : trimmed.slice(0, colon);
    const encoded = colon === -1 ? trimmed : trimmed.slice(colon + 1);
    if (colon === -1 && text.includes(',')) throw new SupabaseKeysError(`key ${index + 1} has no "<id>:" in front`);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw new SupabaseKeysError(`key ${index + 1} is not base64url`);
    const key = Buffer.from(encoded, 'base64url');
    if (key.length !== keyBytes) throw new SupabaseKeysError(`key ${index + 1} is ${key.length} bytes, not 32 (256 bits)`);
    if (keys.has(id)) throw new SupabaseKeysError(`key id "${id}" is there twice`);
    keys.set(id, key);
  }
  return keys;
}

/** Whether a stored secret is GoTrue's encrypted form (GoTrue tells them apart the same way: a leading "{"). */
export function isSupabaseEncryptedSecret(stored: string): boolean {
  return stored.startsWith('{');
}

interface EncryptedString {
  keyId: string;
  data: Buffer;
  nonce: Buffer;
}

/**
 * The plain secret (GoTrue stores base32 text) of an encrypted one, or a refusal with the reason:
 * no keys given, no key with its id, or a key that does not open it (a wrong key, or a secret
 * moved from another factor). `variable` is where the keys come from, named in the refusal.
 */
export function openSupabaseSecret(factorId: string | null, stored: string, keys: SupabaseDecryptionKeys | undefined, variable: string): string {
  const encrypted = parseEncryptedString(stored);
  if (keys === undefined || keys.size === 0) {
    refuse('secret_undecryptable', `the TOTP secret is encrypted by Supabase's database encryption (key id ${shown(encrypted.keyId)}): give the import GoTrue's decryption keys in ${variable}`);
  }
  if (factorId === null) refuse('secret_undecryptable', 'the TOTP secret is encrypted and bound to its factor id, which the export does not give: export f.id || \':\' || f.secret (README: Importing users)');
  const key = keys.get(encrypted.keyId) ?? keys.get('');
  if (key === undefined) refuse('secret_undecryptable', `no decryption key with id ${shown(encrypted.keyId)} in ${variable}`);
  const aesKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), factorId.toLowerCase(), keyBytes));
  try {
    const decipher = createDecipheriv('aes-256-gcm', aesKey, encrypted.nonce);
    decipher.setAuthTag(encrypted.data.subarray(encrypted.data.length - tagBytes));
    return Buffer.concat([decipher.update(encrypted.data.subarray(0, encrypted.data.length - tagBytes)), decipher.final()]).toString('utf8');
  } catch {
    return refuse('secret_undecryptable', `the key with id ${shown(encrypted.keyId)} in ${variable} does not open this TOTP secret (a wrong key, or a secret of another factor)`);
  }
}

/** A key id as the report names it: the file chose it, so quoted and cut short. */
function shown(keyId: string): string {
  return JSON.stringify(keyId.slice(0, 64));
}

/** GoTrue's ParseEncryptedString, as strict: anything else is no secret Twofold can read. */
function parseEncryptedString(stored: string): EncryptedString {
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    return refuse('unsupported_totp', 'the TOTP secret is neither base32 nor Supabase\'s encrypted form');
  }
  const fields = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  const { key_id: keyId, alg, data, nonce } = fields;
  const decoded = (field: unknown) => (typeof field === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(field) ? Buffer.from(field, 'base64') : undefined);
  const dataBytes = decoded(data);
  const nonceBytesRead = decoded(nonce);
  if (typeof keyId !== 'string' || keyId === '' || alg !== 'aes-gcm-hkdf' || dataBytes === undefined || dataBytes.length <= tagBytes || nonceBytesRead?.length !== nonceBytes) {
    return refuse('unsupported_totp', 'the TOTP secret is neither base32 nor Supabase\'s encrypted form (key_id, alg "aes-gcm-hkdf", data, a 12-byte nonce)');
  }
  return { keyId, data: dataBytes, nonce: nonceBytesRead };
}
