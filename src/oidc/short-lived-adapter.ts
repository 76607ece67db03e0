// The provider's short-lived, single-use rows — sign-in interactions (ten minutes), authorization
// codes (one minute), pushed authorization requests and replay markers — live in the key-value
// store (Redis when several instances run, memory for one) instead of the database: each login
// writes and consumes several of them, and a database write is a disk flush (SQLite's
// synchronous=FULL, PostgreSQL's commit), which made the provider's logins several times the cost
// of Twofold's own. Losing them (a single instance restarting) costs only a sign-in started again.
// Single use holds on every instance: consuming is one setIfAbsent, destroying an interaction one
// take, checking a replay marker one setIfAbsent (claimReplayMarker).
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { KeyValueStore } from '../store/kv/key-value-store.js';
import { shortLivedKey, type StoredEntry } from './short-lived-entries.js';

export const shortLivedKinds: ReadonlySet<string> = new Set(['Interaction', 'AuthorizationCode', 'PushedAuthorizationRequest', 'ReplayDetection']);


export interface ShortLivedAdapterOptions {
  kv: KeyValueStore;
  now(): number;
  /** What the provider does to a replayed code's grant (adapter.ts): its rows and the grant itself. */
  revokeGrant(grantId: string): Promise<void>;
}

/** Absent a lifetime from the provider, as long as the longest of these kinds lives. */
const defaultLifetimeMs = 600_000;

/**
 * The least a replay marker is kept. The provider accepts a DPoP proof whose iat is within five
 * minutes of its clock either way, but keeps the proof's jti only five minutes from its first use:
 * a proof dated ahead could be used again once its marker is gone and while its iat still passes.
 * Ten minutes covers the whole span in which any one proof is accepted (one carrying the
 * provider's nonce is not held to its iat but to the nonce, good for at most five minutes).
 */
export const replayMarkerMinimumLifetimeMs = 600_000;

export class ShortLivedOidcAdapter implements Adapter {
  constructor(
    private readonly kind: string,
    private readonly options: ShortLivedAdapterOptions,
  ) {}

  private key(id: string): string {
    return shortLivedKey(this.kind, id);
  }

  private consumedKey(id: string): string {
    return `oidc:${this.kind}:consumed:${id}`;
  }

  private uidKey(uid: string): string {
    return `oidc:${this.kind}:uid:${uid}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const asked = expiresIn === undefined ? defaultLifetimeMs : Math.max(1, expiresIn) * 1000;
    const lifetimeMs = this.kind === 'ReplayDetection' ? Math.max(asked, replayMarkerMinimumLifetimeMs) : asked;
    const entry: StoredEntry = { payload, expiresAt: this.options.now() + lifetimeMs };
    // A replay marker was already claimed by find (below); this only gives it the provider's lifetime.
    await this.options.kv.set(this.key(id), JSON.stringify(entry), lifetimeMs);
    if (typeof payload.uid === 'string') await this.options.kv.set(this.uidKey(payload.uid), id, lifetimeMs);
  }

  private async entry(id: string): Promise<StoredEntry | undefined> {
    const stored = await this.options.kv.get(this.key(id));
    return stored === undefined ? undefined : (JSON.parse(stored) as StoredEntry);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.kind === 'ReplayDetection') return this.claimReplayMarker(id);
    const entry = await this.entry(id);
    if (entry === undefined) return undefined;
    const consumedAt = await this.options.kv.get(this.consumedKey(id));
    return consumedAt === undefined ? entry.payload : { ...entry.payload, consumed: Math.floor(Number(consumedAt) / 1000) };
  }

  /**
   * The provider checks a jti (a client assertion's, a DPoP proof's) by a find, then saves it:
   * proofs replayed at once, on one instance or several, would all find nothing. So the find is
   * the claim — one setIfAbsent: the first finder of an id is told it is new and claims it, every
   * other finds it and is a replay, refused with the error the provider picks for the place
   * (invalid_client for an assertion, invalid_grant at the token endpoint, invalid_token at userinfo).
   */
  private async claimReplayMarker(id: string): Promise<AdapterPayload | undefined> {
    const marker: StoredEntry = { payload: { jti: id }, expiresAt: this.options.now() + replayMarkerMinimumLifetimeMs };
    if (await this.options.kv.setIfAbsent(this.key(id), JSON.stringify(marker), replayMarkerMinimumLifetimeMs)) return undefined;
    return (await this.entry(id))?.payload ?? marker.payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await this.options.kv.get(this.uidKey(uid));
    return id === undefined ? undefined : this.find(id);
  }

  findByUserCode(): Promise<AdapterPayload | undefined> {
    return Promise.resolve(undefined); // device codes are not offered
  }

  async consume(id: string): Promise<void> {
    const entry = await this.entry(id);
    const now = this.options.now();
    const won = entry !== undefined && (await this.options.kv.setIfAbsent(this.consumedKey(id), String(now), Math.max(1, entry.expiresAt - now)));
    if (won) return;
    // Lost to a concurrent redemption: a replay like any later one (see adapter.ts).
    if (this.kind === 'PushedAuthorizationRequest') throw new errors.InvalidRequestUri('request_uri has already been used');
    if (typeof entry?.payload.grantId === 'string') await this.options.revokeGrant(entry.payload.grantId);
    throw new errors.InvalidGrant('grant already consumed');
  }

  async destroy(id: string): Promise<void> {
    const taken = await this.options.kv.take(this.key(id));
    // The provider destroys an interaction as it resumes the authorization with its result: of
    // resumptions racing (on one instance or several), only the one that takes it goes on.
    if (taken === undefined && this.kind === 'Interaction') throw new errors.SessionNotFound('this sign-in was already completed');
    if (taken !== undefined) {
      const uid = (JSON.parse(taken) as StoredEntry).payload.uid;
      if (typeof uid === 'string') await this.options.kv.delete(this.uidKey(uid));
    }
  }

  /** A revoked grant's codes: its grant is destroyed with them (adapter.ts), and a code of a grant that is gone is refused. */
  async revokeByGrantId(): Promise<void> {}
}
