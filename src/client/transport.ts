// One HTTP exchange with the API: JSON in, JSON out, problem answers turned into errors. Tokens
// travel only in the Authorization header, never in a URL (where logs and Referer headers would
// keep them; the server refuses them there anyway, JW-14), and only ids we were given go into paths.
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
  /** The mfa_token or access token for `Authorization: Bearer`. */
  bearerToken?: string | undefined;
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

  async function exchange(request: ApiRequest): Promise<Response> {
    const timeoutMs = request.timeoutMs ?? options.requestTimeoutMs;
    const headers = new Headers({ accept: 'application/json, application/problem+json' });
    if (request.body !== undefined) headers.set('content-type', 'application/json');
    if (request.bearerToken !== undefined) headers.set('authorization', `Bearer ${request.bearerToken}`);
    try {
      return await options.fetch(`${baseUrl}${request.path}`, {
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
  }

  return {
    async send<T>(request: ApiRequest): Promise<T> {
      const response = await exchange(request);
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw new TwofoldClientError({ code: 'network_error', status: response.status, detail: 'The connection broke while reading the answer.', cause: error });
      }
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
        if (response.ok) throw new TwofoldClientError({ code: 'invalid_response', status: response.status, detail: 'The server answered with something other than JSON.' });
      }
      if (!response.ok) throw errorFromResponse(response, body, options.now());
      return body as T;
    },
  };
}
