// createTwofoldClient: wires the transport, the token keeper and the passkey prompts into the
// methods of TwofoldClient (twofold-client.ts, where each method is documented).
import { createAuthorizedFetch } from './authorized-fetch.js';
import { createDpopProver } from './dpop.js';
import { isTokenRejection } from './errors.js';
import { confirmFactorWith, enrollFactorWith, enrollPasskeyWith } from './factor-enrollment.js';
import { signInWithPasskeyUsing, startConditionalPasskeySignInUsing } from './passkey-sign-in.js';
import { createPendingSignIn } from './pending-sign-in.js';
import { challengeFactorWith, verificationBodyFor, type AuthorizedSend } from './second-factor-proofs.js';
import { createSessionTokens } from './session-tokens.js';
import { createMemoryTokenStore } from './token-store.js';
import { createTransport, normalizeBaseUrl, pathSegment, type FetchFunction } from './transport.js';
import type { PageQuery, SecurityEventsQuery, SessionPage, TwofoldClient, TwofoldClientOptions } from './twofold-client.js';
import type { Factor, LoginResponse, Me, RegisterResponse, SecurityEventPage, StepUpTokenResponse, TrustedDevice, User } from './types.js';
import { lazyBrowserWebAuthn } from './webauthn.js';

const defaultRefreshLeewaySeconds = 30;
const defaultRequestTimeoutMs = 30_000;
// A refresh is cheap for the server; one whose answer has not come within 3 s is more likely lost
// than slow. Retries start within 8 s of the first attempt: inside the server's default 10 s grace.
const defaultRefreshAttemptTimeoutMs = 3_000;
const defaultRefreshRetryWindowMs = 8_000;

// Called through a wrapper, never as a detached method: browsers throw "Illegal invocation"
// when window.fetch runs with another `this`.
const globalFetch: FetchFunction = (input, init) => globalThis.fetch(input, init);

/** The query string of GET /v1/me/events: only what the caller set, encoded. */
function pagedPath(path: string, query: PageQuery): string {
  const parameters = new URLSearchParams();
  if (query.limit !== undefined) parameters.set('limit', String(query.limit));
  if (query.before !== undefined) parameters.set('before', query.before);
  const search = parameters.toString();
  return search === '' ? path : `${path}?${search}`;
}

function securityEventsPath(query: SecurityEventsQuery): string {
  return pagedPath('/v1/me/events', query);
}

/**
 * Creates a client for one Twofold server.
 *
 * @example
 * const twofold = createTwofoldClient({ baseUrl: 'https://auth.example.com' });
 * const pending = await twofold.login({ username, password });
 * await pending.verifyTotpCode(codeFromApp);
 * const me = await twofold.getMe();
 */
export function createTwofoldClient(options: TwofoldClientOptions): TwofoldClient {
  const now = options.now ?? Date.now;
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  const refreshAttemptTimeoutMs = options.refreshAttemptTimeoutMs ?? defaultRefreshAttemptTimeoutMs;
  const fetch = options.fetch ?? globalFetch;
  // One key per Twofold server (named by its base URL): two servers cannot link the client by it.
  const dpop = options.dpop === undefined || options.dpop === false ? undefined : createDpopProver({ option: options.dpop, keyName: normalizeBaseUrl(options.baseUrl), now });
  const transport = createTransport({
    baseUrl: options.baseUrl,
    fetch,
    now,
    requestTimeoutMs,
    dpop,
  });
  const sessionTokens = createSessionTokens({
    transport,
    tokenStore: options.tokenStore ?? createMemoryTokenStore(),
    now,
    refreshLeewaySeconds: options.refreshLeewaySeconds ?? defaultRefreshLeewaySeconds,
    // An attempt never waits longer than any request may (0 on either side: the other one's bound).
    refreshAttemptTimeoutMs:
      refreshAttemptTimeoutMs === 0 ? requestTimeoutMs : requestTimeoutMs === 0 ? refreshAttemptTimeoutMs : Math.min(refreshAttemptTimeoutMs, requestTimeoutMs),
    refreshRetryWindowMs: options.refreshRetryWindowMs ?? defaultRefreshRetryWindowMs,
  });
  const webauthn = options.webauthn ?? lazyBrowserWebAuthn();
  const authorized: AuthorizedSend = (request) => sessionTokens.sendAuthorized(request);
  const pendingDependencies = { transport, sessionTokens, webauthn };

  return {
    async register(input) {
      const response = await transport.send<RegisterResponse>({ method: 'POST', path: '/v1/register', body: input });
      return {
        user: response.user,
        totp: response.totp,
        pending: createPendingSignIn(pendingDependencies, { mfa_token: response.mfa_token, expires_in: response.expires_in, next: response.next, factors: [] }),
      };
    },

    async login(input) {
      const response = await transport.send<LoginResponse>({ method: 'POST', path: '/v1/login', body: { username: input.username, password: input.password } });
      return createPendingSignIn(pendingDependencies, response);
    },
    signInWithPasskey: (signInOptions) => signInWithPasskeyUsing(pendingDependencies, signInOptions),
    startConditionalPasskeySignIn: (signInOptions) => startConditionalPasskeySignInUsing(pendingDependencies, signInOptions),

    getTokens: () => sessionTokens.current(),
    refreshTokens: () => sessionTokens.refreshTokens(),

    async logout() {
      if ((await sessionTokens.current()) === undefined) return;
      try {
        await authorized<void>({ method: 'POST', path: '/v1/logout', body: {} });
      } catch (error) {
        // A session the server already ended is the outcome asked for; anything else is reported,
        // but the tokens are forgotten either way: the person asked to be signed out here.
        if (!isTokenRejection(error)) throw error;
      } finally {
        await sessionTokens.clear();
      }
    },

    authorizedFetch: createAuthorizedFetch({ fetch, sessionTokens, dpop }),
    dpopThumbprint: async () => dpop?.thumbprint(),

    getMe: () => authorized<Me>({ method: 'GET', path: '/v1/me' }),

    listFactors: async () => (await authorized<{ factors: Factor[] }>({ method: 'GET', path: '/v1/factors' })).factors,
    enrollFactor: (input) => enrollFactorWith(authorized, input),
    confirmFactor: async (factorId, confirmation) => (await confirmFactorWith(authorized, factorId, confirmation)).factor,
    enrollPasskey: async (input = {}) => (await enrollPasskeyWith(authorized, webauthn, input)).factor,
    renameFactor: async (factorId, label) => (await authorized<{ factor: Factor }>({ method: 'PATCH', path: `/v1/factors/${pathSegment(factorId)}`, body: { label } })).factor,
    removeFactor: (factorId) => authorized<void>({ method: 'DELETE', path: `/v1/factors/${pathSegment(factorId)}` }),

    challengeFactor: (factorId) => challengeFactorWith(authorized, factorId),
    async stepUp(proof) {
      const body = await verificationBodyFor(proof, authorized, webauthn);
      return sessionTokens.storeStepUp(await authorized<StepUpTokenResponse>({ method: 'POST', path: '/v1/mfa/verify', body }));
    },

    listSessions: async (query = {}) => (await authorized<SessionPage>({ method: 'GET', path: pagedPath('/v1/sessions', query) })).sessions,
    listSessionsPage: (query = {}) => authorized<SessionPage>({ method: 'GET', path: pagedPath('/v1/sessions', query) }),
    revokeSession: (sessionId) => authorized<void>({ method: 'DELETE', path: `/v1/sessions/${pathSegment(sessionId)}` }),
    revokeOtherSessions: async () => (await authorized<{ sessions_ended: number }>({ method: 'DELETE', path: '/v1/sessions' })).sessions_ended,

    regenerateRecoveryCodes: async () => (await authorized<{ recovery_codes: string[] }>({ method: 'POST', path: '/v1/recovery-codes', body: {} })).recovery_codes,
    changePassword: (input) => authorized<void>({ method: 'POST', path: '/v1/password', body: { current_password: input.currentPassword, new_password: input.newPassword } }),
    removePassword: () => authorized<void>({ method: 'DELETE', path: '/v1/password' }),

    verifyEmail: (input) => transport.send<void>({ method: 'POST', path: '/v1/email/verify', body: { token: input.token } }),
    requestEmailVerification: async () => (await authorized<{ message: string }>({ method: 'POST', path: '/v1/me/email/verification', body: {} })).message,
    changeEmail: async (input) => (await authorized<{ user: User }>({ method: 'PUT', path: '/v1/me/email', body: { email: input.email } })).user,

    // Sent without a token, even when signed in: these routes authenticate by the code, and the
    // reset leaves the stored tokens alone (the server ends their session; see twofold-client.ts).
    requestPasswordReset: async (input) => (await transport.send<{ message: string }>({ method: 'POST', path: '/v1/password/forgot', body: { username: input.username } })).message,
    resetPassword: (input) => transport.send<void>({ method: 'POST', path: '/v1/password/reset', body: { username: input.username, code: input.code, new_password: input.newPassword } }),

    listTrustedDevices: async () => (await authorized<{ devices: TrustedDevice[] }>({ method: 'GET', path: '/v1/trusted-devices' })).devices,
    forgetTrustedDevice: (deviceId) => authorized<void>({ method: 'DELETE', path: `/v1/trusted-devices/${pathSegment(deviceId)}` }),

    listSecurityEvents: (query = {}) => authorized<SecurityEventPage>({ method: 'GET', path: securityEventsPath(query) }),
  };
}
