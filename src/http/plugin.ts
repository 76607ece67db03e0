// Twofold's HTTP API (and, optionally, its hosted pages) as a Fastify plugin, so an existing
// Fastify app can mount it instead of running Twofold beside itself:
//
//   const twofold = await createTwofold(loadConfig());
//   await app.register(twofoldRoutes, { twofold, prefix: '/auth' });
//
// Everything Twofold needs is set inside its own encapsulated scope (this plugin is deliberately
// not wrapped in fastify-plugin) — its strict validator (no type coercion), serializers, JSON-only
// parsing, error handler and, under a prefix, its 404, the client IP by TWOFOLD_TRUSTED_PROXIES,
// its CORS policy, authentication hook, security and no-store headers, body limit, and the pages'
// own cookie and form handling — so the host app's own settings and routes are left exactly as
// they were, and Twofold's rules hold whatever the host configured or registered (docs/security.md,
// "Mounted means isolated"). The standalone server (buildApp) is this plugin on an app of its own.
import { AjvCompiler } from '@fastify/ajv-compiler';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { TwofoldError, invalidTokenError } from '../errors.js';
import type { Twofold } from '../twofold.js';
import { twofoldVersion } from '../version.js';
import { registerApiDocs } from './api-docs.js';
import { registerAuthentication } from './authenticate.js';
import { registerDpopNonceHeader } from './dpop/nonce-header.js';
import { documentDpop, dpopSecurityScheme } from './dpop/openapi.js';
import { registerTokenRequestProofs } from './dpop/token-requests.js';
import { registerCorsPolicy } from './cors-policy.js';
import { registerErrorHandling } from './error-handler.js';
import { metricsRoute, registerRequestTiming } from './metrics.js';
import { registerClientIp, registerOwnBodyParsing, registerOwnLogSerializers, registerOwnSerializers } from './own-rules.js';
import { sendProblem } from './problem.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './admin/users.js';
import { emailRoutes } from './routes/email.js';
import { factorRoutes } from './routes/factors.js';
import { healthRoutes } from './routes/health.js';
import { loginRoutes } from './routes/login.js';
import { mfaRoutes } from './routes/mfa.js';
import { passkeyRoutes } from './routes/passkeys.js';
import { registerRoutes } from './routes/register.js';
import { sessionRoutes } from './routes/session.js';
import { wellKnownRoutes } from './routes/well-known.js';
import { registerPages } from '../ui/plugin.js';
import { registerSecurityHeaders } from './security-headers.js';
import { startForwardAuth } from './forward-auth/start.js';

export interface TwofoldRoutesOptions {
  twofold: Twofold;
  /** The hosted pages (default: TWOFOLD_PAGES). They link to root paths, so only without a prefix. */
  pages?: boolean;
  /** Serve /openapi.json and the interactive docs at /docs (default true; false if the host documents its API itself). */
  openapi?: boolean;
  /**
   * Answer unknown paths with Twofold's problem+json 404/405. Default: under a prefix, yes (the
   * prefix is Twofold's); at the root, no (the host app's not-found handler stays in charge of
   * every other path). The standalone server turns it on.
   */
  notFoundHandler?: boolean;
  /**
   * Twofold's request log fields (no query string, the client IP by TWOFOLD_TRUSTED_PROXIES) for
   * its routes in the host's logger (default true). The standalone server's logger has them already.
   */
  logRequestFields?: boolean;
  /**
   * Serve GET /metrics and time requests (default: when TWOFOLD_METRICS or TWOFOLD_METRICS_TOKEN
   * turned metrics on). false leaves the timing and the route out, e.g. when the host app exposes
   * `twofold.metrics.registry` itself.
   */
  metrics?: boolean;
  /** Fastify's own option, set by `app.register(…, { prefix })`. */
  prefix?: string;
}

// A host may split the query at ";" too (Fastify's useSemicolonDelimiter).
const tokenQueryParameters = /(?:^|[?&;])(?:access_token|mfa_token|refresh_token|id_token|token)=/i;
const bearerTokenQueryParameters = /(?:^|[?&;])(?:access_token|mfa_token|refresh_token|id_token)=/i;

/** No coercion: {"password": ["x"]} or {"code": 123456} is a 400, not a quietly converted string. */
const strictValidation = { coerceTypes: false, removeAdditional: true, useDefaults: true, allErrors: false } as const;
const buildValidatorCompiler = AjvCompiler();

async function twofoldRoutesPlugin(app: FastifyInstance, options: TwofoldRoutesOptions): Promise<void> {
  const { twofold } = options;
  const ctx = twofold.context;
  const pages = options.pages ?? twofold.config.pages.enabled;
  const metrics = options.metrics === false ? undefined : twofold.metrics;
  const prefixed = options.prefix !== undefined && options.prefix !== '' && options.prefix !== '/';
  // The provider's logins are the hosted pages' sign-in.
  if (twofold.config.oidc.enabled && !pages) throw new TwofoldError('invalid_request', 'TWOFOLD_OIDC needs the hosted pages (TWOFOLD_PAGES) at the root.');
  if (pages && prefixed) {
    throw new TwofoldError('invalid_request', 'The hosted pages link to root paths; mount Twofold with pages: false under a prefix.');
  }

  app.setValidatorCompiler(buildValidatorCompiler({}, { customOptions: strictValidation, plugins: [] }) as Parameters<FastifyInstance['setValidatorCompiler']>[0]);
  registerOwnSerializers(app);
  registerOwnBodyParsing(app);
  registerClientIp(app, twofold.config.http.trustedProxies);
  if (options.logRequestFields !== false) registerOwnLogSerializers(app);
  // The body limit is per route, so a host app with a larger global limit does not widen ours.
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= twofold.config.http.bodyLimitBytes;
    // The OpenAPI document says which routes take a Bearer token (mfa_token or access token), and
    // which take a DPoP-bound access token too.
    if (route.config?.auth !== undefined && route.schema !== undefined && route.schema.security === undefined) {
      const dpop = twofold.config.dpop.mode !== 'off' && route.config.auth !== 'mfa';
      route.schema = { ...route.schema, security: dpop ? [{ bearer: [] }, { dpop: [] }] : [{ bearer: [] }] };
    }
  });
  // Before any route (CORS adds one): each route's timing hook is made as the route is added.
  if (metrics !== undefined) registerRequestTiming(app, metrics);
  registerSecurityHeaders(app, { strictTransportSecurity: twofold.config.mode === 'production' });
  await registerCorsPolicy(app, { origins: twofold.config.http.corsOrigins, prefixed });
  registerErrorHandling(app, { notFoundHandler: options.notFoundHandler ?? prefixed });
  if (options.openapi !== false) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Twofold', version: twofoldVersion, description: 'Two-factor authentication API: password, then a second factor, then RFC 9068 access tokens.' },
        servers: [{ url: twofold.config.publicUrl }],
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
            ...(twofold.config.dpop.mode === 'off' ? {} : { dpop: dpopSecurityScheme }),
          },
        },
      },
      transform: (documented) => documentDpop(twofold.config, documented),
    });
  }

  app.addHook('onRequest', (request, reply, done) => {
    const queryStart = request.url.search(/[?;]/);
    // One exception: the link mailed to verify an address carries its token in the URL (a mail can
    // carry nothing else). It is single use, bound to the account and the address, only shown by a
    // GET that changes nothing, kept out of the log (no query strings there) and of any Referer.
    const verificationLink = pages && request.method === 'GET' && request.url.slice(0, queryStart) === '/verify-email';
    if (queryStart !== -1 && (verificationLink ? bearerTokenQueryParameters : tokenQueryParameters).test(request.url.slice(queryStart))) {
      sendProblem(reply, invalidTokenError('Tokens are never accepted in the URL; use the Authorization header.'));
      return;
    }
    done();
  });
  registerAuthentication(app, ctx);
  registerTokenRequestProofs(app, ctx);
  registerDpopNonceHeader(app, ctx);

  registerRoutes(app, ctx);
  loginRoutes(app, ctx);
  factorRoutes(app, ctx);
  mfaRoutes(app, ctx);
  passkeyRoutes(app, ctx);
  sessionRoutes(app, ctx);
  accountRoutes(app, ctx);
  adminRoutes(app, ctx);
  emailRoutes(app, ctx);
  wellKnownRoutes(app, ctx);
  healthRoutes(app, ctx, () => twofold.database.ping());
  if (metrics !== undefined) metricsRoute(app, metrics, { token: twofold.config.metrics.token });
  if (options.openapi !== false) {
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    await registerApiDocs(app);
  }
  // Forward-auth (TWOFOLD_FORWARD_AUTH=on): the endpoint proxies ask, and its pages on the portal.
  const forwardAuth = twofold.config.forwardAuth.enabled ? await startForwardAuth(app, ctx, { pages }) : undefined;
  if (pages) await registerPages(app, ctx, forwardAuth?.pages);
  // Loaded only when on: oidc-provider (and its start-up notices) stays out of every other process.
  if (twofold.config.oidc.enabled) await (await import('../oidc/routes.js')).registerOidc(app, ctx);
}

export const twofoldRoutes = twofoldRoutesPlugin;
