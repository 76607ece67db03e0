// The consent page a third-party client's first authorization shows: which application (its name
// as registered, which the registrant chose, so its client id and the host it returns to are shown
// too), what it asks for in words, and Allow / Deny. A Twofold page (the hosted pages' frame and
// stylesheet), its form carrying the CSRF token; its content policy is the hosted pages' but for
// form-action, which also names the origin the answer is redirected to (a browser checks a form's
// redirects against form-action), and it is never framed (frame-ancestors 'none', X-Frame-Options):
// a framed consent page could be clicked through without the person knowing.
import { csrfField } from '../ui/csrf.js';
import { html, type SafeHtml } from '../ui/html.js';
import { renderPage } from '../ui/layout.js';
import { pageSecurityPolicy } from '../ui/plugin.js';

const scopeWords: Record<string, string> = {
  openid: 'Know who you are: your Twofold account id, and how and when you signed in',
  email: 'See your e-mail address and whether it is verified',
  profile: 'See your profile',
  offline_access: 'Stay connected while you are not using it',
};

export interface ConsentRequest {
  uid: string;
  clientId: string;
  clientName: string | undefined;
  redirectUri: string;
  scopes: readonly string[];
  username: string;
  serviceName: string;
  csrf: string;
}

/** The hosted pages' policy, its form allowed to go on to the app (a form's redirect counts as its target). */
export function consentPageSecurityPolicy(redirectUri: string): string {
  return pageSecurityPolicy([new URL(redirectUri).origin]);
}

function scopeLine(scope: string): SafeHtml {
  const words = scopeWords[scope];
  return words === undefined ? html`<li>Use the permission <code>${scope}</code></li>` : html`<li>${words}</li>`;
}

export function renderConsentPage(request: ConsentRequest): string {
  const name = request.clientName ?? request.clientId;
  const body = html`<p><strong>${name}</strong> <span class="muted">(client id <code>${request.clientId}</code>)</span> asks to use your account <strong>${request.username}</strong>. It will be able to:</p>
<ul data-consent-scopes>${request.scopes.map(scopeLine)}</ul>
<p class="muted">You will be sent back to <strong>${new URL(request.redirectUri).host}</strong>. Twofold remembers your answer for this application while you stay signed in.</p>
<form method="post" action="/oidc/interaction/${request.uid}/consent" class="row">
  ${csrfField(request.csrf)}
  <button type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`;
  return renderPage({ title: `Allow ${name} to use your account?`, serviceName: request.serviceName, csrf: request.csrf, signedIn: true }, body);
}
