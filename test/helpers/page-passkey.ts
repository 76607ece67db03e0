// Answering the hosted pages' passkey prompt without a browser: what the page's script does with
// the options in data-options (startAuthentication), done by the suite's software authenticator,
// then the form post with the assertion — for the sign-in's second factor and the step-up alike.
import { expect } from 'vitest';
import type { OidcBrowser } from './oidc-browser.js';
import type { SoftAuthenticator } from './soft-authenticator.js';

const htmlEntities: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The WebAuthn request options a page put in its passkey form's data-options attribute. */
export function passkeyOptionsOnPage(page: string): Parameters<SoftAuthenticator['authenticate']>[0] {
  const attribute = /data-webauthn="authenticate"[^>]*data-options="([^"]*)"/.exec(page)?.[1];
  expect(attribute, 'a passkey prompt on the page').toBeDefined();
  return JSON.parse(attribute!.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => htmlEntities[entity]!)) as Parameters<SoftAuthenticator['authenticate']>[0];
}

/**
 * "Use passkey" on a second-factor page: the challenge form (`paths.challengeAction`, e.g.
 * /account/challenge), the assertion, the verify form; returns where the browser ends up.
 */
export async function answerPasskeyPrompt(
  browser: OidcBrowser,
  input: { paths: { action: string; challengeAction: string }; factorId: string; authenticator: SoftAuthenticator; origin: string; next?: string | undefined },
): Promise<{ response: Response; url: string }> {
  const nextField: Record<string, string> = input.next === undefined ? {} : { next: input.next };
  const challenged = await browser.follow(input.paths.challengeAction, { method: 'POST', form: { csrf: browser.csrf(), factor_id: input.factorId, ...nextField } });
  const page = await challenged.response.text();
  const challengeId = /name="challenge_id" value="([^"]+)"/.exec(page)?.[1];
  expect(challengeId, page).toBeDefined();
  const credential = input.authenticator.authenticate(passkeyOptionsOnPage(page), { origin: input.origin });
  return browser.follow(input.paths.action, { method: 'POST', form: { csrf: browser.csrf(), challenge_id: challengeId!, credential: JSON.stringify(credential), ...nextField } });
}
