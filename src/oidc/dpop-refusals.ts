// RFC 9449 names the error for a token request whose DPoP proof does not do: invalid_dpop_proof —
// Twofold's own token routes answer it (the DPoP contract, the README's error table). oidc-provider
// answers a proof that is missing where one is required, a replayed proof, and a proof by another
// key than the one a refresh token or the authorization request's dpop_jkt is bound to with
// invalid_grant. This middleware around the token endpoint gives those the RFC's code and the
// provider's own description; the status (400) and every other refusal stay the provider's, and
// nothing is spent that the provider had not spent (it refuses these before consuming a code or
// rotating a refresh token). The provider tells which refusal it was only in the error it emits
// (`grant.error`), whose detail is one of its fixed messages below.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** oidc-provider's invalid_grant details that are about the DPoP proof (lib/helpers/sender_constraints.js, validate_dpop.js, grant_common.js, grants/refresh_token.js). */
const dpopRefusalDetails: ReadonlySet<string> = new Set([
  'DPoP proof JWT not provided',
  'missing DPoP proof JWT',
  'DPoP proof JWT Replay detected',
  'failed jkt verification',
  'DPoP proof key thumbprint does not match dpop_jkt',
]);

export function dpopRefusalsAsRfcError(provider: Provider): (koa: KoaContextWithOIDC, next: () => Promise<unknown>) => Promise<void> {
  const refusals = new WeakMap<object, string>();
  provider.on('grant.error', (koa: KoaContextWithOIDC, error: { error?: unknown; error_detail?: unknown }) => {
    if (error.error === 'invalid_grant' && typeof error.error_detail === 'string' && dpopRefusalDetails.has(error.error_detail)) refusals.set(koa, error.error_detail);
  });
  return async (koa, next) => {
    await next();
    const detail = refusals.get(koa);
    if (detail === undefined || koa.oidc?.route !== 'token' || koa.status !== 400) return;
    koa.body = { error: 'invalid_dpop_proof', error_description: detail };
  };
}
