// twofold/verify against the physical limit: how many access tokens per second it checks when
// every token is new (cold: one Ed25519 signature each) compared with raw node:crypto verifying
// the same signatures over the same bytes, and when the same token comes back (warm: the
// verified-token cache) compared with cold. The issuer is a local HTTP server publishing the
// JWKS, the metadata and an empty revoked-session feed, so the verifier runs exactly as in a
// service; rounds are interleaved and the median taken, because this machine is noisy.
import { createPublicKey, generateKeyPairSync, verify as verifySignature } from 'node:crypto';
import { createVerifier } from '../src/verify/index.js';
import { median } from './statistics.js';
import { benchAudience as audience, signBenchTokens as signTokens, startLocalIssuer as startIssuer } from './local-issuer.js';

export interface VerifyThroughput {
  rawPerSecond: number;
  coldPerSecond: number;
  warmPerSecond: number;
}

function perSecond(count: number, startedNs: bigint): number {
  return count / (Number(process.hrtime.bigint() - startedNs) / 1e9);
}


export async function measureVerifyThroughput(options: { tokensPerRound: number; rounds: number }): Promise<VerifyThroughput> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const { server, issuer } = await startIssuer(publicKey);
  try {
    const rawKey = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
    const raw: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      // The first token warms the verifier up (key fetch, feed) and is not timed.
      const [warmup = '', ...tokens] = await signTokens(privateKey, issuer, options.tokensPerRound + 1);
      const pieces = tokens.map((token) => {
        const lastDot = token.lastIndexOf('.');
        return { input: Buffer.from(token.slice(0, lastDot)), signature: Buffer.from(token.slice(lastDot + 1), 'base64url') };
      });
      let started = process.hrtime.bigint();
      for (const piece of pieces) if (!verifySignature(null, piece.input, rawKey, piece.signature)) throw new Error('raw verification failed');
      raw.push(perSecond(pieces.length, started));

      const verifier = createVerifier({ issuer, audience, cacheSize: options.tokensPerRound * 2 });
      await verifier.verify(warmup);
      started = process.hrtime.bigint();
      for (const token of tokens) await verifier.verify(token);
      cold.push(perSecond(tokens.length, started));

      const repeated = tokens[0] ?? '';
      const repetitions = options.tokensPerRound * 20;
      started = process.hrtime.bigint();
      for (let index = 0; index < repetitions; index += 1) await verifier.verify(repeated);
      warm.push(perSecond(repetitions, started));
      if (verifier.stats().signatureChecks !== tokens.length + 1) throw new Error('the cold run hit the cache');
      verifier.close();
    }
    return { rawPerSecond: median(raw), coldPerSecond: median(cold), warmPerSecond: median(warm) };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
