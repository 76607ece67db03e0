// Which Twofold session a login at the provider came from. The provider's own session is not
// Twofold's (its `sid` is per browser and per client), but an access token for a resource server
// must carry the Twofold session id as `sid`, exactly like Twofold's own access tokens, so that
// the revoked-sessions feed ends it at the resource when that session ends — and a refresh must
// stop when it has ended. The interaction hands the Twofold session id over in its login result;
// this middleware, around the provider's resume, keeps it keyed by the provider session's uid
// and the login's auth_time (what every code and refresh token of that login carries), so a later
// login in the same browser from another Twofold session never changes what an older grant says.
import type { Kysely } from 'kysely';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../store/database.js';
import { findLiveOidcPayload, upsertOidcPayload } from '../store/repositories/oidc-payloads.js';

const linkKind = 'TwofoldSessionLink';

interface StoredLink {
  twofoldSessionId: string;
}

/** The key of one login: the provider session's uid and the login's auth_time (seconds). */
function linkId(providerSessionUid: string, authTime: number): string {
  return `${providerSessionUid}:${authTime}`;
}

export interface TwofoldSessionLinkOptions {
  db: Kysely<Database>;
  now(): number;
  /** As long as the provider's grants may live: no token of that login outlives it. */
  ttlSeconds: number;
}

/** Provider middleware: after a resume that carried a Twofold login, keeps which Twofold session it was. */
export function twofoldSessionLinker(options: TwofoldSessionLinkOptions) {
  return async (koa: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> => {
    await next();
    if (koa.oidc?.route !== 'resume') return;
    const login = koa.oidc.result?.login;
    const twofoldSessionId = login?.['twofoldSessionId'];
    const uid = koa.oidc.session?.uid;
    if (typeof twofoldSessionId !== 'string' || typeof login?.ts !== 'number' || typeof uid !== 'string') return;
    const payload: StoredLink = { twofoldSessionId };
    await upsertOidcPayload(options.db, {
      kind: linkKind,
      id: linkId(uid, login.ts),
      payload: JSON.stringify(payload),
      grant_id: null,
      user_code: null,
      uid: null,
      expires_at: options.now() + options.ttlSeconds * 1000,
      consumed_at: null,
    });
  };
}

/** The Twofold session behind a login at the provider; undefined when it is not known (any more). */
export async function linkedTwofoldSession(db: Kysely<Database>, providerSessionUid: string, authTime: number, now: number): Promise<string | undefined> {
  const row = await findLiveOidcPayload(db, linkKind, 'id', linkId(providerSessionUid, authTime), now);
  return row === undefined ? undefined : (JSON.parse(row.payload) as StoredLink).twofoldSessionId;
}
