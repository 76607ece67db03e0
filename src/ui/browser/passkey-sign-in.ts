// Signing in with a passkey alone, on /sign-in: the "Sign in with a passkey" button, and conditional
// UI — where the browser can offer passkeys in the username field's autofill, a request with
// mediation "conditional" waits there, so a person with a passkey just picks it. Both ask the page
// server for fresh request options (a challenge of their own, never one written into the page: a
// page view that never uses a passkey costs no challenge) and post the answer as a plain form, so
// the server answers with the same redirect as any other sign-in. Without this script the form
// stays hidden and the password form works as before.
import { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';

interface SignInOptions {
  challenge_id: string;
  options: PublicKeyCredentialRequestOptionsJSON;
}

/** A refusal the page server explained (too many attempts, passkeys off): shown as it is. */
class ExplainedRefusal extends Error {}

function say(message: string): void {
  const region = document.querySelector<HTMLElement>('[data-error]');
  if (region === null) return;
  region.className = message === '' ? '' : 'notice error';
  region.textContent = message;
}

async function fetchSignInOptions(url: string, csrf: string): Promise<SignInOptions> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ csrf }), credentials: 'same-origin' });
  const body = (await response.json().catch(() => ({}))) as Partial<SignInOptions> & { message?: string };
  if (!response.ok || body.challenge_id === undefined || body.options === undefined) throw new ExplainedRefusal(body.message ?? 'Passkey sign-in is not available right now. Sign in with your password.');
  return { challenge_id: body.challenge_id, options: body.options };
}

const isCancellation = (error: unknown) => error instanceof Error && (error.name === 'AbortError' || error.name === 'NotAllowedError');

export function wirePasskeySignIn(form: HTMLFormElement): void {
  const optionsUrl = form.dataset['passkeySignIn'] ?? '';
  const csrf = form.querySelector<HTMLInputElement>('input[name="csrf"]')?.value ?? '';
  const challengeField = form.querySelector<HTMLInputElement>('input[name="challenge_id"]');
  const credentialField = form.querySelector<HTMLInputElement>('input[name="credential"]');
  const button = form.querySelector<HTMLButtonElement>('button[data-passkey-sign-in-button]');
  if (challengeField === null || credentialField === null || button === null || !browserSupportsWebAuthn()) return;
  form.hidden = false;
  let submitted = false;

  const submit = (challengeId: string, credential: unknown) => {
    if (submitted) return;
    submitted = true;
    challengeField.value = challengeId;
    credentialField.value = JSON.stringify(credential);
    form.submit();
  };

  button.addEventListener('click', async (event) => {
    event.preventDefault();
    button.disabled = true;
    say('');
    try {
      const { challenge_id: challengeId, options } = await fetchSignInOptions(optionsUrl, csrf);
      // Starting this ceremony aborts a conditional request still waiting (one at a time).
      submit(challengeId, await startAuthentication({ optionsJSON: options }));
    } catch (error) {
      button.disabled = false;
      if (error instanceof ExplainedRefusal) say(error.message);
      else say(isCancellation(error) ? 'The passkey prompt was cancelled or timed out. Try again, or sign in with your password.' : 'The passkey could not be used. Try again, or sign in with your password.');
    }
  });

  if (form.dataset['conditional'] !== 'off') void startConditionalRequest(form, optionsUrl, csrf, submit);
}

/**
 * Passkeys offered in the username field's autofill, where the browser can; silent where it cannot.
 * The form's data-conditional-state says where it stands ("waiting", then "ended" when nothing was
 * picked, or "unavailable"), for whoever inspects the page.
 */
async function startConditionalRequest(form: HTMLFormElement, optionsUrl: string, csrf: string, submit: (challengeId: string, credential: unknown) => void): Promise<void> {
  if (document.querySelector('input[autocomplete$="webauthn"]') === null || !(await browserSupportsWebAuthnAutofill())) {
    form.dataset['conditionalState'] = 'unavailable';
    return;
  }
  form.dataset['conditionalState'] = 'waiting';
  try {
    const { challenge_id: challengeId, options } = await fetchSignInOptions(optionsUrl, csrf);
    submit(challengeId, await startAuthentication({ optionsJSON: options, useBrowserAutofill: true }));
  } catch (error) {
    form.dataset['conditionalState'] = 'ended';
    // Aborted by the button, or nothing picked: the page goes on as a password form. A refusal
    // from the server (too many attempts) is for the button to say if the person asks for it.
    if (!isCancellation(error) && !(error instanceof ExplainedRefusal)) say('The passkey could not be used. Try again, or sign in with your password.');
  }
}
