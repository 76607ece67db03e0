// The provider's tokens and grants beyond the code flow: refresh tokens (offline_access, for
// clients registered with the refresh_token grant), client credentials for service clients
// (RFC 6749 4.4), resource indicators (RFC 8707) with RFC 9068 JWT access tokens for the
// resource servers the operator registered (TWOFOLD_OIDC_RESOURCES), introspection (RFC 7662)
// and revocation (RFC 7009).
//
// An access token for a resource is shaped like Twofold's own access token — typ at+jwt, signed
// with Twofold's current key, `sid` the Twofold session, `acr`, `amr` and `auth_time` of the
// login — so twofold/verify checks it exactly as it checks Twofold's own, revoked sessions
// included. A token without a resource stays opaque and is good only at userinfo.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { FlowContext } from '../flows/shared/context.js';
import { findSession } from '../store/repositories/sessions.js';
import { twofoldSessionIsLive, twofoldSessionOfGrant } from './session-grants.js';

/** What a token of a login carries of it (the code or refresh token it is minted from). */
interface LoginSource {
  grantId?: string;
  authTime?: number;
  acr?: string;
  amr?: string[];
}

function loginSource(koa: KoaContextWithOIDC): LoginSource | undefined {
  const { AuthorizationCode: code, RefreshToken: refreshToken } = koa.oidc.entities;
  return (refreshToken ?? code) as LoginSource | undefined;
}

/** The Twofold session the token's grant was made in (session-grants.ts binds every grant to one). */
async function twofoldSessionOf(ctx: FlowContext, source: LoginSource | undefined, koa: KoaContextWithOIDC): Promise<{ sessionId: string; live: boolean } | undefined> {
  return source?.grantId === undefined ? undefined : twofoldSessionOfGrant(ctx, source.grantId, koa);
}

export function tokensConfiguration(ctx: FlowContext): Partial<Configuration> {
  const resources = new Map(ctx.config.oidc.resources.map((resource) => [resource.uri, resource]));
  const accessTokenTtl = ctx.config.tokens.accessTokenTtlSeconds;

  return {
    features: {
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // RFC 7662 wants the caller authorized: a confidential client (a resource server) may ask
        // about any token, a public one learns nothing (always inactive, whatever it sends, so
        // the answer is no oracle). A token whose Twofold session has ended is inactive too.
        allowedPolicy: async (koa, client, token) => {
          if (client.clientAuthMethod === 'none') return false;
          if (token.kind === 'ClientCredentials') return true; // a service client's: no person, no session
          const sid = (token as { extra?: { sid?: unknown } }).extra?.sid;
          if (typeof sid === 'string') return twofoldSessionIsLive(ctx, sid, await findSession(ctx.db, sid));
          return (await twofoldSessionOf(ctx, token as LoginSource, koa))?.live === true;
        },
      },
      revocation: {
        enabled: true,
        // RFC 7009 2.1: a client revokes only its own tokens; another client's is refused (a
        // confidential caller is told invalid_request, a public one gets the RFC's empty 200).
        allowedPolicy: async (_koa, client, token) => {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      resourceIndicators: {
        enabled: true,
        // No resource asked for: no audience, an opaque token for userinfo.
        defaultResource: () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: (_koa, indicator) => {
          const resource = resources.get(indicator);
          if (resource === undefined) throw new errors.InvalidTarget('this resource is not registered with Twofold');
          return {
            scope: resource.scopes.join(' '),
            audience: resource.uri,
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: 'jwt',
            // Twofold's algorithm, so the key is Twofold's current signing key (the same JWKS).
            jwt: { sign: { alg: ctx.config.tokens.signingAlgorithm } },
          };
        },
      },
    },
    // A refresh token only for a client registered with the refresh_token grant that was granted
    // offline_access (the provider asks prompt=consent for that scope).
    issueRefreshToken: (_koa, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // A public client's refresh token is rotated on every use: presenting a used one again
    // revokes the whole grant (the provider's reuse detection; the adapter lets exactly one of
    // concurrent uses win). A confidential client's is bound to its authentication instead and
    // kept. Either way a refresh is refused once the Twofold session behind the login has ended.
    rotateRefreshToken: async (koa) => {
      if ((await twofoldSessionOf(ctx, loginSource(koa), koa))?.live !== true) {
        throw new errors.InvalidGrant('the Twofold session behind this grant has ended');
      }
      return koa.oidc.client?.clientAuthMethod === 'none';
    },
    // The login's claims in every access token of a person (the JWT ones and introspection); a
    // refresh copies them from the refresh token, so it never raises acr, amr or auth_time.
    extraTokenClaims: async (koa, token) => {
      if (token.kind !== 'AccessToken') return undefined;
      const source = loginSource(koa);
      const twofoldSessionId = (await twofoldSessionOf(ctx, source, koa))?.sessionId;
      if (twofoldSessionId === undefined || source?.authTime === undefined) {
        // A token no resource server could check against the revoked sessions is never issued.
        throw new errors.InvalidGrant('the sign-in behind this grant is no longer known');
      }
      return { sid: twofoldSessionId, auth_time: source.authTime, ...(source.acr === undefined ? {} : { acr: source.acr }), amr: source.amr ?? [] };
    },
    ttl: {
      // As long as a Twofold session may last; the grant (same bound) ends it anyway.
      RefreshToken: ctx.config.sessions.absoluteTimeoutSeconds,
      ClientCredentials: accessTokenTtl,
    },
  };
}
