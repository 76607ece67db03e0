// Deterministic one-way digests for values that are looked up by hash: refresh tokens (256-bit
// random, so plain SHA-256 suffices) and human-typed codes (low entropy, so keyed with a server
// pepper that lives encrypted in the database: a stolen table alone cannot be brute-forced).
import { createHash, createHmac } from 'node:crypto';

export function sha256Base64url(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

export function hmacSha256Base64url(key: Uint8Array, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}
