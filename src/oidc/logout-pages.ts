// The provider's logout pages in Twofold's own frame (the hosted pages' layout, stylesheet and
// strict Content-Security-Policy: no inline script or style, never framed). The confirmation page
// puts the provider's own form — its hidden xsrf token, bound to its session, which its confirm
// endpoint checks — beside two buttons: sign out of Twofold too, or stay signed in. The policy's
// form-action also names the registered post-logout redirect URI's origin (already checked by the
// provider against the client's registration), since the confirm answers with a redirect there.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { FlowContext } from '../flows/shared/context.js';
import { html, trustedMarkup } from '../ui/html.js';
import { renderPage } from '../ui/layout.js';
import { pageSecurityPolicy } from '../ui/plugin.js';

function appName(koa: KoaContextWithOIDC): string | undefined {
  const client = koa.oidc.client;
  if (client === undefined) return undefined;
  const name = client.metadata()['client_name'];
  return typeof name === 'string' ? name : client.clientId;
}

function answerPage(ctx: FlowContext, koa: KoaContextWithOIDC, title: string, body: ReturnType<typeof html>, formTargets: readonly string[]): void {
  koa.type = 'html';
  koa.set('Content-Security-Policy', pageSecurityPolicy([...ctx.config.pages.allowedRedirectOrigins, ...formTargets]));
  // No navigation in the header: these pages are a step of the provider, not of the account.
  koa.body = renderPage({ title, serviceName: ctx.config.serviceName, csrf: '', signedIn: false, pending: true }, body);
}

export function logoutSource(ctx: FlowContext) {
  return async (koa: KoaContextWithOIDC, form: string): Promise<void> => {
    const app = appName(koa);
    const redirect = koa.oidc.params?.['post_logout_redirect_uri'];
    const service = ctx.config.serviceName;
    const body = html`<div class="stack card">
<p>${app === undefined ? 'An application' : html`<strong>${app}</strong>`} has signed you out. Sign out of ${service} too? That ends your ${service} session in this browser and every application you signed in to with it.</p>
${trustedMarkup(form)}
<div class="row">
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out of ${service}</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>
</div>
</div>`;
    answerPage(ctx, koa, 'Sign out?', body, typeof redirect === 'string' ? [new URL(redirect).origin] : []);
  };
}

export function postLogoutSuccessSource(ctx: FlowContext) {
  return async (koa: KoaContextWithOIDC): Promise<void> => {
    const app = appName(koa);
    const body = html`<div class="stack card">
<p>${app === undefined ? 'You are signed out.' : html`You are signed out of <strong>${app}</strong>.`}</p>
<p><a href="/sign-in">Sign in again</a></p>
</div>`;
    answerPage(ctx, koa, 'Signed out', body, []);
  };
}
