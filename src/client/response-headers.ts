// The response headers the SDK reads: Retry-After (RFC 9110 §10.2.3) and the Bearer and DPoP
// challenges of WWW-Authenticate (RFC 6750 §3, RFC 9470 §3, RFC 9449 §7.1). Both can be hidden from a browser
// script by CORS when the server does not expose them, so callers fall back to the problem
// document's extensions (`retry_after`, `max_age`, `acr_values`), which carry the same values.

/** Retry-After as whole seconds: either delay-seconds or an HTTP-date (measured from `nowMs`). */
export function parseRetryAfterSeconds(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
}

// auth-param = token BWS "=" BWS ( token / quoted-string )  (RFC 9110 §11.2)
const authParam = /([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~0-9A-Za-z/-]+))/g;

/**
 * The parameters of the `scheme` challenge in a WWW-Authenticate value, e.g. for "Bearer":
 * `Bearer error="insufficient_user_authentication", max_age=300, acr_values="aal2"` →
 * `{ error: "insufficient_user_authentication", max_age: "300", acr_values: "aal2" }`.
 * Parameter names are lower-cased; undefined when there is no challenge of that scheme.
 */
export function parseAuthChallenge(value: string | null, scheme: 'Bearer' | 'DPoP'): Record<string, string> | undefined {
  if (value === null) return undefined;
  const start = new RegExp(`(?:^|,)\\s*${scheme}(?:\\s+|$)`, 'i').exec(value);
  if (start === null) return undefined;
  const rest = value.slice(start.index + start[0].length);
  const params: Record<string, string> = {};
  authParam.lastIndex = 0;
  let consumed = 0;
  for (let match = authParam.exec(rest); match !== null; match = authParam.exec(rest)) {
    // A bare token after a comma starts the next challenge (another scheme): stop there.
    const between = rest.slice(consumed, match.index);
    if (!/^[\s,]*$/.test(between)) break;
    const name = match[1]!.toLowerCase();
    params[name] = match[2] === undefined ? match[3]! : match[2].replace(/\\(.)/g, '$1');
    consumed = match.index + match[0].length;
  }
  return params;
}

/** The Bearer challenge (RFC 6750 §3); see parseAuthChallenge. */
export function parseBearerChallenge(value: string | null): Record<string, string> | undefined {
  return parseAuthChallenge(value, 'Bearer');
}
