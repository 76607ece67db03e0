// fetch for the app's own APIs with the signed-in session's access token: refreshed before it
// expires, and — when the token is DPoP-bound — sent as `Authorization: DPoP …` with a proof made
// for exactly this method and URL and naming this token (ath). A resource server that asks for its
// nonce (401, `WWW-Authenticate: DPoP error="use_dpop_nonce"`) gets the request once more with it.
import { asksForDpopNonce, type DpopProver } from './dpop.js';
import { TwofoldClientError } from './errors.js';
import type { SessionTokens } from './session-tokens.js';
import { authorizationOf } from './token-store.js';
import type { FetchFunction } from './transport.js';

export interface AuthorizedFetchDependencies {
  fetch: FetchFunction;
  sessionTokens: SessionTokens;
  dpop: DpopProver | undefined;
}

/** fetch's signature for an absolute http(s) URL; the answer is returned as it is, whatever its status. */
export type AuthorizedFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** A body that can be sent a second time (a stream would already be consumed by the first try). */
function isReplayable(body: RequestInit['body']): boolean {
  if (body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  return (typeof Blob !== 'undefined' && body instanceof Blob) || (typeof FormData !== 'undefined' && body instanceof FormData);
}

export function createAuthorizedFetch(deps: AuthorizedFetchDependencies): AuthorizedFetch {
  return async (input, init = {}) => {
    const url = new URL(String(input));
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('authorizedFetch needs an absolute http(s) URL');
    const method = (init.method ?? 'GET').toUpperCase();
    const tokens = await deps.sessionTokens.fresh();
    const authorization = authorizationOf(tokens);
    if (authorization.scheme === 'DPoP' && deps.dpop === undefined) {
      throw new TwofoldClientError({ code: 'dpop_unavailable', detail: 'The stored tokens are DPoP-bound, but this client was created without the dpop option.' });
    }

    const send = async (): Promise<Response> => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `${authorization.scheme} ${authorization.token}`);
      if (authorization.scheme === 'DPoP') headers.set('dpop', await deps.dpop!.proofFor({ method, url: url.href, accessToken: authorization.token }));
      // Not followed by default: a redirect would carry the token elsewhere, with a proof for another URL.
      const response = await deps.fetch(url.href, { redirect: 'error', ...init, method, headers });
      deps.dpop?.rememberNonce(url.href, response);
      return response;
    };

    const response = await send();
    if (authorization.scheme === 'DPoP' && asksForDpopNonce(response) && isReplayable(init.body)) {
      // The refused answer is dropped unread; its body is not needed.
      await response.body?.cancel();
      return send();
    }
    return response;
  };
}
