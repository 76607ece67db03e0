// Consent at the provider's interaction: a first-party client (the operator's own, `--first-party`)
// is granted what it asks without a question; a third-party one — every dynamically registered
// client among them — gets the consent page (consent-page.ts). Allow saves the grant, which the
// provider keeps in its session for that browser, so the next authorization of the same client,
// asking no more than was allowed, does not ask again; Deny answers the client access_denied at
// its redirect_uri. The answer is a POST with the hosted pages' CSRF token, by the Twofold user
// the provider's session belongs to.
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { TwofoldError } from '../errors.js';
import type { FlowContext } from '../flows/shared/context.js';
import { csrfTokenFor, isValidCsrf } from '../ui/csrf.js';
import { signedInSession } from '../ui/page-session.js';
import { findOidcClient } from './clients.js';
import { consentPageSecurityPolicy, renderConsentPage } from './consent-page.js';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

interface MissingConsent {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

function consentParts(details: InteractionDetails): { accountId: string; clientId: string } {
  const accountId = details.session?.accountId;
  const clientId = details.params['client_id'];
  if (accountId === undefined || typeof clientId !== 'string') throw new TwofoldError('invalid_request', 'This sign-in request has no signed-in person.');
  return { accountId, clientId };
}

/** Adds what the request asks for to the client's grant (a new one, or the one the session holds) and saves it. */
async function grantRequested(provider: Provider, details: InteractionDetails): Promise<string> {
  const { accountId, clientId } = consentParts(details);
  const existing = details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId);
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details as MissingConsent;
  if (missing.missingOIDCScope !== undefined) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}

async function finishWithGrant(provider: Provider, details: InteractionDetails, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const grantId = await grantRequested(provider, details);
  return reply.redirect(await provider.interactionResult(request.raw, reply.raw, { consent: { grantId } }, { mergeWithLastSubmission: true }), 303);
}

/** The consent prompt of an interaction: granted at once for a first-party client, the page otherwise. */
export async function handleConsent(ctx: FlowContext, provider: Provider, details: InteractionDetails, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { accountId, clientId } = consentParts(details);
  const client = await findOidcClient(ctx.db, clientId);
  if (client?.firstParty === true) return finishWithGrant(provider, details, request, reply);
  const auth = await signedInSession(ctx, request, reply);
  if (auth === undefined || auth.user.id !== accountId) throw new TwofoldError('invalid_request', 'This sign-in request belongs to another sign-in. Go back to the application and start again.');
  const providerClient = await provider.Client.find(clientId);
  if (providerClient === undefined) throw new TwofoldError('invalid_request', 'This application is no longer registered. Go back to the application and start again.');
  // The provider lets a client with one registered redirect URI leave the parameter out.
  const requested = details.params['redirect_uri'];
  const redirectUri = typeof requested === 'string' ? requested : providerClient.redirectUris?.[0];
  if (redirectUri === undefined) throw new TwofoldError('invalid_request', 'This sign-in request has no redirect URI.');
  const missing = details.prompt.details as MissingConsent;
  const page = renderConsentPage({
    uid: details.uid,
    clientId,
    clientName: providerClient.clientName,
    redirectUri,
    scopes: missing.missingOIDCScope ?? String(details.params['scope'] ?? '').split(' ').filter((scope) => scope !== ''),
    username: auth.user.username,
    serviceName: ctx.config.serviceName,
    csrf: csrfTokenFor(request, reply),
  });
  return reply
    .header('Content-Security-Policy', consentPageSecurityPolicy(redirectUri))
    .header('X-Frame-Options', 'DENY')
    .header('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(page);
}

/** POST /oidc/interaction/:uid/consent — Allow or Deny, from the consent page. */
export async function registerConsentRoute(app: FastifyInstance, ctx: FlowContext, provider: () => Promise<Provider>): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(formbody);
    scope.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });
    scope.post<{ Params: { uid: string }; Body: Record<string, unknown> | undefined }>('/oidc/interaction/:uid/consent', async (request, reply) => {
      if (!isValidCsrf(request, request.body?.['csrf'])) throw new TwofoldError('forbidden', 'This form has expired. Go back, reload the page and try again.');
      const current = await provider();
      let details: InteractionDetails;
      try {
        details = await current.interactionDetails(request.raw, reply.raw);
      } catch {
        throw new TwofoldError('invalid_request', 'This sign-in request has expired or was already used. Go back to the application and start again.');
      }
      if (details.uid !== request.params.uid || details.prompt.name !== 'consent') throw new TwofoldError('invalid_request', 'This consent request is not the one in progress. Go back to the application and start again.');
      const { accountId } = consentParts(details);
      const auth = await signedInSession(ctx, request, reply);
      if (auth === undefined || auth.user.id !== accountId) throw new TwofoldError('invalid_request', 'This sign-in request belongs to another sign-in. Go back to the application and start again.');
      const decision = request.body?.['decision'];
      if (decision === 'allow') return finishWithGrant(current, details, request, reply);
      if (decision !== 'deny') throw new TwofoldError('invalid_request', 'Choose Allow or Deny.');
      const denied = { error: 'access_denied', error_description: 'The person declined to let this application use their account.' };
      return reply.redirect(await current.interactionResult(request.raw, reply.raw, denied, { mergeWithLastSubmission: false }), 303);
    });
  });
}
