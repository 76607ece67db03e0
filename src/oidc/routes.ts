// The OpenID Provider inside Twofold's Fastify app (TWOFOLD_OIDC=on). oidc-provider is a Koa app:
// its paths are handed to its (req, res) callback untouched — in a scope of their own whose body
// parser leaves the request stream unread, because the provider parses its own forms and JSON.
// The interaction route is Twofold's (interaction.ts). Discovery is the provider's document with
// Twofold's own merged in, at both well-known names. The provider is rebuilt when the key ring's
// current key changes, so a rotated signing key signs ID tokens within the key ring's reload
// interval, without a restart; every copy shares the database, so nothing in flight is lost.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { FlowContext } from '../flows/shared/context.js';
import { securityHeaders } from '../http/security-headers.js';
import { registerConsentRoute } from './consent.js';
import { handleInteraction } from './interaction.js';
import { createOidcProvider } from './provider.js';
import { endProviderLoginsOfSessions } from './session-end.js';
import { rememberRequestMeta } from './twofold-sign-out.js';
import { takeRegistrationBudget } from './registration-budget.js';

interface BuiltProvider {
  provider: Provider;
  kid: string;
  /** Koa's request handler, composed once per provider rather than per request. */
  handle: ReturnType<Provider['callback']>;
}

function currentProvider(ctx: FlowContext): () => Promise<BuiltProvider> {
  let built: Promise<BuiltProvider> | undefined;
  return async () => {
    const { kid } = await ctx.keys.currentKey();
    const previous = built;
    if (previous === undefined || (await previous).kid !== kid) {
      // Concurrent requests after a rotation share one rebuild.
      if (built === previous) built = createOidcProvider(ctx).then(({ provider, kid }) => ({ provider, kid, handle: provider.callback() }));
    }
    return built!;
  };
}

/**
 * The provider builds absolute URLs (its redirects, its cookies' Secure flag) from the request's
 * scheme and host. It is told Twofold's public URL instead, whatever the request said: a hostile
 * Host or X-Forwarded-Host never reaches a Location, an instance behind a load balancer answers
 * for the public name, and behind a proxy that ends TLS the cookies are still Secure. The client
 * address is the one Twofold worked out from its trusted proxies (TWOFOLD_TRUSTED_PROXIES).
 */
function seenAtPublicUrl(request: FastifyRequest, publicUrl: URL): void {
  const headers = request.raw.headers;
  for (const name of Object.keys(headers)) if (name.startsWith('x-forwarded-')) delete headers[name];
  headers['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1);
  headers['x-forwarded-host'] = publicUrl.host;
  headers['x-forwarded-for'] = request.ip;
}

export async function registerOidc(app: FastifyInstance, ctx: FlowContext): Promise<void> {
  const provider = currentProvider(ctx);
  await provider(); // a misconfiguration fails the start, not the first request
  const publicUrl = new URL(ctx.config.publicUrl);
  ctx.sessionEndHooks.add(endProviderLoginsOfSessions(ctx, async () => (await provider()).provider));

  // A hijacked answer skips Fastify's hooks: the provider's answers get Twofold's security headers
  // here — never framed, HSTS in production — except the content policy and caching, which the
  // provider sets per answer (its form_post page, its cacheable discovery).
  const { 'Content-Security-Policy': _policy, 'Cache-Control': _caching, ...providerHeaders } = securityHeaders({ strictTransportSecurity: ctx.config.mode === 'production' });
  const forward = (path?: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const { handle } = await provider();
    if (path !== undefined) request.raw.url = path;
    seenAtPublicUrl(request, publicUrl);
    rememberRequestMeta(request);
    reply.hijack();
    for (const [name, value] of Object.entries(providerHeaders)) reply.raw.setHeader(name, value);
    reply.raw.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
    await handle(request.raw, reply.raw);
  };

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });
    scope.get('/oidc/interaction/:uid', async (request, reply) => {
      seenAtPublicUrl(request, publicUrl);
      return handleInteraction(ctx, (await provider()).provider, request, reply);
    });
    // Dynamic registration, when on, costs the client network's budget first (registration-budget.ts).
    if (ctx.config.oidc.registration.mode !== 'off') {
      scope.post('/oidc/reg', async (request, reply) => ((await takeRegistrationBudget(ctx, request, reply)) ? forward()(request, reply) : reply));
      // RFC 7592: a registered client updates and deletes itself with its registration access token.
      scope.route({ method: ['PUT', 'DELETE'], url: '/oidc/reg/*', handler: forward() });
    }
    // OPTIONS too: a browser app's token or userinfo request with a DPoP header is preflighted, and
    // the provider answers it with its own per-client CORS (the DPoP header allowed, DPoP-Nonce exposed).
    scope.route({ method: ['GET', 'POST', 'OPTIONS'], url: '/oidc/*', handler: forward() });
    scope.route({ method: 'GET', url: '/.well-known/openid-configuration', handler: forward() });
    // RFC 8414's name for the same metadata.
    scope.route({ method: 'GET', url: '/.well-known/oauth-authorization-server', handler: forward('/.well-known/openid-configuration') });
  });
  await registerConsentRoute(app, ctx, async () => (await provider()).provider);
}
