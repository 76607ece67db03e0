// AES-256-GCM envelope for secrets the server must read back (TOTP seeds, private signing keys,
// the code pepper). Format: v1.<kid>.<iv>.<ciphertext>.<tag>, all base64url.
// - The AAD binds a ciphertext to its purpose and row (e.g. "totp|fac_…|usr_…"): a ciphertext
//   copied into another row or column fails to open instead of silently decrypting there.
// - <kid> names the key so several keys can coexist while secrets are re-encrypted lazily.
// - A fresh 96-bit random IV per seal; GCM's 128-bit tag authenticates.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const version = 'v1';
const ivBytes = 12;
const tagBytes = 16;

export interface SecretBox {
  /** The id of the key new envelopes are sealed with. */
  readonly currentKeyId: string;
  seal(plaintext: string, aad: string): string;
  /** Throws SecretBoxError when the envelope was tampered with, moved, or its key is unknown. */
  open(envelope: string, aad: string): string;
  /** The key id an envelope was sealed with, for lazy re-encryption. */
  keyIdOf(envelope: string): string | undefined;
}

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

export function encryptionKeyId(key: Uint8Array): string {
  return createHash('sha256').update('twofold-encryption-key-id:').update(key).digest('base64url').slice(0, 8);
}

/** `keys[0]` seals; every key in the list opens. */
export function createSecretBox(keys: readonly Uint8Array[]): SecretBox {
  const [current] = keys;
  if (current === undefined) throw new SecretBoxError('at least one encryption key is needed');
  for (const key of keys) {
    if (key.length !== 32) throw new SecretBoxError('encryption keys are 32 bytes (AES-256)');
  }
  const keysById = new Map(keys.map((key) => [encryptionKeyId(key), key] as const));
  const currentKeyId = encryptionKeyId(current);

  return {
    currentKeyId,
    seal(plaintext, aad) {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', current, iv, { authTagLength: tagBytes });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [version, currentKeyId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(envelope, aad) {
      const parts = envelope.split('.');
      if (parts.length !== 5 || parts[0] !== version) throw new SecretBoxError('not a v1 envelope');
      const [, keyId, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string];
      const key = keysById.get(keyId);
      if (key === undefined) throw new SecretBoxError(`no encryption key with id ${keyId}`);
      const iv = Buffer.from(ivText, 'base64url');
      const tag = Buffer.from(tagText, 'base64url');
      if (iv.length !== ivBytes || tag.length !== tagBytes) throw new SecretBoxError('malformed envelope');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8');
      } catch (cause) {
        throw new SecretBoxError('envelope failed authentication (wrong key, row or tampered)', { cause });
      }
    },
    keyIdOf(envelope) {
      const parts = envelope.split('.');
      return parts.length === 5 && parts[0] === version ? parts[1] : undefined;
    },
  };
}

/** How every envelope sealed under `keyId` begins: lets a database find them without opening any. */
export function envelopePrefix(keyId: string): string {
  return `${version}.${keyId}.`;
}

/** AAD for a sealed value: purpose and the ids of the row (and owner) it belongs to. */
export function secretBoxAad(purpose: string, ...ids: string[]): string {
  return [purpose, ...ids].join('|');
}
