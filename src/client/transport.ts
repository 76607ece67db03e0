// One HTTP exchange with the API: JSON in, JSON out, problem answers turned into errors. Tokens
// travel only in the Authorization header, never in a URL (where logs and Referer headers would
// keep them; the server refuses them there anyway, JW-14), and only ids we were given go into paths.
// With DPoP (RFC 9449) each request that needs it gets a fresh proof, and a server asking for its
// nonce (`use_dpop_nonce`) gets the request once more, with that nonce (DP-30).
import { asksForDpopNonce, type DpopProver } from './dpop.js';
import { TwofoldClientError } from './errors.js';
import { errorFromResponse } from './problem-errors.js';

/** The fetch signature the SDK needs: the global `fetch`, or any compatible implementation. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  method: HttpMethod;
  /** A path below the base URL, starting with "/v1/". */
  path: string;
  /** Sent as JSON; undefined sends no body. */
  body?: unknown;
  /**
   * The mfa_token or access token for the Authorization header. The DPoP scheme (a DPoP-bound
   * access token) also sends a proof that names the token (`ath`).
   */
  authorization?: { scheme: 'Bearer' | 'DPoP'; token: string } | undefined;
  /**
   * Attach a DPoP proof when the client uses DPoP: the requests that issue tokens (the server binds
   * them to the proof's key). Requests with a DPoP-scheme token get one anyway.
   */
  dpopProof?: boolean | undefined;
  /** This request's own bound on waiting for an answer, instead of `requestTimeoutMs`; 0 for none. */
  timeoutMs?: number | undefined;
}

export interface Transport {
  send<T>(request: ApiRequest): Promise<T>;
}

export interface TransportOptions {
  baseUrl: string;
  fetch: FetchFunction;
  now: () => number;
  /** 0 waits as long as fetch does. */
  requestTimeoutMs: number;
  /** Present when the client uses DPoP. */
  dpop?: DpopProver | undefined;
}

/** The base URL without a trailing slash, so that a path prefix (https://example.com/auth) survives. */
export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`baseUrl must be an absolute URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('baseUrl must be an http(s) URL');
  if (url.search !== '' || url.hash !== '') throw new TypeError('baseUrl must not have a query or a fragment');
  if (url.username !== '' || url.password !== '') throw new TypeError('baseUrl must not carry credentials');
  return url.href.replace(/\/+$/, '');
}

/** A path segment from an id the caller passed: encoded, so it can never change the route. */
export function pathSegment(id: string): string {
  return encodeURIComponent(id);
}

export function createTransport(options: TransportOptions): Transport {
  const baseUrl = normalizeBaseUrl(options.baseUrl);

  async function dpopProofFor(request: ApiRequest, url: string): Promise<string | undefined> {
    const boundToken = request.authorization?.scheme === 'DPoP' ? request.authorization.token : undefined;
    if (boundToken === undefined && request.dpopProof !== true) return undefined;
    if (options.dpop === undefined) {
      // Only a store shared with a DPoP client can hold a bound token here; Bearer would be refused.
      if (boundToken === undefined) return undefined;
      throw new TwofoldClientError({ code: 'dpop_unavailable', detail: 'The stored tokens are DPoP-bound, but this client was created without the dpop option.' });
    }
    return options.dpop.proofFor({ method: request.method, url, accessToken: boundToken });
  }

  async function exchange(request: ApiRequest): Promise<{ response: Response; proofSent: boolean }> {
    const timeoutMs = request.timeoutMs ?? options.requestTimeoutMs;
    const url = `${baseUrl}${request.path}`;
    const headers = new Headers({ accept: 'application/json, application/problem+json' });
    if (request.body !== undefined) headers.set('content-type', 'application/json');
    if (request.authorization !== undefined) headers.set('authorization', `${request.authorization.scheme} ${request.authorization.token}`);
    // Made just before sending: a proof lives seconds on the server (its iat), and each has its own jti.
    const proof = await dpopProofFor(request, url);
    if (proof !== undefined) headers.set('dpop', proof);
    let response: Response;
    try {
      response = await options.fetch(url, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        // The API works without cookies; omitting them keeps the hosted pages' cookies out of SDK calls.
        credentials: 'omit',
        // The API never redirects; following one would carry the Authorization header somewhere else.
        redirect: 'error',
        ...(timeoutMs > 0 ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new TwofoldClientError({ code: 'timeout', detail: `No answer from ${baseUrl} within ${timeoutMs} ms.`, cause: error });
      }
      throw new TwofoldClientError({ code: 'network_error', detail: `Could not reach ${baseUrl}: ${error instanceof Error ? error.message : String(error)}`, cause: error });
    }
    options.dpop?.rememberNonce(url, response);
    return { response, proofSent: proof !== undefined };
  }

  /** One request and its answer, read and parsed (body undefined when it is not JSON). */
  async function attempt(request: ApiRequest): Promise<{ response: Response; proofSent: boolean; body: unknown; isJson: boolean }> {
    const { response, proofSent } = await exchange(request);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new TwofoldClientError({ code: 'network_error', status: response.status, detail: 'The connection broke while reading the answer.', cause: error });
    }
    try {
      return { response, proofSent, body: text === '' ? undefined : JSON.parse(text), isJson: true };
    } catch {
      return { response, proofSent, body: undefined, isJson: false };
    }
  }

  function problemCode(body: unknown): string | undefined {
    const code = typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
    return typeof code === 'string' ? code : undefined;
  }

  return {
    async send<T>(request: ApiRequest): Promise<T> {
      let answer = await attempt(request);
      // The server refused the proof for its nonce and did not act on the request (the proof is
      // checked first; a refresh token is not spent): one more try, now with the nonce it sent.
      // Once only — a server that keeps asking is answered with its error.
      if (answer.proofSent && asksForDpopNonce(answer.response, problemCode(answer.body))) answer = await attempt(request);
      const { response, body, isJson } = answer;
      if (!isJson && response.ok) throw new TwofoldClientError({ code: 'invalid_response', status: response.status, detail: 'The server answered with something other than JSON.' });
      if (!response.ok) throw errorFromResponse(response, body, options.now());
      return body as T;
    },
  };
}
