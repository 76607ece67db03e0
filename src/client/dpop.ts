// The client's side of DPoP (RFC 9449): one key pair per Twofold server, a fresh proof for every
// request that needs one, and the latest server nonce per origin (§8) — a server that requires
// nonces answers a proof without one (or with a stale one) with `use_dpop_nonce` and a DPoP-Nonce
// header, and the request is then sent once more with that nonce. Servers may send a new nonce on
// any answer; keeping the latest per origin saves most of those round trips.
import { createIndexedDbDpopKeyStore, createMemoryDpopKeyStore, createSuppliedDpopKeyStore, indexedDbAvailable, type DpopKeyStore } from './dpop-key-store.js';
import { exportPublicJwk, jwkThumbprint, signDpopProof, type DpopKeyPair, type PublicEcJwk } from './dpop-proof.js';
import { TwofoldClientError } from './errors.js';
import { parseAuthChallenge } from './response-headers.js';

/** The `dpop` option of createTwofoldClient. */
export interface DpopOptions {
  /**
   * The app's own ES256 key pair (ECDSA P-256), e.g. one it keeps across restarts of a Node
   * program. Make the private key non-extractable. Default: the SDK makes one (see `store`).
   */
  keyPair?: DpopKeyPair;
  /**
   * Where the SDK keeps the key pair it makes: "indexeddb" (the browser default: the same key
   * after a reload, still non-extractable) or "memory" (the default where there is no IndexedDB,
   * e.g. Node: a new key per process, so tokens persisted elsewhere cannot be refreshed after a restart).
   */
  store?: 'indexeddb' | 'memory';
}

export interface DpopProofTarget {
  method: string;
  /** The absolute URL of the request. */
  url: string;
  /** The DPoP-bound access token the request carries (the proof then names it: `ath`). */
  accessToken?: string | undefined;
}

export interface DpopProver {
  /** A new proof for this request, with the latest nonce of its origin. */
  proofFor(target: DpopProofTarget): Promise<string>;
  /** Keeps the DPoP-Nonce of an answer from `url`'s origin; true when it is a new one. */
  rememberNonce(url: string, response: Response): boolean;
  /** The RFC 7638 thumbprint of the public key: the `jkt` the server binds tokens to. */
  thumbprint(): Promise<string>;
}

export interface DpopProverOptions {
  option: true | DpopOptions;
  /** Names the key in IndexedDB: one key per Twofold server (the base URL). */
  keyName: string;
  now: () => number;
}

function keyStoreFor(options: DpopProverOptions): DpopKeyStore {
  const option = options.option === true ? {} : options.option;
  if (option.keyPair !== undefined) return createSuppliedDpopKeyStore(option.keyPair);
  const store = option.store ?? (indexedDbAvailable() ? 'indexeddb' : 'memory');
  if (store === 'indexeddb') {
    if (!indexedDbAvailable()) throw new TypeError("dpop.store 'indexeddb' needs IndexedDB (a browser); in Node use 'memory' or pass a keyPair");
    return createIndexedDbDpopKeyStore(options.keyName);
  }
  if (store !== 'memory') throw new TypeError(`dpop.store must be 'indexeddb' or 'memory', got ${JSON.stringify(store)}`);
  return createMemoryDpopKeyStore();
}

/** An insecure page (http: other than localhost) has no crypto.subtle: DPoP cannot work there. */
function requireWebCrypto(): void {
  if (globalThis.crypto?.subtle === undefined) {
    throw new TwofoldClientError({ code: 'dpop_unavailable', detail: 'DPoP needs WebCrypto (crypto.subtle), which browsers offer only in secure contexts (https: or localhost).' });
  }
}

export function createDpopProver(options: DpopProverOptions): DpopProver {
  const keyStore = keyStoreFor(options);
  const noncesByOrigin = new Map<string, string>();
  let signingKey: Promise<{ keyPair: DpopKeyPair; publicJwk: PublicEcJwk }> | undefined;

  function key(): Promise<{ keyPair: DpopKeyPair; publicJwk: PublicEcJwk }> {
    signingKey ??= (async () => {
      requireWebCrypto();
      const keyPair = await keyStore.keyPair();
      return { keyPair, publicJwk: await exportPublicJwk(keyPair.publicKey) };
    })().catch((error: unknown) => {
      // A failure (say, IndexedDB refused once) is not remembered: the next request tries again.
      signingKey = undefined;
      throw error;
    });
    return signingKey;
  }

  return {
    async proofFor(target) {
      const { keyPair, publicJwk } = await key();
      return signDpopProof(keyPair, publicJwk, {
        method: target.method,
        url: target.url,
        accessToken: target.accessToken,
        nonce: noncesByOrigin.get(new URL(target.url).origin),
        issuedAtSeconds: Math.floor(options.now() / 1000),
      });
    },
    rememberNonce(url, response) {
      const nonce = response.headers.get('dpop-nonce');
      if (nonce === null || nonce === '') return false;
      const origin = new URL(url).origin;
      if (noncesByOrigin.get(origin) === nonce) return false;
      noncesByOrigin.set(origin, nonce);
      return true;
    },
    thumbprint: async () => jwkThumbprint((await key()).publicJwk),
  };
}

/**
 * True when an answer asks for the request again with a server nonce: a token endpoint's 400
 * problem `use_dpop_nonce`, or a resource's 401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"`.
 * `problemCode` is the `code` of the answer's problem document, when the caller parsed one.
 */
export function asksForDpopNonce(response: Response, problemCode?: string): boolean {
  if (response.status === 400 && problemCode === 'use_dpop_nonce') return true;
  if (response.status !== 401) return false;
  return parseAuthChallenge(response.headers.get('www-authenticate'), 'DPoP')?.['error'] === 'use_dpop_nonce' || problemCode === 'use_dpop_nonce';
}
