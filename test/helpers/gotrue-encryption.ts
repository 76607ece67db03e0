// GoTrue's NewEncryptedString (supabase/auth internal/crypto/crypto.go), re-implemented for the
// tests from its Go source: the AES key is HKDF-SHA256 of the base64url (RawURLEncoding) 256-bit
// key with a nil salt and the object's id as info; AES-256-GCM with a random 12-byte nonce and no
// additional data, Go's Seal appending the tag; json.Marshal of {KeyID, Algorithm, Data, Nonce}
// writes the fields in that order and []byte as standard base64.
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** The key of GoTrue's own test environment (hack/test.env), id "abc". */
export const gotrueTestKey = 'pwFoiPyybQMqNmYVN0gUnpbfpGQV2sDv9vp0ZAxi_Y4';

export function encryptLikeGoTrue(id: string, plaintext: string, keyId: string, keyBase64Url: string, nonce: Buffer = randomBytes(12)): string {
  const key = Buffer.from(keyBase64Url, 'base64url');
  if (key.length !== 32) throw new Error('GoTrue keys are 256 bits');
  const aesKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), id, 32));
  const cipher = createCipheriv('aes-256-gcm', aesKey, nonce);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return JSON.stringify({ key_id: keyId, alg: 'aes-gcm-hkdf', data: data.toString('base64'), nonce: nonce.toString('base64') });
}
