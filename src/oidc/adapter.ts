// oidc-provider's storage over Twofold's database (SQLite or PostgreSQL): one adapter per model
// kind (AuthorizationCode, Session, Grant, Interaction, Client, …), all in the oidc_payloads table.
// find honours expiry itself (an expired row is absent, whatever the upkeep has deleted yet) and
// reports a consumed row with `consumed` set, which is how the provider detects a replayed code
// and revokes what it gave. That check alone is a read before a write: requests redeeming one
// code at once (on one instance or several) would all read it unconsumed. So consume is one
// conditional update, and the redemptions that lose it are treated as the replays they are — the
// grant and everything issued from it revoked, the RFC's invalid_grant answered — exactly as a
// replay that came later (codes, and refresh tokens, which a public client's rotation consumes).
// An interaction is single use the same way: the one resumption that
// deletes it goes on.
import type { Kysely } from 'kysely';
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import type { SecretBox } from '../core/crypto/secretbox.js';
import type { KeyValueStore } from '../store/kv/key-value-store.js';
import type { Database, OidcPayloadRow } from '../store/database.js';
import {
  consumeOidcPayload,
  deleteOidcPayload,
  deleteOidcGrantRows,
  deleteOidcPayloadsOfGrant,
  findLiveOidcPayload,
  findOidcPayload,
  upsertOidcPayload,
  type OidcLookup,
} from '../store/repositories/oidc-payloads.js';
import { oidcClientKind, providerClientMetadata, storableClientPayload } from './clients.js';
import { ShortLivedOidcAdapter, shortLivedKinds } from './short-lived-adapter.js';
import { providerRowsExecutor } from './rows-in-transaction.js';
import { announceClientChange } from './client-change.js';

export interface OidcAdapterOptions {
  db: Kysely<Database>;
  /** Where the short-lived kinds live (short-lived-adapter.ts). */
  kv: KeyValueStore;
  /** Opens a confidential client's sealed secret for the provider (clients.ts). */
  secretBox: SecretBox;
  now(): number;
  /** The client's metadata as policy shapes it for the provider (dpop-configuration.ts); as stored when absent. */
  clientUnderPolicy?(metadata: Record<string, unknown>): Record<string, unknown>;
}

/** What the provider does to a replayed code's grant: every row issued from it, and the grant itself. */
const revokeGrant = (db: Kysely<Database>, grantId: string): Promise<void> => deleteOidcGrantRows(db, [grantId]);

function toPayload(row: OidcPayloadRow | undefined): AdapterPayload | undefined {
  if (row === undefined) return undefined;
  const payload = JSON.parse(row.payload) as AdapterPayload;
  return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(Number(row.consumed_at) / 1000) };
}

export function createOidcAdapter(options: OidcAdapterOptions): AdapterConstructor {
  const { db, now, secretBox, kv } = options;
  const underPolicy = options.clientUnderPolicy ?? ((metadata: Record<string, unknown>) => metadata);
  class DatabaseRowsAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      // A client saved by the provider (dynamic registration) has its secret sealed like any other.
      const stored = this.kind === oidcClientKind ? storableClientPayload(payload, secretBox) : payload;
      await upsertOidcPayload(providerRowsExecutor(db), {
        kind: this.kind,
        id,
        payload: JSON.stringify(stored),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: expiresIn === undefined ? null : now() + expiresIn * 1000,
        consumed_at: null,
      });
      if (this.kind === oidcClientKind) await announceClientChange(kv);
    }

    private async findBy(by: OidcLookup, value: string): Promise<AdapterPayload | undefined> {
      const payload = toPayload(await findLiveOidcPayload(providerRowsExecutor(db), this.kind, by, value, now()));
      if (payload === undefined || this.kind !== oidcClientKind) return payload;
      const metadata = providerClientMetadata(payload, secretBox);
      return metadata === undefined ? undefined : (underPolicy(metadata) as AdapterPayload);
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
      if (await consumeOidcPayload(providerRowsExecutor(db), this.kind, id, now())) return;
      // A pushed authorization request is not a grant: its loser is only told the request_uri is spent.
      if (this.kind === 'PushedAuthorizationRequest') throw new errors.InvalidRequestUri('request_uri has already been used');
      const grantId = (await findOidcPayload(db, this.kind, id))?.grant_id ?? null;
      if (grantId !== null) await revokeGrant(db, grantId);
      throw new errors.InvalidGrant(`${this.kind === 'RefreshToken' ? 'refresh token' : 'grant'} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      const deleted = await deleteOidcPayload(providerRowsExecutor(db), this.kind, id);
      if (deleted && this.kind === oidcClientKind) await announceClientChange(kv);
      // The provider destroys an interaction as it resumes the authorization with its result, after
      // reading it: of resumptions racing (on one instance or several), only the one that deletes
      // the row goes on to issue a code.
      if (!deleted && this.kind === 'Interaction') throw new errors.SessionNotFound('this sign-in was already completed');
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await deleteOidcPayloadsOfGrant(providerRowsExecutor(db), grantId);
    }
  }

  // The provider calls `new Adapter(kind)`; a constructor function may answer with any object, so
  // each kind gets its store: the short-lived ones the key-value store's, the rest the database's.
  function TwofoldOidcAdapter(kind: string): Adapter {
    if (shortLivedKinds.has(kind)) return new ShortLivedOidcAdapter(kind, { kv, now, revokeGrant: (grantId) => revokeGrant(db, grantId) });
    return new DatabaseRowsAdapter(kind);
  }
  return TwofoldOidcAdapter as unknown as AdapterConstructor;
}
