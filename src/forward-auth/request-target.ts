// The request a proxy asks about — its method, host and URI, from X-Forwarded-* / X-Original-*
// headers — normalized the way the upstream server will read it, so a rule is judged on what
// the app will actually serve: "/admin/../x" is /x, "/%61dmin" is /admin, "Admin.Example.com:8443"
// is admin.example.com. What servers read in different ways, or what must never reach one, is
// refused instead (undefined): the decision on a refused target is deny, never allow.
import { canonicalIpv6Literal, isHostName } from './host-pattern.js';
import { canonicalPathEncoding } from './path-encoding.js';

export interface RequestTarget {
  /** Upper case, e.g. "GET". */
  method: string;
  /** Lower case, without port or final dot; an IPv6 literal keeps its brackets. */
  host: string;
  /** Canonical (path-encoding.ts), no dot segments, no "//", always starting with "/"; no query. */
  path: string;
}

/** nginx's default for a whole request line's buffer (large_client_header_buffers 8k). */
export const maxUriLength = 8 * 1024;

// RFC 9110 token characters; a method is short.
const methodToken = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

export function normalizeRequestTarget(request: { method: string; host: string; uri: string }): RequestTarget | undefined {
  const method = normalizeMethod(request.method);
  const host = normalizeHost(request.host);
  const path = normalizeRequestPath(request.uri);
  if (method === undefined || host === undefined || path === undefined) return undefined;
  return { method, host, path };
}

/** Methods are case-sensitive in HTTP, but some servers route "get" as GET: judged as GET. */
export function normalizeMethod(method: string): string | undefined {
  return methodToken.test(method) ? method.toUpperCase() : undefined;
}

export function normalizeHost(value: string): string | undefined {
  if (value.length === 0 || value.length > 260) return undefined;
  const lower = value.toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    if (end === -1 || !isPort(lower.slice(end + 1))) return undefined;
    return canonicalIpv6Literal(lower.slice(0, end + 1));
  }
  const colon = lower.indexOf(':');
  if (colon !== -1 && !isPort(lower.slice(colon))) return undefined;
  let host = colon === -1 ? lower : lower.slice(0, colon);
  // "example.com." is example.com to DNS and to nginx's server_name matching.
  if (host.endsWith('.')) host = host.slice(0, -1);
  return isHostName(host) ? host : undefined;
}

function isPort(suffix: string): boolean {
  return suffix === '' || /^:[0-9]{1,5}$/.test(suffix);
}

/**
 * The path of an origin-form ("/a/b?q") or absolute-form ("https://host/a/b?q") request target,
 * canonical and without dot segments or empty segments; undefined when it must be refused: over
 * 8 KiB, a control character anywhere (CR/LF could forge headers downstream, NUL truncates), an
 * encoded "/" or a backslash, a bad escape, or a path that servers merging "//" before removing
 * dot segments (nginx) and servers doing it after (RFC 3986) would read differently.
 */
export function normalizeRequestPath(uri: string): string | undefined {
  if (uri.length > maxUriLength) return undefined;
  // Over the whole URI, query included: it is passed on downstream too.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(uri)) return undefined;
  const end = uri.search(/[?#]/);
  let path = end === -1 ? uri : uri.slice(0, end);
  if (!path.startsWith('/')) {
    const absolute = /^https?:\/\/[^/]*/i.exec(path);
    if (absolute === null) return undefined;
    path = path.slice(absolute[0].length) || '/';
  }
  const canonical = canonicalPathEncoding(path);
  if (canonical === undefined) return undefined;
  const slashesMergedFirst = removeDotSegments(mergeSlashes(canonical));
  const dotsRemovedFirst = mergeSlashes(removeDotSegments(canonical));
  return slashesMergedFirst === dotsRemovedFirst ? slashesMergedFirst : undefined;
}

function mergeSlashes(path: string): string {
  return path.replace(/\/{2,}/g, '/');
}

/** RFC 3986 §5.2.4 for an absolute path, segment by segment. */
export function removeDotSegments(path: string): string {
  const segments = path.split('/').slice(1);
  const output: string[] = [];
  for (const [position, segment] of segments.entries()) {
    const last = position === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') output.pop();
      // "/a/b/.." is "/a/": the directory stays a directory.
      if (last) output.push('');
      continue;
    }
    output.push(segment);
  }
  return `/${output.join('/')}`;
}
