// `twofold/verify`: check Twofold access tokens in a resource server.
//
//   const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
//   const claims = await verifier.verify(token, { acr: 'aal2', maxAge: 300 });
//
// DPoP-bound tokens (RFC 9449) go through the adapters (or authenticateRequest / verifyDpop),
// which check the request's proof on every call; verify() refuses them, as they are no bearer tokens.
export { createVerifier, type Verifier, type VerifierOptions, type VerifierStats } from './verifier.js';
export type { VerificationAlgorithm } from './key-set.js';
export type { TwofoldAccessClaims, TwofoldAssertionClaims } from './claims.js';
export { VerificationError, isVerificationError, type VerificationErrorCode, type MissingAuthentication } from './errors.js';
export { acrSatisfies, type AuthenticationRequirements } from './requirements.js';
export { authenticateRequest, bearerToken, type AuthenticateOptions, type AuthenticationResult, type DpopPolicy, type RequestCredentials } from './authenticate-request.js';
export { authenticationFailure, bearerChallenge, dpopChallenge, type AuthenticationFailure, type AuthenticationFailureOptions, type AuthenticationScheme } from './challenge.js';
export type { DpopNonceOptions, DpopRequest, DpopVerifierOptions } from './dpop.js';
export type { DpopReplayStore } from '../core/dpop/replay-store.js';
export {
  createMemoryDpopReplayStore,
  createRedisDpopReplayStore,
  type MemoryDpopReplayStoreOptions,
  type RedisDpopReplayStoreOptions,
  type RedisSetIfAbsentClient,
} from './dpop-replay-stores.js';
export type { RequestUrlOptions } from './request-url.js';
export { twofoldAuth, type TwofoldAuthPluginOptions } from './fastify.js';
export { requireAuth, type ConnectAuthOptions, type ConnectMiddleware, type ConnectRequest, type ConnectResponse } from './express.js';
