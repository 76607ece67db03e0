// DPoP (RFC 9449): the proof checker, its replay stores and stateless server nonces — shared by the
// server routes, the OpenID Provider and twofold/verify.
export { checkDpopProof, defaultDpopAlgs, maxDpopProofLength, type DpopNonceCheck, type DpopProofCheckOptions, type DpopProofError, type DpopProofResult } from './proof.js';
export { normalizeHtu } from './htu.js';
export { createDpopNonces, type DpopNonceOptions, type DpopNonces } from './nonces.js';
export { createKeyValueDpopReplayStore, createMemoryDpopReplayStore, type DpopReplayStore, type MemoryDpopReplayStoreOptions, type SetIfAbsentStore } from './replay-store.js';
