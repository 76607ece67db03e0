// The issuer's public keys, fetched from its JWKS and kept: each key becomes the same synchronous
// check the server uses for its own tokens (core/tokens/signature-check.ts), pinned to the key's
// own algorithm, `typ: at+jwt`, the issuer and the audience.
//
// An unknown `kid` triggers one refresh — a rotated key is picked up without a restart — but at
// most one per cooldown, so a flood of tokens with made-up kids cannot turn this service into a
// load generator against the issuer. Keys are also refreshed in the background once stale, so a
// retired key stops verifying.
import { createSignatureCheck, type SignatureCheck } from '../core/tokens/signature-check.js';
import { VerificationError } from './errors.js';
import { fetchJson, type FetchFunction } from './http-json.js';

export type VerificationAlgorithm = 'EdDSA' | 'ES256';

export interface KeySetOptions {
  jwksUri: () => Promise<string>;
  issuer: string;
  audience: string;
  algorithms: VerificationAlgorithm[];
  fetch: FetchFunction;
  timeoutMs: number;
  refreshCooldownMs: number;
  maxAgeMs: number;
  now: () => number;
  onBackgroundError: (error: unknown) => void;
}

interface PublishedKey {
  /** The JWK as published, to notice a changed key under a known kid. */
  fingerprint: string;
  check: SignatureCheck;
}

const keyTypeOf: Record<VerificationAlgorithm, { kty: string; crv: string }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
};

export class RemoteKeySet {
  private keys = new Map<string, PublishedKey>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  /** JWKS requests made, for the verifier's stats. */
  fetches = 0;

  constructor(private readonly options: KeySetOptions) {}

  /** The check for a kid, fetching the JWKS when the kid is new (rate-limited). */
  async checkFor(kid: string): Promise<SignatureCheck | undefined> {
    const known = this.keys.get(kid);
    const age = this.options.now() - this.fetchedAt;
    if (known !== undefined) {
      if (age >= this.options.maxAgeMs) this.refreshInBackground();
      return known.check;
    }
    if (this.fetchedAt !== Number.NEGATIVE_INFINITY && age < this.options.refreshCooldownMs) return undefined;
    await this.refresh();
    return this.keys.get(kid)?.check;
  }

  /** Fetches now (single-flight: concurrent callers share one request). */
  refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  get kids(): string[] {
    return [...this.keys.keys()];
  }

  private refreshInBackground(): void {
    if (this.inFlight !== undefined) return;
    this.refresh().catch(this.options.onBackgroundError);
  }

  private async fetchKeys(): Promise<void> {
    // Counted as an attempt even when it fails: an unreachable issuer is not retried per request.
    this.fetchedAt = this.options.now();
    this.fetches += 1;
    const jwksUri = await this.options.jwksUri();
    const document = await fetchJson(this.options.fetch, jwksUri, this.options.timeoutMs, 'the JWKS');
    if (!Array.isArray(document['keys'])) throw new VerificationError('verifier_unavailable', `The JWKS at ${jwksUri} has no keys array`);
    const next = new Map<string, PublishedKey>();
    for (const jwk of document['keys'] as unknown[]) {
      const entry = this.usableKey(jwk);
      if (entry !== undefined && !next.has(entry.kid)) next.set(entry.kid, entry.key);
    }
    this.keys = next;
    this.fetchedAt = this.options.now();
  }

  /** A signing key for one of our algorithms, or undefined for anything else (skipped, not fatal). */
  private usableKey(jwk: unknown): { kid: string; key: PublishedKey } | undefined {
    if (typeof jwk !== 'object' || jwk === null) return undefined;
    const { kid, alg, kty, crv, use } = jwk as Record<string, unknown>;
    if (typeof kid !== 'string' || kid.length === 0 || (use !== undefined && use !== 'sig')) return undefined;
    const algorithm = this.options.algorithms.find((candidate) => candidate === alg);
    if (algorithm === undefined || keyTypeOf[algorithm].kty !== kty || keyTypeOf[algorithm].crv !== crv) return undefined;
    const fingerprint = JSON.stringify(jwk);
    const existing = this.keys.get(kid);
    if (existing?.fingerprint === fingerprint) return { kid, key: existing };
    let check: SignatureCheck;
    try {
      check = createSignatureCheck({ publicJwk: jwk, algorithm, typ: 'at+jwt', issuer: this.options.issuer, audience: this.options.audience });
    } catch {
      return undefined; // not a usable key (a malformed JWK)
    }
    return { kid, key: { fingerprint, check } };
  }
}
