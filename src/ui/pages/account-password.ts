// The password on the account page: change it; remove it once the account has what signing in
// with a passkey alone needs (PW-15) — else what is missing, in words; and, without one, set a
// password again (PW-18). Every form is a POST with the page's CSRF token, and the flows ask for
// the step-up (the page sends the person through /account/verify when it is missing).
import type { PasswordlessVerdict } from '../../flows/factors/can-go-passwordless.js';
import { csrfField } from '../csrf.js';
import { field } from '../forms.js';
import { html, type SafeHtml } from '../html.js';

export interface PasswordSectionState {
  hasPassword: boolean;
  verdict: PasswordlessVerdict;
  /** Whether this server offers passkeys at all: without them, removing the password is not mentioned. */
  passkeysOffered: boolean;
  minLength: number;
  errors?: Record<string, string> | undefined;
}

export function renderPasswordSection(state: PasswordSectionState, csrf: string): SafeHtml {
  if (!state.hasPassword) {
    return html`<section aria-labelledby="password-heading" data-password="none">
  <h2 id="password-heading">Password</h2>
  <p>Your account has no password: you sign in with a passkey alone. If you lose your passkeys, reset your password by e-mail, then sign in with it and a second factor (a recovery code will do).</p>
  <form class="stack card" method="post" action="/account/password" novalidate>
    ${csrfField(csrf)}
    ${field({ label: 'New password', name: 'new_password', type: 'password', autocomplete: 'new-password', error: state.errors?.['new_password'], hint: `At least ${state.minLength} characters. Your other sessions will be signed out.`, maxlength: 1024 })}
    <button type="submit">Set a password</button>
  </form>
</section>`;
  }
  return html`<section aria-labelledby="password-heading" data-password="set">
  <h2 id="password-heading">Change password</h2>
  <form class="stack card" method="post" action="/account/password" novalidate>
    ${csrfField(csrf)}
    ${field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password', error: state.errors?.['current_password'], maxlength: 1024 })}
    ${field({ label: 'New password', name: 'new_password', type: 'password', autocomplete: 'new-password', error: state.errors?.['new_password'], hint: `At least ${state.minLength} characters. Your other sessions will be signed out.`, maxlength: 1024 })}
    <button type="submit">Change password</button>
  </form>
  ${state.passkeysOffered ? renderGoPasswordless(state.verdict, csrf) : ''}
</section>`;
}

function renderGoPasswordless(verdict: PasswordlessVerdict, csrf: string): SafeHtml {
  if (!verdict.allowed) {
    return html`<p class="muted" data-passwordless="not-yet">Sign in with a passkey alone, without a password: ${verdict.detail}</p>`;
  }
  return html`<form class="stack card" method="post" action="/account/password/remove" data-passwordless="allowed">
    ${csrfField(csrf)}
    <p>You can sign in with a passkey alone. Removing the password means nobody can sign in with a stolen one; if you lose your passkeys, reset the password by e-mail, then sign in with it and a second factor.</p>
    <button type="submit" class="danger">Remove password</button>
  </form>`;
}
