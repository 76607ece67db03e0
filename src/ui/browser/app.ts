// The hosted pages' only script (bundled by esbuild; the pages work without it for every password
// and code form). It adds what a browser cannot do with plain forms: passkeys through
// @simplewebauthn/browser, copying recovery codes and keys, the countdown before a code can be
// resent, times in the reader's own time zone, signing in with a passkey alone (passkey-sign-in.ts)
// and the WebAuthn signals (passkey-signals.ts), and — after a form came back with an error — focus
// on the field at fault and the error announced.
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { wirePasskeySignIn } from './passkey-sign-in.js';
import { sendPasskeySignal } from './passkey-signals.js';

function announce(form: HTMLElement, message: string): void {
  const region = form.querySelector<HTMLElement>('[data-error]') ?? document.querySelector<HTMLElement>('[data-error]');
  if (region === null) return;
  region.classList.remove('visually-hidden');
  region.textContent = message;
}

function wirePasskeyForm(form: HTMLFormElement): void {
  const mode = form.dataset['webauthn'];
  const options = JSON.parse(form.dataset['options'] ?? '{}');
  const field = form.querySelector<HTMLInputElement>('input[name="credential"]');
  const button = form.querySelector<HTMLButtonElement>('button[data-passkey]');
  if (field === null || button === null) return;
  if (!browserSupportsWebAuthn()) {
    button.disabled = true;
    announce(form, 'This browser does not support passkeys.');
    return;
  }
  button.hidden = false;
  const run = async () => {
    button.disabled = true;
    announce(form, '');
    try {
      const credential = mode === 'register' ? await startRegistration({ optionsJSON: options }) : await startAuthentication({ optionsJSON: options });
      field.value = JSON.stringify(credential);
      form.submit();
    } catch (error) {
      button.disabled = false;
      announce(form, error instanceof Error && error.name === 'NotAllowedError' ? 'The passkey prompt was cancelled or timed out. Try again.' : 'The passkey could not be used. Try again.');
    }
  };
  button.addEventListener('click', (event) => {
    event.preventDefault();
    void run();
  });
  if (form.dataset['autostart'] === 'true') void run();
}

function wireCopyButton(button: HTMLButtonElement): void {
  const target = document.getElementById(button.dataset['copyTarget'] ?? '');
  if (target === null || navigator.clipboard === undefined) return;
  button.hidden = false;
  // A key is copied without the spaces it is shown with; a list as its lines.
  const compact = button.dataset['copyCompact'] !== undefined;
  button.addEventListener('click', async () => {
    await navigator.clipboard.writeText(compact ? (target.textContent ?? '').replace(/\s+/g, '') : target.innerText.trim());
    button.textContent = 'Copied';
  });
}

function wireCountdown(button: HTMLButtonElement): void {
  let remaining = Number(button.dataset['countdown'] ?? '0');
  const label = button.textContent ?? '';
  const tick = () => {
    if (remaining <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = `${label} (${remaining} s)`;
    remaining -= 1;
    setTimeout(tick, 1000);
  };
  tick();
}

/** The server wrote the instant and a UTC text; the browser knows the reader's zone and language. */
function showLocalTime(element: HTMLTimeElement): void {
  const instant = new Date(element.dateTime);
  if (Number.isNaN(instant.getTime())) return;
  const format: Intl.DateTimeFormatOptions = element.dataset['local'] === 'day' ? { dateStyle: 'medium' } : { dateStyle: 'medium', timeStyle: 'short' };
  element.title = element.textContent ?? '';
  element.textContent = new Intl.DateTimeFormat(undefined, format).format(instant);
}

/**
 * A form the server answered with an error: focus goes to the first field at fault (where the
 * person has to act), and the live region says what is wrong. A live region's content present
 * when the page loads is not announced, so the message is put there after the load — for screen
 * readers only: the page already shows it next to the field or the form.
 */
function announceServerError(): void {
  const region = document.querySelector<HTMLElement>('[data-error]');
  const field = document.querySelector<HTMLInputElement>('main [aria-invalid="true"]');
  let message: string | undefined;
  if (field !== null) {
    field.focus();
    const errorId = (field.getAttribute('aria-describedby') ?? '').split(' ').find((id) => id.endsWith('-error'));
    const errorText = errorId === undefined ? undefined : document.getElementById(errorId)?.textContent?.trim();
    const label = field.labels?.[0]?.firstChild?.textContent?.trim();
    if (errorText !== undefined && errorText !== '') message = label === undefined || label === '' ? errorText : `${label}: ${errorText}`;
  } else {
    message = document.querySelector('main .error[role="alert"]')?.textContent?.trim();
  }
  if (region === null) return;
  // A refusal the server wrote there already is announced again after the load, as it is.
  const notice = (region.textContent ?? '').trim();
  if (notice !== '') {
    if (!region.classList.contains('error')) return;
    region.textContent = '';
    setTimeout(() => (region.textContent = notice), 150);
    return;
  }
  if (message === undefined || message === '') return;
  setTimeout(() => {
    region.classList.add('visually-hidden');
    region.textContent = message;
  }, 150);
}

document.querySelectorAll<HTMLFormElement>('form[data-webauthn]').forEach(wirePasskeyForm);
document.querySelectorAll<HTMLFormElement>('form[data-passkey-sign-in]').forEach(wirePasskeySignIn);
document.querySelectorAll<HTMLElement>('[data-passkey-signal]').forEach((element) => void sendPasskeySignal(element));
document.querySelectorAll<HTMLTimeElement>('time[data-local]').forEach(showLocalTime);
announceServerError();
document.querySelectorAll<HTMLButtonElement>('button[data-copy-target]').forEach(wireCopyButton);
document.querySelectorAll<HTMLButtonElement>('button[data-countdown]').forEach(wireCountdown);
