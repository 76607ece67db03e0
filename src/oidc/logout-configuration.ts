// The provider's settings for sessions and logout (one part of its configuration, provider.ts):
// - every ID token carries `sid`, the Twofold session id (session-grants.ts);
// - RP-initiated logout at /oidc/session/end with Twofold's pages (logout-pages.ts): only a
//   registered post_logout_redirect_uri is redirected to, with `state`; any other is refused with
//   the error page (never an open redirect); choosing to sign out also ends the Twofold session
//   (twofold-sign-out.ts, a middleware of the provider);
// - back-channel logout is announced in discovery (with sid); Twofold delivers it itself whenever
//   a Twofold session ends (session-end.ts), so the provider is never handed a client's URI.
import type { Configuration } from 'oidc-provider';
import type { FlowContext } from '../flows/shared/context.js';
import { logoutSource, postLogoutSuccessSource } from './logout-pages.js';
import { findAccountWithTwofoldSid, loadGrantOfTwofoldSession } from './session-grants.js';

export function logoutConfiguration(ctx: FlowContext, base: Configuration): Partial<Configuration> {
  const openidClaims = base.claims?.['openid'];
  return {
    findAccount: findAccountWithTwofoldSid(ctx),
    loadExistingGrant: loadGrantOfTwofoldSession(ctx),
    // sid with the openid scope: in every ID token (the account's claims carry it, session-grants.ts).
    claims: { openid: [...(Array.isArray(openidClaims) ? openidClaims : ['sub']), 'sid'] },
    features: {
      rpInitiatedLogout: { enabled: true, logoutSource: logoutSource(ctx), postLogoutSuccessSource: postLogoutSuccessSource(ctx) },
      backchannelLogout: { enabled: true },
    },
  };
}
