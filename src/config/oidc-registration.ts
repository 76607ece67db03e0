// Dynamic client registration of the OpenID Provider (RFC 7591/7592) as the operator sets it:
// off unless asked for, because anyone who can register a client can show people a consent page
// under a name of their choosing. `token` lets whoever holds the operator's initial access token
// register any client the provider's policy allows; `loopback` lets anyone register, but only a
// public client (no secret, PKCE) whose redirect URIs are on this machine's loopback — the native
// apps and local agents RFC 8252 describes, which cannot keep a secret or hold a token anyway.
import { ConfigError } from './config-error.js';

export type OidcRegistrationMode = 'off' | 'token' | 'loopback';

export interface OidcRegistrationConfig {
  mode: OidcRegistrationMode;
  /** The initial access token of mode `token` (TWOFOLD_OIDC_REGISTRATION_TOKEN). */
  initialAccessToken: string | undefined;
  /** Registration requests per client network per hour, whatever their outcome. */
  perClientPerHour: number;
}

export const oidcRegistrationTokenMinLength = 32;
const registrationModes: readonly OidcRegistrationMode[] = ['off', 'token', 'loopback'];
const tokenShape = /^[A-Za-z0-9\-._~+/]+=*$/;
export const defaultOidcRegistrationsPerClientPerHour = 20;

export function parseOidcRegistration(read: (name: string) => string | undefined): OidcRegistrationConfig {
  const rawMode = read('TWOFOLD_OIDC_REGISTRATION') ?? 'off';
  if (!(registrationModes as readonly string[]).includes(rawMode)) throw new ConfigError('TWOFOLD_OIDC_REGISTRATION', `expected off, token or loopback, got "${rawMode.slice(0, 40)}"`);
  const mode = rawMode as OidcRegistrationMode;
  const token = read('TWOFOLD_OIDC_REGISTRATION_TOKEN');
  if (mode === 'token') {
    if (token === undefined) throw new ConfigError('TWOFOLD_OIDC_REGISTRATION_TOKEN', `TWOFOLD_OIDC_REGISTRATION=token needs a token of at least ${oidcRegistrationTokenMinLength} characters, e.g. \`openssl rand -hex 32\``);
    if (!tokenShape.test(token)) throw new ConfigError('TWOFOLD_OIDC_REGISTRATION_TOKEN', 'use letters, digits and - . _ ~ + / (it is sent as a Bearer token)');
    if (token.length < oidcRegistrationTokenMinLength) throw new ConfigError('TWOFOLD_OIDC_REGISTRATION_TOKEN', `use at least ${oidcRegistrationTokenMinLength} characters`);
  }
  const rawLimit = read('TWOFOLD_OIDC_REGISTRATIONS_PER_CLIENT');
  const perClientPerHour = rawLimit === undefined ? defaultOidcRegistrationsPerClientPerHour : Number(rawLimit);
  if (rawLimit !== undefined && (!/^\d{1,7}$/.test(rawLimit) || perClientPerHour < 1 || perClientPerHour > 1_000_000)) {
    throw new ConfigError('TWOFOLD_OIDC_REGISTRATIONS_PER_CLIENT', `expected 1..1000000, got "${rawLimit.slice(0, 40)}"`);
  }
  return { mode, initialAccessToken: mode === 'token' ? token : undefined, perClientPerHour };
}
