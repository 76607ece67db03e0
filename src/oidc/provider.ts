// The OpenID Provider: panva's oidc-provider does the protocol (parsing, validation, codes, tokens,
// discovery); Twofold supplies its storage (adapter.ts), its signing key (signing-key.ts), the
// accounts and the logins (interaction.ts). The policy is fixed, not configurable: the
// authorization code flow (refresh tokens and client credentials beside it: tokens-configuration.ts),
// PKCE with S256 for every client, no implicit or hybrid responses, dynamic registration only as
// the operator allows (client-policy-configuration.ts), DPoP as config.dpop says
// (dpop-configuration.ts), the RFC 9207 `iss` in every authorization
// response (the provider's default), and ID tokens signed with Twofold's algorithm.
import Provider, { interactionPolicy, type Configuration, type FindAccount } from 'oidc-provider';
import { loadOrCreateServerSecret } from '../flows/keys/server-secrets.js';
import type { FlowContext } from '../flows/shared/context.js';
import { twofoldDiscoveryMetadata } from '../http/routes/well-known.js';
import { findUserById } from '../store/repositories/users.js';
import { createOidcAdapter } from './adapter.js';
import { accountOfUser } from './account.js';
import { clientPolicyConfiguration } from './client-policy-configuration.js';
import { mergeConfiguration } from './configuration-parts.js';
import { scopeClaims } from './scope-claims.js';
import { logoutConfiguration } from './logout-configuration.js';
import { currentPrivateJwk } from './signing-key.js';
import { tokensConfiguration } from './tokens-configuration.js';
import { signOutOfTwofoldAtLogout } from './twofold-sign-out.js';
import { discoveryWithoutFragment } from './discovery-response-modes.js';
import { unauthorizedGrantAsRfcError } from './unauthorized-grant.js';
import { assuranceLevels } from '../core/tokens/assurance-levels.js';
import { clientUnderDpopPolicy, dpopConfiguration } from './dpop-configuration.js';
import { dpopRefusalsAsRfcError } from './dpop-refusals.js';

/** Where the provider's endpoints live; stable, documented in the README. */
export const oidcRoutes = {
  authorization: '/oidc/auth',
  token: '/oidc/token',
  userinfo: '/oidc/me',
  jwks: '/.well-known/jwks.json',
  end_session: '/oidc/session/end',
  revocation: '/oidc/token/revocation',
  introspection: '/oidc/token/introspection',
  pushed_authorization_request: '/oidc/request',
  code_verification: '/oidc/device',
  device_authorization: '/oidc/device/auth',
  registration: '/oidc/reg',
  backchannel_authentication: '/oidc/backchannel',
  challenge: '/oidc/challenge',
} as const;

export const oidcInteractionPrefix = '/oidc/interaction/';

function encodeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The secret the provider signs its cookies with: the same on every instance, sealed in the database. */
const cookieSecretName = 'oidc-cookie-key';

/**
 * The provider's own session never stands in for Twofold's: every authorization request goes
 * through the login interaction, which answers at once from the Twofold session if there is one
 * (one redirect) and sends the browser to the hosted sign-in if not — so signing out of Twofold,
 * or a session revoked there, ends the provider's logins too. (prompt=none therefore answers
 * login_required in this step.)
 */
function loginEveryTime(): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  if (login === undefined) throw new Error('oidc-provider has no login prompt');
  login.checks.add(
    new interactionPolicy.Check('twofold_session', 'the Twofold session is checked on every authorization', (koa) => koa.oidc.result?.['login'] === undefined),
    0,
  );
  return policy;
}

export async function createOidcProvider(ctx: FlowContext): Promise<{ provider: Provider; kid: string }> {
  const signingJwk = await currentPrivateJwk(ctx);
  const cookieKey = await loadOrCreateServerSecret(ctx.db, ctx.secretBox, cookieSecretName, ctx.now());
  const algorithm = ctx.config.tokens.signingAlgorithm;

  // A token's account comes with its grant's Twofold session (logout-configuration.ts); this is the rest.
  const findAccount: FindAccount = async (_koa, sub) => accountOfUser(await findUserById(ctx.db, sub));

  const { issuer, token_endpoint: refreshEndpoint, ...twofoldMetadata } = twofoldDiscoveryMetadata(ctx);
  const base: Configuration = {
    adapter: createOidcAdapter({
      db: ctx.db,
      kv: ctx.kv,
      secretBox: ctx.secretBox,
      now: () => ctx.now(),
      clientUnderPolicy: (metadata) => clientUnderDpopPolicy(metadata, ctx.config.dpop.mode),
    }),
    clients: [],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // Never the fragment for the code (client-policy-configuration.ts).
      response_modes: ['query', 'form_post'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: algorithm,
    },
    // Public clients (none, with PKCE) and confidential ones with a client secret (clients.ts) or a key (client-options.ts).
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    // Every level the interaction can earn, weakest first (assurance-levels.ts).
    acrValues: [...assuranceLevels],
    claims: scopeClaims,
    cookies: { keys: [cookieKey.toString('base64url')] },
    jwks: { keys: [signingJwk as never] },
    enabledJWA: { idTokenSigningAlgValues: [algorithm] },
    findAccount,
    interactions: { url: (_koa, interaction) => `${oidcInteractionPrefix}${interaction.uid}`, policy: loginEveryTime() },
    routes: oidcRoutes,
    // The claims parameter: a relying party can make acr essential (aal2), which the interaction
    // meets with a second factor and the provider then checks again before issuing a code.
    features: { devInteractions: { enabled: false }, claimsParameter: { enabled: true } },
    // Lifetimes as Twofold's own: an access token as long as Twofold's, the provider's session and
    // grant no longer than a Twofold session may last, ten minutes to finish a sign-in.
    ttl: {
      AccessToken: ctx.config.tokens.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: ctx.config.tokens.accessTokenTtlSeconds,
      Interaction: 600,
      Session: ctx.config.sessions.absoluteTimeoutSeconds,
      Grant: ctx.config.sessions.absoluteTimeoutSeconds,
    },
    // The error page says only the error's code and description (escaped by encodeHtml), nothing of the request.
    renderError: (koa, out) => {
      koa.type = 'html';
      koa.body = `<!doctype html><meta charset="utf-8"><title>Sign-in error</title><h1>That sign-in request did not work</h1><p>${encodeHtml(String(out.error))}: ${encodeHtml(String(out.error_description ?? ''))}</p>`;
    },
    // The provider's own keys win; Twofold's own fields are added (defaults, never overrides).
    discovery: { ...twofoldMetadata, twofold_refresh_endpoint: refreshEndpoint },
  };
  // One part per capability, each beside its code (configuration-parts.ts).
  const parts: Partial<Configuration>[] = [logoutConfiguration(ctx, base), tokensConfiguration(ctx), await clientPolicyConfiguration(ctx), await dpopConfiguration(ctx)];
  const provider = new Provider(String(issuer), mergeConfiguration(base, parts));
  // Its scheme and host come from the forwarded headers routes.ts sets to the public URL's.
  provider.proxy = true;
  provider.use(signOutOfTwofoldAtLogout(ctx));
  provider.use(unauthorizedGrantAsRfcError);
  provider.use(dpopRefusalsAsRfcError(provider));
  provider.use(discoveryWithoutFragment);
  return { provider, kid: String(signingJwk.kid) };
}
