// oidc-provider's discovery document always lists the `fragment` response mode, and its
// `discovery` option only adds missing fields. Twofold never sends a code in a fragment (OAuth 2.1;
// client-policy-configuration.ts refuses it), so the document says what is true: query and
// form_post. A middleware after the provider's own answer, as its documentation suggests for
// changing what it answers; nothing else in the document changes.
import type { KoaContextWithOIDC } from 'oidc-provider';

const offeredResponseModes: ReadonlySet<string> = new Set(['query', 'form_post']);

export async function discoveryWithoutFragment(koa: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
  await next();
  if (koa.oidc?.route !== 'discovery' || koa.status !== 200) return;
  const body = koa.body as { response_modes_supported?: unknown } | undefined;
  if (!Array.isArray(body?.response_modes_supported)) return;
  body.response_modes_supported = body.response_modes_supported.filter((mode: unknown) => typeof mode === 'string' && offeredResponseModes.has(mode));
}
