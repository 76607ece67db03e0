// The sign-in form: username and password, and — where passkeys are on — "Sign in with a passkey"
// plus passkeys offered in the username field's autofill (autocomplete "username webauthn",
// conditional UI). The passkey part is hidden until the page script finds WebAuthn
// (src/ui/browser/passkey-sign-in.ts); without JavaScript the page is the password form it was.
import type { FlowContext } from '../../flows/shared/context.js';
import { csrfField } from '../csrf.js';
import { field } from '../forms.js';
import { html, type SafeHtml } from '../html.js';

export interface SignInFormState {
  username: string;
  error?: string | undefined;
  /** A passkey the sign-in did not know: the page asks the browser to stop offering it (Signal API). */
  unknownCredentialId?: string | undefined;
  /**
   * A passkey was just refused: the autofill request is not started again on this page (a browser
   * that answers it at once would post the same passkey over and over); the button stays.
   */
  passkeyRefused?: boolean | undefined;
}

export function renderSignInForm(ctx: FlowContext, csrf: string, state: SignInFormState): SafeHtml {
  const passkeys = ctx.config.factors.has('webauthn');
  return html`<form class="stack card" method="post" action="/sign-in" novalidate>
  ${csrfField(csrf)}
  ${state.error === undefined ? '' : html`<p class="error" role="alert">${state.error}</p>`}
  ${field({ label: 'Username', name: 'username', autocomplete: passkeys ? 'username webauthn' : 'username', value: state.username, autofocus: true, maxlength: 256 })}
  ${field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', maxlength: 1024 })}
  <button type="submit">Continue</button>
</form>
${passkeys ? passkeySignInForm(csrf, state.passkeyRefused === true) : ''}
${state.unknownCredentialId === undefined ? '' : html`<div hidden data-passkey-signal="unknown-credential" data-rp-id="${ctx.config.webauthn.rpId}" data-credential-id="${state.unknownCredentialId}"></div>`}
<p class="muted">${ctx.config.passwordResetChannels.length > 0 ? html`<a href="/forgot-password">Forgot your password?</a> · ` : ''}New here? <a href="/sign-up">Create an account</a></p>`;
}

function passkeySignInForm(csrf: string, refused: boolean): SafeHtml {
  return html`<form class="stack passkey-sign-in" method="post" action="/sign-in/passkey" data-passkey-sign-in="/sign-in/passkey/options" data-conditional="${refused ? 'off' : 'on'}" hidden novalidate>
  ${csrfField(csrf)}
  <input type="hidden" name="challenge_id" value="">
  <input type="hidden" name="credential" value="">
  <p class="or"><span>or</span></p>
  <button type="button" class="secondary" data-passkey-sign-in-button>Sign in with a passkey</button>
  <p class="muted">No username or password: your device asks for its PIN or biometrics.</p>
</form>`;
}
