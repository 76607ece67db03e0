// The frame of every page: one stylesheet, one deferred script, the icon, a header that knows
// whether someone is signed in (or half-way: signed up or past the password, not yet past the
// second factor — then it offers neither "Sign in" nor "Create account"; someone holding an admin
// role is also offered the console), and a live region where errors are announced to screen readers.
import { html, type SafeHtml } from './html.js';
import { csrfField } from './csrf.js';

export interface PageFrame {
  title: string;
  serviceName: string;
  csrf: string;
  signedIn: boolean;
  /** The signed-in person holds an admin role: the header links the admin console. */
  adminLink?: boolean;
  /** Signed up or past the password step, with the second factor still to come (a pending sign-in). */
  pending?: boolean;
  wide?: boolean;
  /** A message for the whole page (an error, or a notice after an action). */
  notice?: { kind: 'error' | 'ok' | 'info'; text: string } | undefined;
}

export function renderPage(frame: PageFrame, body: SafeHtml): string {
  const notice = frame.notice;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${frame.title} · ${frame.serviceName}</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/style.css">
<script src="/assets/app.js" type="module" defer></script>
</head>
<body>
<header class="site">
  <a class="brand" href="/">${frame.serviceName}</a>
  ${headerNav(frame)}
</header>
<main class="${frame.wide === true ? 'wide' : ''}">
<h1>${frame.title}</h1>
<div role="status" aria-live="polite" data-error class="${notice === undefined ? '' : `notice ${notice.kind}`}">${notice?.text}</div>
${body}
</main>
<footer class="site">Protected by two-factor authentication · ${frame.serviceName}</footer>
</body>
</html>
`.toString();
}

function headerNav(frame: PageFrame): SafeHtml | string {
  if (frame.signedIn) {
    const admin = frame.adminLink === true ? html`<a href="/admin">Admin</a>` : '';
    return html`<nav class="row" aria-label="Account">${admin}<a href="/account">Account</a><form method="post" action="/sign-out">${csrfField(frame.csrf)}<button class="secondary" type="submit">Sign out</button></form></nav>`;
  }
  // Half-way through: the page itself says how to go on or cancel.
  if (frame.pending === true) return '';
  return html`<nav class="row" aria-label="Account"><a href="/sign-in">Sign in</a><a href="/sign-up">Create account</a></nav>`;
}
