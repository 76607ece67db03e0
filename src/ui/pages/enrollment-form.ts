// What the enrollment pages show for a factor being set up: the QR code and the key, "we sent a
// code to …", or the passkey prompt — the same whether it was just started or shown again after a
// wrong code (a wrong code must not cost the entry already in the person's app). Below the code
// field, in words, how many tries are left and what happens when they run out.
import type { Enrollment } from '../../flows/factors/enroll-factor.js';
import type { ShownEnrollment } from '../../flows/factors/pending-enrollment.js';
import { csrfField } from '../csrf.js';
import { codeField, field } from '../forms.js';
import { html, trustedMarkup, type SafeHtml } from '../html.js';

/** The tries a code has left, and who is enrolling (it decides what running out means). */
export interface AttemptBudget {
  remaining: number;
  /** A first sign-in (no factor yet) rather than a signed-in session adding one. */
  firstSignIn: boolean;
  /** First sign-in: the minutes the pending sign-in has left. */
  minutesLeft?: number | undefined;
}

export interface EnrollmentFormState {
  error?: string | undefined;
  budget: AttemptBudget;
  /** SMS / e-mail: seconds before "Send a new code" is enabled (the resend interval). */
  resendAfterSeconds: number;
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** In words: the tries left, and what happens when they run out — the account always stays. */
export function budgetText(budget: AttemptBudget): string {
  const tries = `You have ${plural(budget.remaining, 'try', 'tries')}`;
  if (budget.firstSignIn) {
    const within = budget.minutesLeft === undefined ? '' : ` in the next ${plural(budget.minutesLeft, 'minute', 'minutes')}`;
    return `${tries}${within}. If they run out, this setup stops but your account stays: sign in again with your password and set up your second factor then.`;
  }
  return `${tries}. If they run out, you are signed out for safety; your account and its other factors stay as they are, and you can add this one after signing in again.`;
}

function budgetLine(budget: AttemptBudget): SafeHtml {
  return html`<p class="muted" id="attempts-left" data-attempts-left="${String(budget.remaining)}">${budgetText(budget)}</p>`;
}

export function renderEnrollment(enrollment: Enrollment | ShownEnrollment, csrf: string, state: EnrollmentFormState): SafeHtml {
  const hidden = html`${csrfField(csrf)}<input type="hidden" name="factor_id" value="${enrollment.factor_id}">`;
  const { error, budget } = state;
  if ('secret' in enrollment) {
    return html`<ol>
  <li>Open your authenticator app (Google Authenticator, 1Password, Authy…) and scan this code.</li>
  <li>Or type the key in by hand.</li>
  <li>Enter the 6-digit code the app shows.</li>
</ol>
<div class="card">
  <div class="qr" role="img" aria-label="QR code for your authenticator app">${trustedMarkup(enrollment.qr_svg)}</div>
  <p class="row">Key: ${secretInGroups(enrollment.secret)}<button type="button" class="secondary" data-copy-target="totp-secret" data-copy-compact hidden>Copy key</button></p>
</div>
<form class="stack card" method="post" action="/enroll/confirm" novalidate>${hidden}${codeField(error)}${budgetLine(budget)}<button type="submit">Confirm</button></form>`;
  }
  if (enrollment.type === 'webauthn') {
    if (!('options' in enrollment)) {
      // Shown again after a failed passkey: its ceremony is spent, so trying again starts a new one.
      return html`${error === undefined ? '' : html`<p class="error" role="alert">${error}</p>`}
${budgetLine(budget)}
<form class="stack card" method="post" action="/enroll/passkey" novalidate>
  ${csrfField(csrf)}<input type="hidden" name="label" value="${enrollment.label ?? ''}">
  <button type="submit">Try the passkey again</button>
</form>`;
    }
    return html`<form class="stack card" method="post" action="/enroll/confirm" data-webauthn="register" data-autostart="true" data-options="${JSON.stringify(enrollment.options)}" novalidate>
  ${hidden}<input type="hidden" name="credential" value="">
  <p>Follow your device's prompt to create a passkey for this account: it will want its PIN or biometrics, whichever it uses.</p>
  <noscript><p class="error">Passkeys need JavaScript in this browser.</p></noscript>
  ${error === undefined ? '' : html`<p class="error" role="alert">${error}</p>`}
  <button type="button" data-passkey hidden>Create passkey</button>
</form>`;
  }
  if (!('destination' in enrollment)) return html``;
  const notice = 'notice' in enrollment && enrollment.notice !== undefined ? html`<p class="notice">${enrollment.notice}</p>` : '';
  const resend = html`<form method="post" action="/enroll/resend" class="row" novalidate>
  ${hidden}
  <button type="submit" class="secondary" data-countdown="${String(state.resendAfterSeconds)}">Send a new code</button>
</form>`;
  if (enrollment.challenge_id === undefined) {
    // The code sent expired or used up its own attempts: a new one is the way on.
    return html`<div class="stack card">
  ${error === undefined ? '' : html`<p class="error" role="alert">${error}</p>`}
  <p>The code we sent to ${enrollment.destination} can no longer be used. Ask for a new one.</p>
  ${budgetLine(budget)}
</div>
${resend}`;
  }
  return html`<form class="stack card" method="post" action="/enroll/confirm" novalidate>
  ${hidden}<input type="hidden" name="challenge_id" value="${enrollment.challenge_id}">
  <p>We sent a code to ${enrollment.destination}.</p>
  ${notice}
  ${codeField(error)}
  ${budgetLine(budget)}
  <button type="submit">Confirm</button>
</form>
${resend}`;
}

/**
 * No tries left: the sign-in (or, adding a factor, the session) has ended — never the account.
 * The way on is a password form that leads straight back into setting up a factor.
 */
export function renderOutOfTries(csrf: string, input: { username: string; firstSignIn: boolean; factorType: string }): SafeHtml {
  const appNote = input.factorType === 'totp' ? ' You will get a new QR code: delete the entry you added to your authenticator app this time, it will not work.' : '';
  const what = input.firstSignIn
    ? html`<p>Your account <strong>${input.username}</strong> is kept. Sign in again with your password to set up your second factor.${appNote}</p>`
    : html`<p>For your safety you were signed out. Your account <strong>${input.username}</strong> and its factors are as they were; the new one was not added. Sign in again to add it.${appNote}</p>`;
  return html`<p class="error" role="alert">That was the last try, so this setup has stopped.</p>
${what}
<form class="stack card" method="post" action="/sign-in" novalidate>
  ${csrfField(csrf)}
  ${field({ label: 'Username', name: 'username', autocomplete: 'username', value: input.username, maxlength: 256 })}
  ${field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', autofocus: true, maxlength: 1024 })}
  <button type="submit">Sign in and continue</button>
</form>`;
}

/**
 * The key in groups of four that never break inside a group on a narrow screen: each group is an
 * inline-block, spaced by CSS rather than by space characters, so selecting and copying the key
 * gives it exactly as an authenticator app wants it (the copy button does the same).
 */
function secretInGroups(secret: string): SafeHtml {
  return html`<span class="secret" id="totp-secret" data-testid="totp-secret">${(secret.match(/.{1,4}/g) ?? []).map((group) => html`<span class="group">${group}</span>`)}</span>`;
}
