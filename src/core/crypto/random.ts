// Identifiers and opaque secrets from the CSPRNG. Ids are prefixed by kind (`usr_`, `ses_`, ...)
// so a log line or a support ticket says what an id is; 128 random bits make them unguessable.
import { randomBytes } from 'node:crypto';

export type IdKind = 'usr' | 'fac' | 'ses' | 'rt' | 'rc' | 'jti' | 'chl' | 'msg' | 'evt' | 'pwr' | 'dev';

export function generateId(kind: IdKind): string {
  return `${kind}_${randomBytes(16).toString('base64url')}`;
}

export function generateRandomBase64url(byteLength: number): string {
  return randomBytes(byteLength).toString('base64url');
}
