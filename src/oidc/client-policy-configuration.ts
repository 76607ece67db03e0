// The provider's settings for clients and what they may ask for (one part of the configuration,
// configuration-parts.ts):
// - client authentication (listed in provider.ts): none (public, PKCE), a client secret, or
//   private_key_jwt (RFC 7523: an assertion signed with the client's registered key, its audience
//   the provider, its jti used once — the provider keeps the jti until the assertion expires and
//   refuses a replay);
// - a pairwise `sub` for a client that asks for one: an HMAC of the client id and the user id
//   under a server secret (stable per client, different across clients, unlinkable without the
//   secret), the same in the ID token and at userinfo;
// - PAR (RFC 9126), required of a client registered with require_pushed_authorization_requests;
// - responses by query or form_post only (the client default in provider.ts, and the registration
//   policy): the fragment is refused for the code (nothing of the code flow belongs in a URL
//   fragment, where scripts of the page can read it);
// - dynamic registration (RFC 7591) and its management (RFC 7592) as TWOFOLD_OIDC_REGISTRATION
//   says: off, with the initial access token (compared by the provider in constant time), or for
//   public loopback clients only (client-registration-policy.ts);
// - the acr a client requires (twofold_required_acr), carried for the interaction, which enforces it.
import { createHmac } from 'node:crypto';
import { errors, type Configuration } from 'oidc-provider';
import { loadOrCreateServerSecret } from '../flows/keys/server-secrets.js';
import type { FlowContext } from '../flows/shared/context.js';
import { requiredAcrValues } from './client-options.js';
import { enforceRegistrationPolicy, isRegistrantRequest } from './client-registration-policy.js';

const pairwiseSecretName = 'oidc-pairwise-key';

export async function clientPolicyConfiguration(ctx: FlowContext): Promise<Partial<Configuration>> {
  const pairwiseKey = await loadOrCreateServerSecret(ctx.db, ctx.secretBox, pairwiseSecretName, ctx.now());
  const registration = ctx.config.oidc.registration;
  const registrationEnabled = registration.mode !== 'off';
  return {
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: (_koa, accountId, client) => createHmac('sha256', pairwiseKey).update(`${client.clientId}\n${accountId}`).digest('base64url'),
    extraClientMetadata: {
      properties: ['twofold_required_acr'],
      validator: (koa, key, value, metadata) => {
        if (key !== 'twofold_required_acr') return;
        if (value !== undefined && !(requiredAcrValues as readonly unknown[]).includes(value)) throw new errors.InvalidClientMetadata(`twofold_required_acr must be one of ${requiredAcrValues.join(', ')}`);
        if (isRegistrantRequest(koa)) enforceRegistrationPolicy(metadata as Record<string, unknown>, registration.mode);
      },
    },
    features: {
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false, allowUnregisteredRedirectUris: false },
      registration: registrationEnabled
        ? { enabled: true, initialAccessToken: registration.mode === 'token' ? (registration.initialAccessToken ?? false) : false, issueRegistrationAccessToken: true }
        : { enabled: false },
      registrationManagement: { enabled: registrationEnabled, rotateRegistrationAccessToken: true },
    },
  };
}
