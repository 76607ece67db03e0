// dpop: what checking a DPoP proof costs next to the floor — raw node:crypto verifying the same
// ES256 signatures over the same bytes with a key already imported. Every proof is new (its own
// jti, as every request sends), from one client key (as one client signs all its requests); the
// checker runs in full: parse, key, signature, claims, ath, and the jti claimed in the memory store.
// Rounds are interleaved and the median taken, because this machine is noisy.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { checkDpopProof, createMemoryDpopReplayStore } from '../src/core/dpop/index.js';
import { sha256Base64url } from '../src/core/crypto/digest.js';
import { median } from './statistics.js';

export interface DpopProofCheckFigures {
  rawPerSecond: number;
  checkedPerSecond: number;
}

const url = 'https://api.bench.example/orders';
const accessToken = 'bench-access-token';

/** A client's ES256 key (node:crypto, fast enough to make thousands of proofs) and its RFC 7638 thumbprint. */
export function benchProofKey(): { jkt: string; proofFor(htu: string, token: string): string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  // Members in lexicographic order: the thumbprint's input as RFC 7638 writes it.
  const jwk = { crv, kty, x, y };
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk })).toString('base64url');
  return {
    jkt: createHash('sha256').update(JSON.stringify(jwk)).digest('base64url'),
    proofFor(htu, token) {
      const payload = Buffer.from(JSON.stringify({ jti: randomBytes(12).toString('base64url'), htm: 'GET', htu, iat: Math.floor(Date.now() / 1000), ath: sha256Base64url(token) })).toString('base64url');
      return `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    },
  };
}

/** `count` proofs of one key for GET `url` with `accessToken`. */
function makeBenchProofs(count: number): string[] {
  const key = benchProofKey();
  return Array.from({ length: count }, () => key.proofFor(url, accessToken));
}

function perSecond(count: number, startedNs: bigint): number {
  return count / (Number(process.hrtime.bigint() - startedNs) / 1e9);
}

export async function measureDpopProofCheck(options: { proofsPerRound: number; rounds: number }): Promise<DpopProofCheckFigures> {
  const raw: number[] = [];
  const checked: number[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const proofs = makeBenchProofs(options.proofsPerRound);
    const jwk = JSON.parse(Buffer.from(proofs[0]!.split('.')[0]!, 'base64url').toString()).jwk;
    const rawKey = createPublicKey({ key: jwk, format: 'jwk' });
    const pieces = proofs.map((proof) => {
      const lastDot = proof.lastIndexOf('.');
      return { input: Buffer.from(proof.slice(0, lastDot)), signature: Buffer.from(proof.slice(lastDot + 1), 'base64url') };
    });
    let started = process.hrtime.bigint();
    for (const piece of pieces) if (!verify('sha256', piece.input, { key: rawKey, dsaEncoding: 'ieee-p1363' }, piece.signature)) throw new Error('raw verification failed');
    raw.push(perSecond(pieces.length, started));

    const replay = createMemoryDpopReplayStore({ now: Date.now, maxEntries: options.proofsPerRound * 2 });
    started = process.hrtime.bigint();
    for (const proof of proofs) {
      const result = await checkDpopProof(proof, { method: 'GET', url, now: Date.now(), accessToken, replay });
      if (!result.ok) throw new Error(`a bench proof was refused: ${result.description}`);
    }
    checked.push(perSecond(proofs.length, started));
  }
  return { rawPerSecond: median(raw), checkedPerSecond: median(checked) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await measureDpopProofCheck({ proofsPerRound: 3_000, rounds: 5 }), null, 2)}\n`);
}
