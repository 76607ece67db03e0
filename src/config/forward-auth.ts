// Forward-auth settings: whether the endpoint is on, the rules file, the parent domains
// whose apps it protects (each gets its own cookie, and a portal — Twofold reached under that
// domain — where the cookie is set), and the names of the identity headers sent to the apps.
import { ConfigError, ConfigErrors } from './config-error.js';

export interface ForwardAuthDomain {
  /** Lower case, no leading dot: the cookie's Domain, covering every subdomain. */
  domain: string;
  /** Origin (scheme, host, port) of Twofold reached under this domain; the cookie is set there. */
  portalUrl: string;
}

export interface ForwardAuthHeaders {
  user: string;
  acr: string;
  amr: string;
  assertion: string;
}

export interface ForwardAuthConfig {
  enabled: boolean;
  /** The rules file (docs/forward-auth-rules.md); undefined: two factors for everything. */
  rulesFile: string | undefined;
  domains: ForwardAuthDomain[];
  headers: ForwardAuthHeaders;
}

export const defaultForwardAuthHeaders: ForwardAuthHeaders = { user: 'Remote-User', acr: 'Remote-Acr', amr: 'Remote-Amr', assertion: 'X-Twofold-Assertion' };

type Reader = (name: string) => string | undefined;

const domainName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const headerName = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** True when `host` is `domain` or one of its subdomains. */
export function hostInDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

export function parseForwardAuth(read: Reader, publicUrl: string, trustedProxiesSet: boolean): ForwardAuthConfig {
  const problems: ConfigError[] = [];
  const attempt = <T>(parse: () => T, fallback: T): T => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(error);
      return fallback;
    }
  };
  const enabled = attempt(() => parseOnOff(read('TWOFOLD_FORWARD_AUTH')), false);
  const domains = attempt(() => parseDomains(read('TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN'), publicUrl), []);
  const headers = attempt(() => parseHeaders(read('TWOFOLD_FORWARD_AUTH_HEADERS')), defaultForwardAuthHeaders);
  if (enabled && domains.length === 0 && !problems.some((problem) => problem.variable === 'TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN')) {
    problems.push(new ConfigError('TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN', 'required with TWOFOLD_FORWARD_AUTH=on: the parent domain of the protected apps, e.g. example.com'));
  }
  // Only a trusted proxy may ask (its X-Forwarded-* / X-Original-* headers are believed): without
  // one listed, every question would be refused.
  if (enabled && !trustedProxiesSet) problems.push(new ConfigError('TWOFOLD_TRUSTED_PROXIES', 'required with TWOFOLD_FORWARD_AUTH=on: the proxies that ask the forward-auth endpoint, e.g. 127.0.0.1'));
  const [first, ...rest] = problems;
  if (first !== undefined) throw rest.length === 0 ? first : new ConfigErrors([first, ...rest]);
  return { enabled, rulesFile: read('TWOFOLD_FORWARD_AUTH_RULES'), domains, headers };
}

function parseOnOff(raw: string | undefined): boolean {
  const value = raw?.toLowerCase() ?? 'off';
  if (value === 'on' || value === 'off') return value === 'on';
  throw new ConfigError('TWOFOLD_FORWARD_AUTH', `expected on or off, got "${raw}"`);
}

/** "example.com,example.org=https://auth.example.org": each domain, and its portal when Twofold's public host is not inside it. */
function parseDomains(raw: string | undefined, publicUrl: string): ForwardAuthDomain[] {
  const variable = 'TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN';
  const domains: ForwardAuthDomain[] = [];
  for (const entry of (raw ?? '').split(',').map((value) => value.trim()).filter((value) => value !== '')) {
    const separator = entry.indexOf('=');
    const domain = (separator === -1 ? entry : entry.slice(0, separator)).trim().toLowerCase().replace(/^\./, '');
    if (!domainName.test(domain) || !domain.includes('.')) throw new ConfigError(variable, `expected a parent domain like example.com, got "${entry}"`);
    if (domains.some((known) => hostInDomain(domain, known.domain) || hostInDomain(known.domain, domain))) {
      throw new ConfigError(variable, `"${domain}" overlaps another domain in the list; each cookie domain must stand alone`);
    }
    const portalUrl = separator === -1 ? publicUrl : parsePortal(entry.slice(separator + 1).trim(), entry);
    if (!hostInDomain(new URL(portalUrl).hostname, domain)) {
      throw new ConfigError(variable, `Twofold must be reachable under ${domain} to set its cookie: add its URL there, e.g. ${domain}=https://auth.${domain} (got ${portalUrl})`);
    }
    domains.push({ domain, portalUrl });
  }
  return domains;
}

function parsePortal(raw: string, entry: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN', `expected domain=https://portal, got "${entry}"`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError('TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN', `a portal is an origin like https://auth.example.org, got "${raw}"`);
  }
  return url.origin;
}

function parseHeaders(raw: string | undefined): ForwardAuthHeaders {
  const headers = { ...defaultForwardAuthHeaders };
  for (const entry of (raw ?? '').split(',').map((value) => value.trim()).filter((value) => value !== '')) {
    const [key, name, extra] = entry.split(':').map((part) => part.trim());
    if (key === undefined || !(key in headers) || name === undefined || !headerName.test(name) || extra !== undefined) {
      throw new ConfigError('TWOFOLD_FORWARD_AUTH_HEADERS', `expected user:Name, acr:Name, amr:Name or assertion:Name, got "${entry}"`);
    }
    headers[key as keyof ForwardAuthHeaders] = name;
  }
  const names = Object.values(headers).map((name) => name.toLowerCase());
  if (new Set(names).size !== names.length) throw new ConfigError('TWOFOLD_FORWARD_AUTH_HEADERS', 'each header needs a name of its own');
  return headers;
}
