// A DPoP proof names the request it was made for by its URL (htu). RFC 9449 §4.3 compares it
// without query and fragment, and after the usual normalization — so the same request still
// matches whether a client wrote `HTTPS://Example.com:443/x?y` or `https://example.com/x`. The
// WHATWG URL parser does the normalizing (lowercase scheme and host, default port dropped).

/** The comparable form of an http(s) URL, or undefined for anything else. */
export function normalizeHtu(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}
