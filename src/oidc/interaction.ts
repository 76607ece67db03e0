// The login of an authorization request is a Twofold login: the provider sends the browser to
// /oidc/interaction/<uid>; without a signed-in Twofold session this sends it on to the hosted
// sign-in (password, then second factor), which returns here. With one, the interaction ends with
// what that session proves — its user as the subject, its own acr, amr and auth_time — and
// nothing an authorization parameter asked for: prompt=login, max_age and a demand for aal2 send
// the person through the sign-in or a second factor again first (authentication-demand.ts), and so
// does a client registered to require aal2 (a remembered browser is then not enough); a demand for
// phr / phrh sends them through a passkey, and the ID token's acr says so only then. Consent is
// consent.ts: asked of third-party clients only; a first-party client's comes with the login.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { TwofoldError } from '../errors.js';
import type { FlowContext } from '../flows/shared/context.js';
import { requestMeta } from '../http/authenticate.js';
import { signedInSession } from '../ui/page-session.js';
import { acrSatisfies, provenAssuranceLevel, type AssuranceLevel } from '../core/tokens/assurance-levels.js';
import { authenticationDemand, demandedAssuranceLevel, isPhishingResistantLevel, reportedAcr } from './authentication-demand.js';
import { findOidcClient } from './clients.js';
import { handleConsent } from './consent.js';
import { grantForFirstPartyLogin } from './first-party-grant.js';
import { passkeyAssuranceOfAccount } from './passkey-assurance.js';

export async function handleInteraction(ctx: FlowContext, provider: Provider, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  let details: Awaited<ReturnType<Provider['interactionDetails']>>;
  try {
    details = await provider.interactionDetails(request.raw, reply.raw);
  } catch {
    throw new TwofoldError('invalid_request', 'This sign-in request has expired or was already used. Go back to the application and start again.');
  }
  const here = `/oidc/interaction/${details.uid}`;

  if (details.prompt.name === 'login') {
    const auth = await signedInSession(ctx, request, reply);
    if (auth === undefined) return reply.redirect(`/sign-in?return_to=${encodeURIComponent(here)}`, 303);
    const { claims } = auth;
    const clientId = typeof details.params['client_id'] === 'string' ? details.params['client_id'] : null;
    const client = clientId === null ? undefined : await findOidcClient(ctx.db, clientId);
    const demand = authenticationDemand(details.params);
    const authTimeMs = claims.auth_time * 1000;
    if (demand.freshSignIn) {
      // When the request first came here, kept in the interaction (server-side), on Twofold's clock:
      // only a sign-in finished after it answers prompt=login.
      const kept = (details.lastSubmission as { twofoldSignInAfter?: unknown } | undefined)?.twofoldSignInAfter;
      const signInAfter = typeof kept === 'number' ? kept : ctx.now();
      if (typeof kept !== 'number') {
        details.lastSubmission = { twofoldSignInAfter: signInAfter };
        await details.persist();
      }
      if (authTimeMs < signInAfter) return reply.redirect(`/sign-in?again=1&return_to=${encodeURIComponent(here)}`, 303);
    }
    const tooOld = demand.maxAgeSeconds !== undefined && ctx.now() - authTimeMs > demand.maxAgeSeconds * 1000;
    // What the session proves, from its acr and amr (assurance-levels.ts): a remembered browser
    // (aal1) never answers a demand for aal2, nor a TOTP sign-in one for phr — the person proves a factor now.
    const proven = provenAssuranceLevel(claims);
    const proves = (level: AssuranceLevel | undefined) => level === undefined || (proven !== undefined && acrSatisfies(proven, [level]));
    const requiredAcr = client?.options.requiredAcr;
    let demanded = demandedAssuranceLevel(demand, requiredAcr);
    if (!proves(demanded.level) && isPhishingResistantLevel(demanded.level)) {
      // Only a passkey proves these: ask for no more than this account's passkeys can reach (the
      // request's next choice), and end at once when it has none that could — a step-up would never succeed.
      demanded = demandedAssuranceLevel(demand, requiredAcr, (await passkeyAssuranceOfAccount(ctx, auth.user.id)) ?? 'aal2');
      if (demanded.unmet) {
        const error = { error: 'unmet_authentication_requirements', error_description: 'This application needs a sign-in with a passkey (or a hardware security key) this account does not have.' };
        return reply.redirect(await provider.interactionResult(request.raw, reply.raw, error, { mergeWithLastSubmission: false }), 303);
      }
    }
    const levelMissing = !proves(demanded.level);
    if (levelMissing && isPhishingResistantLevel(demanded.level)) return reply.redirect(`/account/verify?factor=passkey&next=${encodeURIComponent(here)}`, 303);
    if (tooOld || levelMissing) return reply.redirect(`/account/verify?next=${encodeURIComponent(here)}`, 303);
    const acr = reportedAcr({ acr: claims.acr, proven }, demand, requiredAcr);
    // The Twofold session goes with the login: the grant is bound to it and it is the ID token's sid (session-grants.ts).
    const login = { accountId: auth.user.id, acr, amr: claims.amr, ts: claims.auth_time, remember: false, twofoldSessionId: auth.session.id };
    // Every login at the provider is in the person's audit trail, naming the application it was for.
    const meta = requestMeta(request);
    ctx.events.record({ type: 'oidc.login', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details: { client_id: clientId, acr } });
    // A first-party client's consent comes with the login (first-party-grant.ts): one round trip fewer.
    const consent = client?.firstParty === true && clientId !== null ? { grantId: await grantForFirstPartyLogin(ctx, provider, details, auth.user.id, clientId, auth.session.id) } : undefined;
    return reply.redirect(await provider.interactionResult(request.raw, reply.raw, consent === undefined ? { login } : { login, consent }, { mergeWithLastSubmission: false }), 303);
  }

  if (details.prompt.name === 'consent') return handleConsent(ctx, provider, details, request, reply);

  throw new TwofoldError('invalid_request', 'This sign-in request asks for something Twofold does not offer.');
}
