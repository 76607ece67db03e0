// The account page's passkey parts: whether each passkey can sign in alone (a discoverable
// credential) or only serves as a second factor, with "Upgrade" for the latter; the offer of a
// passkey that signs in alone after a password sign-in ("Create a passkey" / "Not now", which keeps
// it away for 90 days); and the WebAuthn signals that tell the browser which passkeys the account
// still accepts (src/ui/browser/passkey-signals.ts).
//
// Upgrading is honest about what WebAuthn allows: a credential cannot become discoverable, so the
// person creates a new passkey that signs in alone and the old one is removed once the new one
// works (enroll.ts). A device that still holds the old credential refuses to create another for
// the same account; the page says to remove the old one first in that case.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldError } from '../../errors.js';
import type { AccessAuthentication } from '../../flows/sessions/authenticate.js';
import { dismissPasskeyOffer, shouldOfferPasskey } from '../../flows/passkey-offer/passkey-offer.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { FactorView } from '../../flows/shared/views.js';
import { findFactor } from '../../store/repositories/factors.js';
import { listWebauthnCredentialsOfUser } from '../../store/repositories/webauthn-credentials.js';
import { csrfField } from '../csrf.js';
import { html, type SafeHtml } from '../html.js';
import type { PageKit } from '../kit.js';
import { signedInSession } from '../page-session.js';
import { isDiscoverablePasskey } from '../../flows/factors/discoverable-passkey.js';

export interface PasskeyFacts {
  /** By factor id: whether the passkey can sign in alone. */
  signsInAlone: Map<string, boolean>;
  /** The credential ids the account accepts, for the Signal API. */
  acceptedCredentialIds: string[];
  offer: boolean;
}

export async function passkeyFacts(ctx: FlowContext, auth: AccessAuthentication): Promise<PasskeyFacts> {
  if (!ctx.config.factors.has('webauthn')) return { signsInAlone: new Map(), acceptedCredentialIds: [], offer: false };
  const credentials = await listWebauthnCredentialsOfUser(ctx.db, auth.user.id);
  return {
    signsInAlone: new Map(credentials.map((credential) => [credential.factor_id, isDiscoverablePasskey(credential)])),
    acceptedCredentialIds: credentials.filter((credential) => credential.locked_at === null).map((credential) => credential.credential_id),
    offer: shouldOfferPasskey(ctx, auth, credentials),
  };
}

/** The passkey's line in the Details column: what it can do, and "Upgrade" when it cannot sign in alone. */
export function passkeyAbility(factor: FactorView, facts: PasskeyFacts): SafeHtml | string {
  if (factor.type !== 'webauthn' || factor.status !== 'active') return '';
  const alone = facts.signsInAlone.get(factor.id) === true;
  return alone
    ? html`<span class="passkey-ability" data-passkey-ability="sign-in">Signs you in on its own</span>`
    : html`<span class="passkey-ability" data-passkey-ability="second-factor">Second factor only <a href="/account/factors/${factor.id}/upgrade">Upgrade</a></span>`;
}

export function renderPasskeyOffer(csrf: string): SafeHtml {
  return html`<section class="card passkey-offer" aria-labelledby="passkey-offer-heading" data-passkey-offer>
  <h2 id="passkey-offer-heading">Sign in faster with a passkey</h2>
  <p>A passkey signs you in with your device's PIN or biometrics alone — no password, no code — and cannot be phished. Your password and second factor keep working.</p>
  <div class="row">
    <form method="post" action="/enroll/passkey">${csrfField(csrf)}<button type="submit">Create a passkey</button></form>
    <form method="post" action="/account/passkey-offer/dismiss">${csrfField(csrf)}<button type="submit" class="secondary">Not now</button></form>
  </div>
</section>`;
}

/** The WebAuthn user handle Twofold registers passkeys with (the user id's bytes), base64url. */
function userHandle(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}

/** Tells the browser (where it has the Signal API) which passkeys this account still accepts, and its name. */
export function renderPasskeySignal(ctx: FlowContext, auth: AccessAuthentication, facts: PasskeyFacts): SafeHtml | string {
  if (!ctx.config.factors.has('webauthn')) return '';
  return html`<div hidden data-passkey-signal="accepted-credentials" data-rp-id="${ctx.config.webauthn.rpId}" data-user-id="${userHandle(auth.user.id)}" data-user-name="${auth.user.username}" data-accepted-credential-ids="${facts.acceptedCredentialIds.join(' ')}"></div>`;
}

export function accountPasskeyPages(app: FastifyInstance, kit: PageKit): void {
  const { ctx } = kit;
  if (!ctx.config.factors.has('webauthn')) return;

  const signedIn = async (request: FastifyRequest, reply: FastifyReply): Promise<AccessAuthentication | undefined> => {
    const auth = await signedInSession(ctx, request, reply);
    if (auth === undefined) reply.redirect('/sign-in?done=sign-in-expired', 303);
    return auth;
  };

  app.post('/account/passkey-offer/dismiss', async (request, reply) => {
    const auth = await signedIn(request, reply);
    if (auth === undefined) return reply;
    await dismissPasskeyOffer(ctx, auth);
    return reply.redirect('/account?done=passkey-offer-dismissed', 303);
  });

  app.get('/account/factors/:id/upgrade', async (request, reply) => {
    const auth = await signedIn(request, reply);
    if (auth === undefined) return reply;
    const factorId = (request.params as Record<string, string>)['id'] ?? '';
    const factor = await findFactor(ctx.db, factorId);
    if (factor === undefined || factor.user_id !== auth.user.id || factor.type !== 'webauthn' || factor.status !== 'active') throw new TwofoldError('not_found', 'No such passkey on your account. Go back to your account and try again.');
    const label = factor.label ?? 'Passkey';
    return kit.render(request, reply, { title: 'Upgrade a passkey', signedIn: true }, (csrf) => html`
<p class="lead">“${label}” was registered as a second factor only: your device did not promise to keep it as a passkey that can sign you in on its own, and such a passkey cannot be changed into one.</p>
<p>Upgrading creates a new passkey that signs you in alone (on this device or another), and removes “${label}” once the new one works. If your device says it already has a passkey for this account, remove “${label}” first on your account page, then create a passkey there.</p>
<form class="stack card" method="post" action="/enroll/passkey" novalidate>
  ${csrfField(csrf)}
  <input type="hidden" name="label" value="${label}">
  <input type="hidden" name="replaces" value="${factor.id}">
  <button type="submit">Create the new passkey</button>
</form>
<p><a href="/account">Back to your account</a></p>`);
  });
}
