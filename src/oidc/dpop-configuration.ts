// DPoP (RFC 9449) at the OpenID Provider: oidc-provider's own implementation does the protocol —
// the proof check at the token endpoint and at userinfo, `token_type: DPoP`, `cnf.jkt` in a bound
// JWT access token (RFC 9068), a public client's refresh token bound to the proof's key, the
// `DPoP-Nonce` header, `dpop_signing_alg_values_supported` in discovery. Twofold supplies the
// policy (config.dpop, the same TWOFOLD_DPOP and TWOFOLD_DPOP_NONCE as its own API):
// - off: the feature is disabled, DPoP headers are ignored and every token is a bearer token;
// - allowed: a token request with a valid proof gets a bound token; a client registered with
//   `dpop_bound_access_tokens` (`twofold clients add|update --dpop`) must send one;
// - required: every client is such a client (clientUnderDpopPolicy, applied as the adapter reads it).
// Nonces are the provider's stateless HMAC challenges under a 32-byte secret sealed in the
// database, so any instance accepts any instance's nonce. Proof jti replays are caught by the
// provider's ReplayDetection rows, which live in the shared short-lived store (Redis with several
// instances; short-lived-adapter.ts makes the check one atomic claim).
import type { Configuration } from 'oidc-provider';
import type { TwofoldConfig } from '../config/schema.js';
import { loadOrCreateServerSecret } from '../flows/keys/server-secrets.js';
import type { FlowContext } from '../flows/shared/context.js';

/** The HMAC key of the provider's DPoP nonces (its own scheme, so not Twofold's API's 'dpop-nonce'). */
export const oidcDpopNonceSecretName = 'oidc-dpop-nonce';

/** The client metadata name of RFC 9449 §5.2. */
export const dpopBoundAccessTokens = 'dpop_bound_access_tokens';

export async function dpopConfiguration(ctx: FlowContext): Promise<Partial<Configuration>> {
  const { mode, requireNonce, algorithms } = ctx.config.dpop;
  if (mode === 'off') return { features: { dPoP: { enabled: false } } };
  const nonceSecret = await loadOrCreateServerSecret(ctx.db, ctx.secretBox, oidcDpopNonceSecretName, ctx.now());
  return {
    features: { dPoP: { enabled: true, nonceSecret, requireNonce: () => requireNonce, allowReplay: false } },
    enabledJWA: { dPoPSigningAlgValues: algorithms as never },
  };
}

/**
 * A stored client's metadata as the provider is to see it under the policy: with DPoP required,
 * every client's tokens need a proof; with DPoP off, a client's own requirement is dropped (the
 * provider would not recognise it anyway).
 */
export function clientUnderDpopPolicy(metadata: Record<string, unknown>, mode: TwofoldConfig['dpop']['mode']): Record<string, unknown> {
  if (mode === 'required') return { ...metadata, [dpopBoundAccessTokens]: true };
  if (mode === 'off') {
    const { [dpopBoundAccessTokens]: _dropped, ...rest } = metadata;
    return rest;
  }
  return metadata;
}
