// The public JWK Set resource servers verify against. Only public members ever leave here.
import type { JWK } from 'jose';
import { publicPartOf, type SigningKey } from './signing-key.js';

export function buildJwks(keys: Iterable<SigningKey>): { keys: JWK[] } {
  return { keys: [...keys].map((key) => ({ ...publicPartOf(key.publicJwk), kid: key.kid, alg: key.alg, use: 'sig' })) };
}
