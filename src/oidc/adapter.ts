// oidc-provider's storage over Twofold's database (SQLite or PostgreSQL): one adapter per model
// kind (AuthorizationCode, Session, Grant, Interaction, Client, …), all in the oidc_payloads table.
// find honours expiry itself (an expired row is absent, whatever the upkeep has deleted yet) and
// reports a consumed row with `consumed` set, which is how the provider detects a replayed code
// and revokes what it gave; consume is one conditional update, so only one redemption wins — the
// provider reads a code or refresh token before it consumes it, so concurrent redemptions all read
// it unused: every one but the winner is refused here as a replay, and revokes the grant.
import type { Kysely } from 'kysely';
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import type { SecretBox } from '../core/crypto/secretbox.js';
import type { Database, OidcPayloadRow } from '../store/database.js';
import {
  consumeOidcPayload,
  deleteOidcPayload,
  deleteOidcPayloadsOfGrant,
  findLiveOidcPayload,
  upsertOidcPayload,
  type OidcLookup,
} from '../store/repositories/oidc-payloads.js';
import { oidcClientKind, providerClientMetadata } from './clients.js';

export interface OidcAdapterOptions {
  db: Kysely<Database>;
  /** Opens a confidential client's sealed secret for the provider (clients.ts). */
  secretBox: SecretBox;
  now(): number;
}

function toPayload(row: OidcPayloadRow | undefined): AdapterPayload | undefined {
  if (row === undefined) return undefined;
  const payload = JSON.parse(row.payload) as AdapterPayload;
  return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(Number(row.consumed_at) / 1000) };
}

/** The kinds a client redeems at the token endpoint: of concurrent redemptions, the losers are replays. */
const redeemedOnce = new Set(['AuthorizationCode', 'RefreshToken']);

export function createOidcAdapter(options: OidcAdapterOptions): AdapterConstructor {
  const { db, now, secretBox } = options;
  return class TwofoldOidcAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      await upsertOidcPayload(db, {
        kind: this.kind,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: expiresIn === undefined ? null : now() + expiresIn * 1000,
        consumed_at: null,
      });
    }

    private async findBy(by: OidcLookup, value: string): Promise<AdapterPayload | undefined> {
      const payload = toPayload(await findLiveOidcPayload(db, this.kind, by, value, now()));
      if (payload === undefined || this.kind !== oidcClientKind) return payload;
      return providerClientMetadata(payload, secretBox) as AdapterPayload | undefined;
    }

    find(id: string): Promise<AdapterPayload | undefined> {
      return this.findBy('id', id);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findBy('uid', uid);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findBy('user_code', userCode);
    }

    async consume(id: string): Promise<void> {
      if (await consumeOidcPayload(db, this.kind, id, now())) return;
      if (!redeemedOnce.has(this.kind)) return;
      const row = await findLiveOidcPayload(db, this.kind, 'id', id, now());
      if (row !== undefined && row.grant_id !== null) await deleteOidcPayloadsOfGrant(db, row.grant_id);
      throw new errors.InvalidGrant(`${this.kind === 'RefreshToken' ? 'refresh token' : 'authorization code'} already used`);
    }

    async destroy(id: string): Promise<void> {
      await deleteOidcPayload(db, this.kind, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await deleteOidcPayloadsOfGrant(db, grantId);
    }
  };
}
