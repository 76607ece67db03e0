// Host patterns of the rules file: an exact host ("app.example.com", "10.0.0.5", "[::1]") or a
// wildcard for every subdomain, one or more labels deep ("*.example.com" matches a.example.com and
// a.b.example.com, never example.com itself). Compared lowercased and without a port, the way the
// request's host is normalized (request-target.ts), so the two meet in one canonical form.
import { isIPv6 } from 'node:net';

export type HostPattern = { kind: 'exact'; host: string } | { kind: 'wildcard'; suffix: string };

export const maxPatternLength = 200;

// DNS labels as servers accept them in Host: letters, digits, "-" and "_" (seen on internal hosts).
const hostLabel = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** True for a lowercased host name of valid labels (no port, no final dot). */
export function isHostName(host: string): boolean {
  return host.length > 0 && host.length <= 253 && host.split('.').every((label) => hostLabel.test(label));
}

/** "[0:0::1]" → "[::1]": the one spelling of an IPv6 literal (WHATWG URL serialization). */
export function canonicalIpv6Literal(bracketed: string): string | undefined {
  if (!bracketed.startsWith('[') || !bracketed.endsWith(']') || !isIPv6(bracketed.slice(1, -1))) return undefined;
  return new URL(`http://${bracketed}/`).hostname;
}

export type HostPatternResult = { ok: true; pattern: HostPattern } | { ok: false; reason: string };

export function compileHostPattern(source: string): HostPatternResult {
  if (source.length > maxPatternLength) return { ok: false, reason: `a host pattern has at most ${maxPatternLength} characters` };
  // Non-ASCII first: lowercasing could turn some of it into ASCII ("K" Kelvin sign → "k").
  if (/[^\x21-\x7e]/.test(source)) return { ok: false, reason: `host "${source}": write an internationalized name in its xn-- (punycode) form, without spaces` };
  const host = source.toLowerCase();
  if (host.startsWith('[')) {
    const canonical = canonicalIpv6Literal(host);
    return canonical === undefined ? { ok: false, reason: `host "${source}" is not an IPv6 literal such as [2001:db8::1] (and has no port)` } : { ok: true, pattern: { kind: 'exact', host: canonical } };
  }
  if (host.includes(':') || host.includes('/')) return { ok: false, reason: `host "${source}": a host pattern has no scheme, port or path` };
  if (host.endsWith('.')) return { ok: false, reason: `host "${source}": write it without the final dot` };
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  if (name.includes('*')) return { ok: false, reason: `host "${source}": "*" is allowed only as the whole first label, as in *.example.com` };
  if (!isHostName(name)) return { ok: false, reason: `host "${source}" is not a host name (labels of letters, digits, "-" and "_")` };
  return { ok: true, pattern: wildcard ? { kind: 'wildcard', suffix: `.${name}` } : { kind: 'exact', host: name } };
}

/** `host` is already normalized (request-target.ts). */
export function hostPatternMatches(pattern: HostPattern, host: string): boolean {
  return pattern.kind === 'exact' ? pattern.host === host : host.length > pattern.suffix.length && host.endsWith(pattern.suffix);
}
