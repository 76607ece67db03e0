// The cheap checks every JWT gets before any signature work, shared by the server's verifier
// and the resource-server SDK so both refuse exactly the same malformed input.

/** JWS compact tokens are three base64url segments; anything else is refused before any crypto. */
const compactJwsShape = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;
export const maxTokenLength = 4096;

export function hasCompactJwsShape(token: string): boolean {
  return token.length <= maxTokenLength && compactJwsShape.test(token);
}

/**
 * One token, one spelling: a segment with non-zero padding bits decodes like its canonical twin,
 * and a re-encoded copy of a token must not pass for a different token (JW-15).
 */
export function isCanonicalCompactJws(token: string): boolean {
  return token.split('.').every(isCanonicalBase64url);
}

function isCanonicalBase64url(segment: string): boolean {
  return Buffer.from(segment, 'base64url').toString('base64url') === segment;
}

/** The protected header of a compact JWS as a JSON object, or undefined when it is not one. Never trusted: it only says which key and kind to check against. */
export function decodeJwsHeader(token: string): Record<string, unknown> | undefined {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
