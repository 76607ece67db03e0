// oidc-provider's storage over Twofold's database (SQLite or PostgreSQL): one adapter per model
// kind (AuthorizationCode, Session, Grant, Interaction, Client, …), all in the oidc_payloads table.
// find honours expiry itself (an expired row is absent, whatever the upkeep has deleted yet) and
// reports a consumed row with `consumed` set, which is how the provider detects a replayed code
// and revokes what it gave; consume is one conditional update, so only one redemption wins.
import type { Kysely } from 'kysely';
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';
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
import { oidcClientKind, providerClientMetadata, storableClientPayload } from './clients.js';

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

export function createOidcAdapter(options: OidcAdapterOptions): AdapterConstructor {
  const { db, now, secretBox } = options;
  return class TwofoldOidcAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      // A client saved by the provider (dynamic registration) has its secret sealed like any other.
      const stored = this.kind === oidcClientKind ? storableClientPayload(payload, secretBox) : payload;
      await upsertOidcPayload(db, {
        kind: this.kind,
        id,
        payload: JSON.stringify(stored),
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
      await consumeOidcPayload(db, this.kind, id, now());
    }

    async destroy(id: string): Promise<void> {
      await deleteOidcPayload(db, this.kind, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await deleteOidcPayloadsOfGrant(db, grantId);
    }
  };
}
