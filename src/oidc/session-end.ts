// When Twofold sessions end — by any path: sign-out, "sign out everywhere", a password change, an
// admin, a reused refresh token, the provider's own logout — the provider's grants made in them are
// revoked (the grant and every code, access and refresh token under it: the app's tokens stop
// working at once) and each app that logged in with one of them and registered a back-channel
// logout URI is told (backchannel-logout.ts). Resource servers learn it from the revoked-sessions
// feed, which names the same session id as the ID tokens' sid.
import type Provider from 'oidc-provider';
import { chunksOf } from '../flows/shared/batches.js';
import type { FlowContext } from '../flows/shared/context.js';
import { deleteOidcGrants, listOidcGrantsOfSessions } from '../store/repositories/oidc-session-grants.js';
import { sendBackchannelLogout } from './backchannel-logout.js';
import { backchannelLogoutUriOf } from './clients.js';

export function endProviderLoginsOfSessions(ctx: FlowContext, provider: () => Promise<Provider>): (sessionIds: readonly string[]) => Promise<void> {
  return async (sessionIds) => {
    for (const chunk of chunksOf([...sessionIds])) {
      const grants = await listOidcGrantsOfSessions(ctx.db, chunk);
      if (grants.length === 0) continue;
      await deleteOidcGrants(ctx.db, grants.map((grant) => grant.id));
      // One logout token per app and session, however many grants it had there.
      const logins = new Map(grants.map((grant) => [`${grant.client_id} ${grant.session_id}`, grant]));
      const uris = new Map<string, string | undefined>();
      for (const login of logins.values()) {
        if (!uris.has(login.client_id)) uris.set(login.client_id, await backchannelLogoutUriOf(ctx.db, login.client_id));
        const uri = uris.get(login.client_id);
        if (uri !== undefined) sendBackchannelLogout(ctx, provider, { clientId: login.client_id, uri, sub: login.user_id, sid: login.session_id });
      }
    }
  };
}
