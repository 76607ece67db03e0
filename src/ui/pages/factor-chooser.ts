// Choosing a factor to add: one card per kind this server offers, all of the same size and
// weight, and one of them marked as recommended with the reason in a line — a newcomer should not
// have to know what TOTP or WebAuthn are to pick well. The authenticator app is the one
// recommended when offered: it works on any phone, offline, without JavaScript, and unlike a text
// message its codes cannot be redirected by a SIM swap (NIST SP 800-63B calls SMS restricted).
import type { FactorKind } from '../../config/schema.js';
import { csrfField } from '../csrf.js';
import { field } from '../forms.js';
import { html, type SafeHtml } from '../html.js';

type Choice = 'totp' | 'webauthn' | 'sms' | 'email';

const recommendationOrder: Choice[] = ['totp', 'webauthn', 'sms'];

const reasons: Record<Choice, string> = {
  totp: 'It works on any phone, even offline, and its codes cannot be intercepted like text messages.',
  webauthn: 'Nothing to type, and it only ever works on this site, so a look-alike site cannot use it.',
  sms: 'The only kind this site offers that needs no app.',
  email: '',
};

export interface ChooserOptions {
  offered: ReadonlySet<FactorKind>;
  /** E-mail codes come on top of a real factor: offered only when adding another one. */
  firstFactor: boolean;
  csrf: string;
}

export function renderFactorChooser(options: ChooserOptions): SafeHtml {
  const choices = (['totp', 'webauthn', 'sms', 'email'] as const).filter((choice) => options.offered.has(choice) && !(choice === 'email' && options.firstFactor));
  const recommended = recommendationOrder.find((choice) => choices.includes(choice));
  // The recommended card first, the others in their usual order.
  const ordered = [...choices].sort((a, b) => Number(b === recommended) - Number(a === recommended));
  return html`<div class="choice-cards">${ordered.map((choice) => card(choice, choice === recommended, options.csrf))}</div>`;
}

function card(choice: Choice, recommended: boolean, csrf: string): SafeHtml {
  const badge = recommended ? html`<p class="recommended" id="why-${choice}"><strong class="badge">Recommended</strong> ${reasons[choice]}</p>` : '';
  const open = (title: string, what: string) =>
    html`<h2 id="choice-${choice}">${title}</h2>
  ${badge}
  <p class="muted">${what}</p>`;
  const attributes = html`class="card stack choice${recommended ? ' is-recommended' : ''}" aria-labelledby="choice-${choice}"${recommended ? html` aria-describedby="why-${choice}" data-recommended` : ''} data-choice="${choice}"`;
  switch (choice) {
    case 'totp':
      return html`<section ${attributes}>
  ${open('Authenticator app', 'A 6-digit code from an app on your phone, like Google Authenticator, 1Password or Authy.')}
  <a class="button" href="/enroll/totp">Set up an authenticator app</a>
</section>`;
    case 'webauthn':
      return html`<form method="post" action="/enroll/passkey" ${attributes}>
  ${csrfField(csrf)}
  ${open('Passkey', 'Your device confirms it’s you with its PIN or biometrics: nothing to type.')}
  ${field({ label: 'A name for it (optional)', name: 'label', value: '', required: false, hint: 'Like "This laptop"', maxlength: 64 })}
  <button type="submit">Create a passkey</button>
</form>`;
    case 'sms':
      return html`<form method="post" action="/enroll/phone" ${attributes}>
  ${csrfField(csrf)}
  ${open('Text messages', 'A code sent to your phone each time you sign in.')}
  ${field({ label: 'Phone number', name: 'phone', type: 'tel', autocomplete: 'tel', inputmode: 'tel', hint: 'In international format, like +14155550123', maxlength: 32 })}
  <button type="submit">Send a code</button>
</form>`;
    case 'email':
      return html`<form method="post" action="/enroll/email" ${attributes}>
  ${csrfField(csrf)}
  ${open('Codes by e-mail', 'A code sent to an e-mail address each time you sign in.')}
  ${field({ label: 'E-mail address', name: 'email', type: 'email', autocomplete: 'email', maxlength: 320 })}
  <button type="submit">Send a code</button>
</form>`;
  }
}
