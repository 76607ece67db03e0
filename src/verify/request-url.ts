// The URL a DPoP proof must name (its htu) is the one the client addressed. Behind a reverse proxy
// that is not what this process sees, so the adapters take it from, in order: `requestUrl(request)`
// (the app decides), `publicUrl` (the origin, and path prefix if any, the API is reached at, plus
// the request's path), or the request itself — whose scheme and host come from the framework,
// which honors X-Forwarded-* only when the app's own trust-proxy setting says so. Nothing here
// reads a forwarded header on its own.

export interface RequestUrlOptions<Request> {
  /**
   * Where clients reach this API, e.g. "https://api.example.com" (or "https://example.com/api" when
   * a proxy strips that prefix): the request's path is appended. Set it behind a proxy.
   */
  publicUrl?: string;
  /** The full URL of a request as its client addressed it; takes precedence over publicUrl. */
  requestUrl?: (request: Request) => string;
}

/** Builds the URL function once (checking publicUrl at startup, not per request). */
export function requestUrlResolver<Request>(options: RequestUrlOptions<Request>, ownUrl: (request: Request) => string, pathOf: (request: Request) => string): (request: Request) => string {
  if (options.requestUrl !== undefined) return options.requestUrl;
  if (options.publicUrl === undefined) return ownUrl;
  const base = publicBase(options.publicUrl);
  return (request) => `${base}${pathOf(request)}`;
}

function publicBase(publicUrl: string): string {
  const url = URL.canParse(publicUrl) ? new URL(publicUrl) : undefined;
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new TypeError('publicUrl must be an http(s) URL without query or fragment, e.g. "https://api.example.com"');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
