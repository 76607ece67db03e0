// The issuer's public keys, fetched from its JWKS and kept: each key becomes the same synchronous
// check the server uses for its own tokens (core/tokens/signature-check.ts), pinned to the key's
// own algorithm, `typ: at+jwt`, the issuer and the audience. Keys are refreshed in the background
// once stale, so a retired key stops verifying.
//
// A kid we do not know is either a key the issuer published since our last fetch (a rotation) or
// one it never published (a forgery, a token from elsewhere). Nothing in the token tells them
// apart — its signature cannot be checked without the key — so only a fetch can. The rules:
// - An unknown kid is settled by a fetch that began after the lookup did (a fetch already in
//   flight may find it sooner): concurrent lookups share one fetch, and none is refused while a
//   fetch that could answer it is pending. A cold verifier thus answers every concurrent request.
// - A fetch that did not find the kid it was made for — the sign of a made-up kid — arms a
//   cooldown. Unknown kids arriving during it wait for the one fetch made when it ends, instead of
//   being refused. Made-up kids therefore cost the issuer at most one request per cooldown however
//   many arrive, and they cannot starve a real new key: its token is at worst delayed by one
//   cooldown, never refused. Fetches that found what they were made for, and background
//   refreshes, arm nothing, so an ordinary rotation is picked up by the first token of the new key.
// - A fetch that failed means the issuer is unreachable: unknown kids are answered 503 (the token
//   may be fine; a 401 would tell the client to drop it) without asking again for one cooldown.
//   Known keys keep verifying meanwhile.
// Timers use the monotonic clock: the `now` option is the clock tokens are judged by (tests move it).
import { performance } from 'node:perf_hooks';
import { createSignatureCheck, type SignatureCheck } from '../core/tokens/signature-check.js';
import { VerificationError, verifierUnavailable } from './errors.js';
import { fetchJson, type FetchFunction } from './http-json.js';

export type VerificationAlgorithm = 'EdDSA' | 'ES256';

export interface KeySetOptions {
  jwksUri: () => Promise<string>;
  issuer: string;
  audience: string;
  /** The JWS `typ` every token must carry: at+jwt (access tokens) or twofold-assertion+jwt (forward-auth assertions). */
  typ?: string;
  algorithms: VerificationAlgorithm[];
  fetch: FetchFunction;
  timeoutMs: number;
  /** After a fetch that missed its kid (or failed): how long before unknown kids cause another. */
  refreshCooldownMs: number;
  maxAgeMs: number;
  now: () => number;
  onBackgroundError: (error: VerificationError) => void;
}

export interface KeySetStats {
  /** JWKS requests made. */
  fetches: number;
  /** When the JWKS last answered (the `now` clock, ms); null before that. */
  lastSuccessAt: number | null;
  /** The operator's text of the last failure, cleared by a success. */
  lastError: string | null;
  /** Kids published by the issuer as of the last answer. */
  kids: number;
}

interface PublishedKey {
  /** The JWK as published, to notice a changed key under a known kid. */
  fingerprint: string;
  check: SignatureCheck;
}

interface KeyFetch {
  /** Fetches are numbered in the order they start: one numbered above a lookup's mark began after it. */
  id: number;
  done: Promise<void>;
}

const keyTypeOf: Record<VerificationAlgorithm, { kty: string; crv: string }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
};

const monotonicNow = (): number => performance.now();

export class RemoteKeySet {
  private keys = new Map<string, PublishedKey>();
  /** Monotonic time of the last successful fetch. */
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inFlight: KeyFetch | undefined;
  private fetchesStarted = 0;
  private cooldownUntil = Number.NEGATIVE_INFINITY;
  private cooldownOver: Promise<void> | undefined;
  private failure: { error: VerificationError; until: number } | undefined;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;
  /** JWKS requests made, for the verifier's stats. */
  fetches = 0;

  constructor(private readonly options: KeySetOptions) {}

  /** The check for a kid; undefined only when a fetch made after this call began does not publish it. */
  async checkFor(kid: string): Promise<SignatureCheck | undefined> {
    const known = this.keys.get(kid);
    if (known !== undefined) {
      if (monotonicNow() - this.fetchedAt >= this.options.maxAgeMs) this.refreshInBackground();
      return known.check;
    }
    return this.lookUpUnknown(kid);
  }

  /** Fetches now, or joins the fetch in flight. */
  refresh(): Promise<void> {
    return (this.inFlight ?? this.startFetch()).done;
  }

  stats(): KeySetStats {
    return { fetches: this.fetches, lastSuccessAt: this.lastSuccessAt, lastError: this.lastError, kids: this.keys.size };
  }

  private async lookUpUnknown(kid: string): Promise<SignatureCheck | undefined> {
    const arrivedAfter = this.fetchesStarted;
    // At most two rounds: the fetch in flight when we arrived, then one that began after.
    for (;;) {
      const keyFetch = await this.fetchToWaitFor();
      await keyFetch.done;
      const found = this.keys.get(kid);
      if (found !== undefined) return found.check;
      if (keyFetch.id > arrivedAfter) {
        this.cooldownUntil = Math.max(this.cooldownUntil, monotonicNow() + this.options.refreshCooldownMs);
        return undefined;
      }
    }
  }

  /** The fetch in flight, a new one, or — during a cooldown — the one made when it ends. */
  private async fetchToWaitFor(): Promise<KeyFetch> {
    for (;;) {
      if (this.inFlight !== undefined) return this.inFlight;
      const now = monotonicNow();
      if (this.failure !== undefined && now < this.failure.until) throw this.failure.error;
      if (now >= this.cooldownUntil) return this.startFetch();
      await this.endOfCooldown();
    }
  }

  /** One timer however many lookups wait; when it fires the first of them starts the fetch and the rest join it. */
  private endOfCooldown(): Promise<void> {
    this.cooldownOver ??= new Promise<void>((resolve) => {
      setTimeout(
        () => {
          this.cooldownOver = undefined;
          resolve();
        },
        Math.max(0, this.cooldownUntil - monotonicNow()),
      );
    });
    return this.cooldownOver;
  }

  private refreshInBackground(): void {
    if (this.inFlight !== undefined || (this.failure !== undefined && monotonicNow() < this.failure.until)) return;
    this.startFetch().done.catch(this.options.onBackgroundError);
  }

  private startFetch(): KeyFetch {
    const id = ++this.fetchesStarted;
    const done = (async () => {
      try {
        await this.fetchKeys();
        this.failure = undefined;
        this.lastError = null;
      } catch (caught) {
        const error = caught instanceof VerificationError ? caught : verifierUnavailable(`Could not load the JWKS: ${String(caught)}`, caught);
        this.failure = { error, until: monotonicNow() + this.options.refreshCooldownMs };
        this.lastError = error.diagnostic;
        throw error;
      } finally {
        if (this.inFlight?.id === id) this.inFlight = undefined;
      }
    })();
    const keyFetch = { id, done };
    // Set before anyone awaits: every lookup from now on joins this fetch.
    this.inFlight = keyFetch;
    return keyFetch;
  }

  private async fetchKeys(): Promise<void> {
    this.fetches += 1;
    const jwksUri = await this.options.jwksUri();
    const document = await fetchJson(this.options.fetch, jwksUri, this.options.timeoutMs, 'the JWKS');
    if (!Array.isArray(document['keys'])) throw verifierUnavailable(`The JWKS at ${jwksUri} has no keys array`);
    const next = new Map<string, PublishedKey>();
    for (const jwk of document['keys'] as unknown[]) {
      const entry = this.usableKey(jwk);
      if (entry !== undefined && !next.has(entry.kid)) next.set(entry.kid, entry.key);
    }
    this.keys = next;
    this.fetchedAt = monotonicNow();
    this.lastSuccessAt = this.options.now();
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
      check = createSignatureCheck({ publicJwk: jwk, algorithm, typ: this.options.typ ?? 'at+jwt', issuer: this.options.issuer, audience: this.options.audience });
    } catch {
      return undefined; // not a usable key (a malformed JWK)
    }
    return { kid, key: { fingerprint, check } };
  }
}
