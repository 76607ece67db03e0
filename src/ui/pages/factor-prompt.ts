// The second-factor prompt, shared by signing in (with the pending sign-in) and stepping up (with
// a signed-in session): pick a factor, then type a code, answer a passkey, or use a recovery code.
import type { FactorView } from '../../flows/shared/views.js';
import { csrfField } from '../csrf.js';
import { codeField, field } from '../forms.js';
import { html, type SafeHtml } from '../html.js';

export interface PromptState {
  factors: FactorView[];
  /** Where the forms post: /sign-in/verify or /account/verify. */
  action: string;
  /** Where "send a code" / "use a passkey" posts: /sign-in/challenge or /account/challenge. */
  challengeAction: string;
  recoveryEnabled: boolean;
  /** The method being answered right now. */
  method?: 'recovery' | undefined;
  /** An SMS / e-mail code was sent, or passkey options were issued. */
  challenge?: { factorId: string; challengeId: string; type: string; destination?: string | undefined; options?: unknown; resendAfterSeconds?: number } | undefined;
  error?: string | undefined;
  next?: string | undefined;
  /** Offer "remember this browser" (sign-in only, when enabled): for this many days. */
  rememberDays?: number | undefined;
}

const describe = (factor: FactorView): string => {
  if (factor.type === 'totp') return factor.label ?? 'Authenticator app';
  if (factor.type === 'webauthn') return factor.label ?? 'Passkey';
  return `${factor.type === 'sms' ? 'Text message' : 'E-mail'} to ${factor.destination ?? ''}`;
};

export function renderFactorPrompt(state: PromptState, csrf: string): SafeHtml {
  const nextField = state.next === undefined ? '' : html`<input type="hidden" name="next" value="${state.next}">`;
  const remember =
    state.rememberDays === undefined || state.rememberDays === 0
      ? ''
      : html`<label class="row"><input type="checkbox" name="remember_device" value="1"> Remember this browser for ${state.rememberDays} days</label>`;
  const active = state.factors.filter((factor) => factor.status === 'active');
  const totp = active.filter((factor) => factor.type === 'totp');
  const others = active.filter((factor) => factor.type !== 'totp');
  const challenge = state.challenge;

  let main: SafeHtml;
  if (state.method === 'recovery') {
    main = html`<form class="stack card" method="post" action="${state.action}" novalidate>
  ${csrfField(csrf)}${nextField}
  ${field({ label: 'Recovery code', name: 'recovery_code', autocomplete: 'off', hint: 'One of the codes you saved, like ABCDE-FGHJK-MNPQR-STVWX', error: state.error, autofocus: true, maxlength: 64 })}
  <button type="submit">Use recovery code</button>
</form>`;
  } else if (challenge !== undefined && challenge.type === 'webauthn') {
    main = html`<form class="stack card" method="post" action="${state.action}" data-webauthn="authenticate" data-autostart="true" data-options="${JSON.stringify(challenge.options)}" novalidate>
  ${csrfField(csrf)}${nextField}
  <input type="hidden" name="challenge_id" value="${challenge.challengeId}">
  <input type="hidden" name="credential" value="">
  <p>Use your passkey when your device asks: it will want its PIN or biometrics, whichever it uses.</p>
  ${remember}
  <noscript><p class="error">Passkeys need JavaScript in this browser.</p></noscript>
  ${state.error === undefined ? '' : html`<p class="error" role="alert">${state.error}</p>`}
  <button type="button" data-passkey hidden>Use passkey</button>
</form>`;
  } else if (challenge !== undefined) {
    main = html`<form class="stack card" method="post" action="${state.action}" novalidate>
  ${csrfField(csrf)}${nextField}
  <input type="hidden" name="challenge_id" value="${challenge.challengeId}">
  <p>We sent a code to ${challenge.destination}.</p>
  ${codeField(state.error)}
  ${remember}
  <button type="submit">Verify</button>
</form>
<form method="post" action="${state.challengeAction}" class="row" novalidate>
  ${csrfField(csrf)}${nextField}
  <input type="hidden" name="factor_id" value="${challenge.factorId}">
  <button type="submit" class="secondary" data-countdown="${challenge.resendAfterSeconds ?? 30}">Send a new code</button>
</form>`;
  } else if (totp.length > 0) {
    main = html`<form class="stack card" method="post" action="${state.action}" novalidate>
  ${csrfField(csrf)}${nextField}
  <p>Open your authenticator app and enter the code for this account.</p>
  ${codeField(state.error)}
  ${remember}
  <button type="submit">Verify</button>
</form>`;
  } else {
    main = html`${state.error === undefined ? '' : html`<p class="error" role="alert">${state.error}</p>`}<p>Choose how to confirm it's you.</p>`;
  }

  const choices = others
    .filter((factor) => challenge === undefined || factor.id !== challenge.factorId)
    .map(
      (factor) => html`<form method="post" action="${state.challengeAction}" novalidate>
  ${csrfField(csrf)}${nextField}
  <input type="hidden" name="factor_id" value="${factor.id}">
  <button type="submit" class="secondary">${factor.type === 'webauthn' ? 'Use passkey: ' : 'Send a code: '}${describe(factor)}</button>
</form>`,
    );
  const backToApp = (challenge !== undefined || state.method === 'recovery') && totp.length > 0 ? html`<a class="button secondary" href="${state.action}${state.next === undefined ? '' : `?next=${encodeURIComponent(state.next)}`}">Use your authenticator app</a>` : '';
  const recovery = state.recoveryEnabled && state.method !== 'recovery' ? html`<a href="${state.action}?method=recovery${state.next === undefined ? '' : `&next=${encodeURIComponent(state.next)}`}">Use a recovery code</a>` : '';
  return html`${main}
<section aria-label="Other ways to verify" class="choices">
  ${choices}
  ${backToApp}
  ${recovery}
</section>`;
}
