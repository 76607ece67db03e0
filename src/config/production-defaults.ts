// Conveniences that development and the tests rely on and production must never inherit by
// accident: cheap argon2id, a lock threshold raised out of the way, plain-http endpoints that
// carry codes, tokens or personal data, proxies trusted to say who any client is, origins on
// plain http (and, in src/delivery/senders.ts, SMTP that may skip TLS).
// loadConfig refuses production with every one found at once, each naming the variable and the
// way out (the outbox, the encryption key, the public URL and the metrics token are checked there
// too).
import type { TwofoldConfig } from './schema.js';

export interface ProductionRefusal {
  variable: string;
  message: string;
}

/** NIST SP 800-63B §5.2.2: at most 100 consecutive failed attempts on one account (LG-04). */
export const maxProductionLockFailures = 100;

/** OWASP's argon2id settings of equal cost: 19 MiB needs two passes; one pass needs 46 MiB. */
export const onePassArgon2MemoryKib = 47104;

export function productionRefusals(config: TwofoldConfig): ProductionRefusal[] {
  return [argon2Refusal(config), lockRefusal(config), ...endpointRefusals(config), proxyRefusal(config), ...originRefusals(config)].filter((refusal) => refusal !== undefined);
}

/** localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** https, or plain http to this machine (a sidecar or a local relay). */
export function isHttpsOrLoopback(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'https:' || isLoopbackHost(parsed.hostname);
}

function argon2Refusal(config: TwofoldConfig): ProductionRefusal | undefined {
  const { memoryKib, timeCost } = config.password.argon2;
  if (timeCost >= 2 || memoryKib >= onePassArgon2MemoryKib) return undefined;
  return {
    variable: 'TWOFOLD_ARGON2_TIME_COST',
    message: `production mode needs at least 2 passes below ${onePassArgon2MemoryKib} KiB of memory (OWASP: m=19456 KiB with t=2, or m=${onePassArgon2MemoryKib} KiB with t=1); set TWOFOLD_ARGON2_TIME_COST=2 or raise TWOFOLD_ARGON2_MEMORY_KIB`,
  };
}

/** The test suite raises the lock threshold out of the way; production keeps NIST's limit. */
function lockRefusal(config: TwofoldConfig): ProductionRefusal | undefined {
  if (config.throttle.lockFailures <= maxProductionLockFailures) return undefined;
  return {
    variable: 'TWOFOLD_THROTTLE_LOCK_FAILURES',
    message: `production mode locks an account after at most ${maxProductionLockFailures} consecutive failures (NIST SP 800-63B), got ${config.throttle.lockFailures}`,
  };
}

/** Endpoints that receive codes (SMS webhook, Twilio with its auth token) or personal data (notices). */
function endpointRefusals(config: TwofoldConfig): ProductionRefusal[] {
  const endpoints: Array<[string, string | undefined, string]> = [
    ['TWOFOLD_SMS_WEBHOOK_URL', config.sms.provider === 'webhook' ? config.sms.url : undefined, 'it receives every SMS code'],
    ['TWOFOLD_TWILIO_API_URL', config.sms.provider === 'twilio' ? config.sms.apiUrl : undefined, 'it receives every SMS code and the Twilio auth token'],
    ['TWOFOLD_NOTIFY_WEBHOOK_URL', config.notifications.channel === 'webhook' ? config.notifications.url : undefined, 'it receives names, addresses and IPs'],
  ];
  return endpoints
    .filter(([, url]) => url !== undefined && !isHttpsOrLoopback(url))
    .map(([variable, , why]) => ({ variable, message: `production mode sends nothing over plain http (${why}); use an https:// URL, or http:// only to this machine (localhost)` }));
}

function proxyRefusal(config: TwofoldConfig): ProductionRefusal | undefined {
  const everyone = config.http.trustedProxies.find((entry) => /\/0+$/.test(entry));
  if (everyone === undefined) return undefined;
  return {
    variable: 'TWOFOLD_TRUSTED_PROXIES',
    message: `production mode refuses ${everyone}: trusting every address as a proxy lets any client choose the IP its failures are counted under; list the addresses or ranges of your own proxies`,
  };
}

/** Browser origins on plain http can be rewritten by anyone on the network path. */
function originRefusals(config: TwofoldConfig): ProductionRefusal[] {
  const lists: Array<[string, readonly string[]]> = [
    ['TWOFOLD_CORS_ORIGINS', config.http.corsOrigins],
    ['TWOFOLD_ALLOWED_REDIRECTS', config.pages.allowedRedirectOrigins],
    // The public URL's own origin is always listed; its scheme is TWOFOLD_PUBLIC_URL's refusal.
    ['TWOFOLD_WEBAUTHN_ORIGINS', config.webauthn.origins.filter((origin) => origin !== new URL(config.publicUrl).origin)],
  ];
  return lists.flatMap(([variable, origins]) => {
    const plain = origins.find((origin) => !isHttpsOrLoopback(origin));
    return plain === undefined ? [] : [{ variable, message: `production mode accepts only https:// origins (or http://localhost), got ${plain}` }];
  });
}
