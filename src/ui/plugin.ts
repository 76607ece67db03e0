// The hosted pages, mounted beside the API in their own encapsulated scope: only here are form
// bodies parsed and cookies read (by src/ui/cookies.ts, whatever cookie plugin a host app has); every POST carries a CSRF token; every page has a strict
// Content-Security-Policy (no inline script or style, no eval, no framing) and an HTML error page.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { TwofoldError } from '../errors.js';
import type { FlowContext } from '../flows/shared/context.js';
import { toTwofoldError } from '../http/error-handler.js';
import { oidcRedirectOriginsOf } from '../oidc/form-action-origins.js';
import { cookieNames, readCookie } from './cookies.js';
import { isValidCsrf } from './csrf.js';
import { html } from './html.js';
import { createPageKit, type PageKit } from './kit.js';
import { accountPages } from './pages/account.js';
import { adminPages } from './pages/admin/pages.js';
import { accountPasskeyPages } from './pages/account-passkeys.js';
import { enrollPages } from './pages/enroll.js';
import { signInPages } from './pages/sign-in.js';
import { passkeySignInPages } from './pages/passkey-sign-in.js';
import { passwordResetPages } from './pages/password-reset.js';
import { signUpPages } from './pages/sign-up.js';
import { verifyEmailPages } from './pages/verify-email.js';

// src/ui and dist/ui are both two levels below the package root; the assets are always built.
const assetsDirectory = new URL('../../dist/ui/assets/', import.meta.url);

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function loadAsset(name: string, type: string): Asset {
  const body = readFileSync(new URL(name, assetsDirectory));
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

export function pageSecurityPolicy(redirectOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    // A form's redirect counts as its target: the allow-listed return_to origins must be here.
    `form-action 'self'${redirectOrigins.map((origin) => ` ${origin}`).join('')}`,
  ].join('; ');
}

/** Pages of other parts mounted in the pages' scope (forward-auth's sign-in and logout): its CSRF check, CSP and error page. */
export type MorePages = (scope: FastifyInstance, kit: PageKit) => void;

export async function registerPages(app: FastifyInstance, ctx: FlowContext, morePages?: MorePages): Promise<void> {
  const assets = {
    '/assets/app.js': loadAsset('app.js', 'text/javascript; charset=utf-8'),
    '/assets/style.css': loadAsset('style.css', 'text/css; charset=utf-8'),
    '/assets/favicon.svg': loadAsset('favicon.svg', 'image/svg+xml'),
  };
  // Forward-auth's sign-in (and logout) ends in a redirect to an app under a protected domain —
  // any of its hosts on any port (a host-source without one allows only the scheme's default, and
  // apps behind a proxy on another port would stop on the sign-in page), over the page's own scheme
  // (or https from http).
  const forwardAuthSources = ctx.config.forwardAuth.enabled ? ctx.config.forwardAuth.domains.flatMap(({ domain }) => [`${domain}:*`, `*.${domain}:*`]) : [];
  const formActionSources = [...ctx.config.pages.allowedRedirectOrigins, ...forwardAuthSources];
  const policy = pageSecurityPolicy(formActionSources);
  const kit = createPageKit(ctx);

  await app.register(async (scope) => {
    await scope.register(formbody);
    // Pages are not part of the API: keep them out of the OpenAPI document.
    scope.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });

    scope.addHook('onSend', async (request, reply, payload) => {
      // A page of a provider sign-in: that application's redirect origin too (src/oidc/form-action-origins.ts).
      const oidcOrigins = ctx.config.oidc.enabled ? await oidcRedirectOriginsOf(ctx, request) : [];
      reply.header('Content-Security-Policy', oidcOrigins.length === 0 ? policy : pageSecurityPolicy([...formActionSources, ...oidcOrigins]));
      reply.header('X-Frame-Options', 'DENY');
      return payload;
    });

    scope.addHook('preValidation', async (request) => {
      if (request.method !== 'POST') return;
      const token = (request.body as Record<string, unknown> | undefined)?.['csrf'];
      if (!isValidCsrf(request, token)) throw new TwofoldError('forbidden', 'This form has expired. Go back, reload the page and try again.');
    });

    scope.setErrorHandler((error, request, reply) => {
      const known = toTwofoldError(error as Error);
      if (known === undefined) request.log.error({ err: error }, 'unhandled error on a page');
      const problem = known ?? new TwofoldError('internal_error', 'Something went wrong on our side. Please try again.');
      // The header as the cookies suggest (not checked here: the page offers nothing that acts on them).
      const signedIn = readCookie(request, cookieNames.access) !== undefined || readCookie(request, cookieNames.refresh) !== undefined;
      const pending = readCookie(request, cookieNames.pending) !== undefined;
      return kit.render(request, reply, { title: problem.status >= 500 ? 'Something went wrong' : 'That did not work', signedIn, pending, status: problem.status }, () => html`<p class="error" role="alert">${problem.message}</p><p><a href="/">Start again</a></p>`);
    });

    for (const [path, asset] of Object.entries(assets)) {
      scope.get(path, async (request, reply) => {
        reply.header('Cache-Control', 'public, max-age=300').header('ETag', asset.etag).type(asset.type);
        if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
        return reply.send(asset.body);
      });
    }
    // Browsers and tools that ask for the classic icon path get the page icon — unless the app
    // Twofold is mounted in serves its own there.
    if (!scope.hasRoute({ method: 'GET', url: '/favicon.ico' })) {
      scope.get('/favicon.ico', async (_request, reply) => reply.header('Cache-Control', 'public, max-age=86400').redirect('/assets/favicon.svg', 301));
    }

    signUpPages(scope, kit);
    signInPages(scope, kit);
    passkeySignInPages(scope, kit);
    enrollPages(scope, kit);
    accountPages(scope, kit);
    accountPasskeyPages(scope, kit);
    passwordResetPages(scope, kit);
    verifyEmailPages(scope, kit);
    adminPages(scope, kit);
    morePages?.(scope, kit);
  });
}
