// Where forward-auth may send a browser after signing in or out (the `rd` parameter): an http(s)
// URL on a host inside one of the configured cookie domains, with no userinfo, re-serialized by
// the WHATWG URL parser so what is checked is what the browser will follow. Anything else — another
// host, "//evil", "javascript:", "https://example.com@evil", backslashes, control characters — is
// refused: an open redirect on a sign-in page is a phishing tool.
import type { ForwardAuthDomain } from '../../config/forward-auth.js';
import { hostInDomain } from '../../config/forward-auth.js';
import { TwofoldError } from '../../errors.js';

export interface ReturnTarget {
  url: URL;
  domain: ForwardAuthDomain;
}

const maxLength = 4096;

export function domainOfHost(domains: readonly ForwardAuthDomain[], host: string): ForwardAuthDomain | undefined {
  return domains.find((candidate) => hostInDomain(host, candidate.domain));
}

export function parseReturnTarget(domains: readonly ForwardAuthDomain[], value: unknown): ReturnTarget {
  const refuse = (why: string) => new TwofoldError('invalid_request', `The rd parameter is refused: ${why}.`);
  if (typeof value !== 'string' || value === '') throw refuse('it is missing');
  if (value.length > maxLength) throw refuse('it is too long');
  // Backslashes and control characters are read differently by browsers and parsers: never guessed.
  // eslint-disable-next-line no-control-regex
  if (/[\\\x00-\x20\x7f]/.test(value) || /%5c/i.test(value)) throw refuse('it holds a backslash, a space or a control character');
  if (!/^https?:\/\/[^/]/i.test(value)) throw refuse('it must be an absolute http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('it is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('it must be an http(s) URL');
  if (url.username !== '' || url.password !== '' || value.slice(0, value.indexOf('/', 8) === -1 ? undefined : value.indexOf('/', 8)).includes('@')) throw refuse('it must not carry a user name or password');
  const domain = domainOfHost(domains, url.hostname);
  if (domain === undefined) throw refuse(`${url.hostname} is not inside a protected domain`);
  return { url, domain };
}

/** A URL as a query parameter value a local-path check accepts (safeLocalPath: no ! ' ( ) *). */
export function encodeParameter(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The rd of a forward-auth page's URL. Twofold's own redirects encode it; nginx's `error_page 401`
 * redirect cannot (`?rd=$scheme://$http_host$request_uri`), so a raw rd — not starting with an
 * encoded scheme — is the whole rest of the query, its own "&" and "?" included. Either way the
 * result is then checked like any rd.
 */
export function rdOfUrl(url: string): string | undefined {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return undefined;
  const query = url.slice(queryStart + 1);
  if (!query.startsWith('rd=')) {
    const parameter = new URLSearchParams(query).get('rd');
    return parameter ?? undefined;
  }
  const value = query.slice(3);
  if (!/^https?%3A/i.test(value)) return value;
  const end = value.indexOf('&');
  try {
    return decodeURIComponent(end === -1 ? value : value.slice(0, end));
  } catch {
    return undefined;
  }
}
