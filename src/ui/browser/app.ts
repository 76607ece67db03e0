// The hosted pages' only script (bundled by esbuild; the pages work without it for every password
// and code form). It adds what a browser cannot do with plain forms: passkeys through
// @simplewebauthn/browser, copying recovery codes, and the countdown before a code can be resent.
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser';

function announce(form: HTMLElement, message: string): void {
  const region = form.querySelector<HTMLElement>('[data-error]') ?? document.querySelector<HTMLElement>('[data-error]');
  if (region !== null) region.textContent = message;
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
  button.addEventListener('click', async () => {
    await navigator.clipboard.writeText(target.innerText.trim());
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

document.querySelectorAll<HTMLFormElement>('form[data-webauthn]').forEach(wirePasskeyForm);
document.querySelectorAll<HTMLButtonElement>('button[data-copy-target]').forEach(wireCopyButton);
document.querySelectorAll<HTMLButtonElement>('button[data-countdown]').forEach(wireCountdown);
