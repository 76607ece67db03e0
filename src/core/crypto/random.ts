// Identifiers and opaque secrets from the CSPRNG. Ids are prefixed by kind (`usr_`, `ses_`, ...)
// so a log line or a support ticket says what an id is; 128 random bits make them unguessable.
//
// A login takes several ids; asking the CSPRNG for 16 bytes at a time cost more than the rest
// of the id work under load, so bytes are drawn from the CSPRNG 4 KiB at a time and handed out
// in order. Every byte is used once and copied out before the pool is refilled.
import { randomFillSync } from 'node:crypto';

export type IdKind = 'usr' | 'fac' | 'ses' | 'rt' | 'rc' | 'jti' | 'chl' | 'msg' | 'evt' | 'pwr' | 'dev' | 'ins' | 'evl';

const poolSize = 4096;
const pool = Buffer.allocUnsafe(poolSize);
let poolOffset = poolSize;

/** `byteLength` fresh CSPRNG bytes, never handed out before. */
export function randomBytesFromPool(byteLength: number): Buffer {
  if (byteLength > poolSize / 4) return randomFillSync(Buffer.allocUnsafe(byteLength));
  if (poolOffset + byteLength > poolSize) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + byteLength));
  poolOffset += byteLength;
  return bytes;
}

export function generateId(kind: IdKind): string {
  return `${kind}_${randomBytesFromPool(16).toString('base64url')}`;
}

export function generateRandomBase64url(byteLength: number): string {
  return randomBytesFromPool(byteLength).toString('base64url');
}
