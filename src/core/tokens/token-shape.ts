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

const base64urlAlphabet = /^[A-Za-z0-9_-]*$/;
const base64urlValue = (character: string): number => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(character);

/**
 * True when the segment is exactly what encoding its own decoded bytes gives back — the same
 * answer as a decode and re-encode round trip (a test checks the two agree), without the two
 * copies: only base64url characters, no length that leaves a lone character (4n + 1), and zero in
 * the bits the last character carries beyond the final byte (4 bits at 4n + 2, 2 at 4n + 3).
 */
function isCanonicalBase64url(segment: string): boolean {
  if (!base64urlAlphabet.test(segment)) return false;
  const leftover = segment.length % 4;
  if (leftover === 0) return true;
  if (leftover === 1) return false;
  const unusedBits = leftover === 2 ? 0b1111 : 0b11;
  return (base64urlValue(segment[segment.length - 1]!) & unusedBits) === 0;
}

/** The protected header of a compact JWS as a JSON object, or undefined when it is not one. Never trusted: it only says which key and kind to check against. */
export function decodeJwsHeader(token: string): Readonly<Record<string, unknown>> | undefined {
  const segment = token.slice(0, token.indexOf('.'));
  let header = decodedHeaders.get(segment);
  if (header === undefined) {
    header = parseHeader(segment);
    // Every token of one signing key has the same header: remember a few, never many.
    if (decodedHeaders.size >= maxDecodedHeaders) decodedHeaders.clear();
    decodedHeaders.set(segment, header);
  }
  return header ?? undefined;
}

const decodedHeaders = new Map<string, Readonly<Record<string, unknown>> | null>();
const maxDecodedHeaders = 64;

function parseHeader(segment: string): Readonly<Record<string, unknown>> | null {
  try {
    const header: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? Object.freeze(header as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
