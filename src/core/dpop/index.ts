// DPoP (RFC 9449): a client proves, per request, that it holds the private key a token is bound to.
// Here: the proof checker, its jti replay stores and stateless server nonces, shared by the server
// routes, the OpenID Provider and twofold/verify. Stored: only a short-lived claim per (key, jti),
// for as long as a proof's iat is accepted; nonces need no state. Threats handled: alg none / HS*
// / key confusion, a private key in the header, proofs replayed or moved to another request,
// token or time, forged or stale nonces, and oversized input (see docs/security.md).
export { checkDpopProof, defaultDpopAlgs, dpopRefusalSentence, maxDpopProofLength, type DpopNonceCheck, type DpopProofCheckOptions, type DpopProofError, type DpopProofResult } from './proof.js';
export { normalizeHtu } from './htu.js';
export { createDpopNonces, type DpopNonceOptions, type DpopNonces } from './nonces.js';
export { createKeyValueDpopReplayStore, createMemoryDpopReplayStore, type DpopReplayStore, type MemoryDpopReplayStoreOptions, type SetIfAbsentStore } from './replay-store.js';
