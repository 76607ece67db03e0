// RFC 6749 5.2 names the error for a client that asks the token endpoint for a grant it is not
// registered for (a service client's authorization code, a web app's refresh token, a public
// client's client credentials): unauthorized_client. oidc-provider answers that case with
// invalid_request; this middleware around it gives the RFC's code, and changes nothing else — the
// status, the description and every other refusal stay the provider's.
import type { KoaContextWithOIDC } from 'oidc-provider';

export async function unauthorizedGrantAsRfcError(koa: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
  await next();
  if (koa.oidc?.route !== 'token' || koa.status !== 400) return;
  const body = koa.body as { error?: unknown } | undefined;
  const grantType = koa.oidc.params?.['grant_type'];
  const client = koa.oidc.client;
  if (body?.error !== 'invalid_request' || typeof grantType !== 'string' || client === undefined) return;
  if (!client.grantTypeAllowed(grantType)) koa.body = { ...body, error: 'unauthorized_client' };
}
