// `twofold/verify`: check Twofold access tokens in a resource server.
//
//   const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
//   const claims = await verifier.verify(token, { acr: 'aal2', maxAge: 300 });
export { createVerifier, type Verifier, type VerifierOptions, type VerifierStats } from './verifier.js';
export type { VerificationAlgorithm } from './key-set.js';
export type { TwofoldAccessClaims } from './claims.js';
export { VerificationError, isVerificationError, type VerificationErrorCode, type MissingAuthentication } from './errors.js';
export { acrSatisfies, type AuthenticationRequirements } from './requirements.js';
export { authenticateRequest, bearerToken, type AuthenticateOptions, type AuthenticationResult } from './authenticate-request.js';
export { authenticationFailure, bearerChallenge, type AuthenticationFailure } from './challenge.js';
export { twofoldAuth, type TwofoldAuthPluginOptions } from './fastify.js';
export { requireAuth, type ConnectMiddleware, type ConnectRequest, type ConnectResponse } from './express.js';
