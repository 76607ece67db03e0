// A client's options beyond its redirect URIs and secret, set by the operator (`twofold clients
// add|update`), each checked before anything is stored:
// - the acr its logins need (`aal2`: a second factor every time, a remembered browser is not
//   enough; `aal1`, the default: the session's own level, which the ID token states);
// - a pairwise `sub` (a different, stable subject per client, so two apps cannot join their users);
// - PAR required (RFC 9126: the authorization request only by reference, from the back channel);
// - a native app (RFC 8252: an http loopback redirect URI accepts any port);
// - the keys of a private_key_jwt client (RFC 7523), inline or at an https jwks_uri;
// - DPoP required (RFC 9449 §5.2 dpop_bound_access_tokens: every token request carries a proof,
//   every access token is bound to the client's key; dpop-configuration.ts).
// Stored in the client's row as the provider's own metadata, so the provider enforces them, except
// the required acr, which the interaction enforces (the provider only carries it).
import { TwofoldError } from '../errors.js';

export const requiredAcrValues = ['aal1', 'aal2', 'phr', 'phrh'] as const;
export type RequiredAcr = (typeof requiredAcrValues)[number];
export type SubjectType = 'public' | 'pairwise';

export interface OidcClientOptions {
  requiredAcr?: RequiredAcr;
  subjectType?: SubjectType;
  requirePar?: boolean;
  native?: boolean;
  /** The public keys a private_key_jwt client signs its assertions with. */
  jwks?: { keys: Array<Record<string, unknown>> };
  jwksUri?: string;
  /** Its tokens only DPoP-bound: a token request without a proof is refused. */
  dpop?: boolean;
}

/** The options as they sit in the client's row (the provider's metadata names). */
export interface StoredClientOptions {
  twofold_required_acr?: RequiredAcr | undefined;
  subject_type?: SubjectType | undefined;
  require_pushed_authorization_requests?: boolean | undefined;
  application_type?: 'native' | 'web' | undefined;
  jwks?: { keys: Array<Record<string, unknown>> } | undefined;
  jwks_uri?: string | undefined;
  dpop_bound_access_tokens?: boolean | undefined;
}

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);
const privateKeyMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

function checkedJwks(jwks: unknown): { keys: Array<Record<string, unknown>> } {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new TwofoldError('invalid_request', 'The JWKS needs a "keys" array with at least one key.');
  for (const key of keys as unknown[]) {
    if (typeof key !== 'object' || key === null || typeof (key as { kty?: unknown }).kty !== 'string') throw new TwofoldError('invalid_request', 'Every key of the JWKS needs a "kty".');
    // A client hands over its public keys only: a private (or symmetric) member means a leaked key.
    if (privateKeyMembers.some((member) => member in key)) throw new TwofoldError('invalid_request', 'The JWKS holds a private or symmetric key: give the public keys only.');
  }
  return { keys: keys as Array<Record<string, unknown>> };
}

/** Checks the options against the client's redirect URIs and auth method. */
export function checkedClientOptions(options: OidcClientOptions, redirectUris: readonly string[], authMethod: string): OidcClientOptions {
  if (options.requiredAcr !== undefined && !(requiredAcrValues as readonly string[]).includes(options.requiredAcr)) {
    throw new TwofoldError('invalid_request', `The required acr "${String(options.requiredAcr)}" is not one of ${requiredAcrValues.join(', ')}.`);
  }
  if (options.subjectType !== undefined && options.subjectType !== 'public' && options.subjectType !== 'pairwise') {
    throw new TwofoldError('invalid_request', `The subject type "${String(options.subjectType)}" is not public or pairwise.`);
  }
  // The provider derives a pairwise client's sector from its redirect URIs' one host.
  if (options.subjectType === 'pairwise' && new Set(redirectUris.map((uri) => new URL(uri).host)).size > 1) {
    throw new TwofoldError('invalid_request', 'A pairwise client\'s redirect URIs must all be on one host.');
  }
  if (options.native === true) {
    for (const uri of redirectUris) {
      if (new URL(uri).protocol === 'https:' && loopbackHosts.has(new URL(uri).hostname)) throw new TwofoldError('invalid_request', `A native client's loopback redirect URI "${uri}" is http (RFC 8252), not https.`);
    }
  }
  const keyed = authMethod === 'private_key_jwt';
  if (!keyed && (options.jwks !== undefined || options.jwksUri !== undefined)) throw new TwofoldError('invalid_request', 'Keys (--jwks-file, --jwks-uri) are for --auth-method private_key_jwt.');
  if (keyed && (options.jwks === undefined) === (options.jwksUri === undefined)) throw new TwofoldError('invalid_request', 'A private_key_jwt client needs its public keys: --jwks-file or --jwks-uri (one of them).');
  if (options.jwksUri !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.jwksUri);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'https:') throw new TwofoldError('invalid_request', `The JWKS URI "${options.jwksUri}" must be an https URL.`);
  }
  return {
    ...(options.requiredAcr === undefined ? {} : { requiredAcr: options.requiredAcr }),
    ...(options.subjectType === undefined ? {} : { subjectType: options.subjectType }),
    ...(options.requirePar === undefined ? {} : { requirePar: options.requirePar }),
    ...(options.native === undefined ? {} : { native: options.native }),
    ...(options.jwks === undefined ? {} : { jwks: checkedJwks(options.jwks) }),
    ...(options.jwksUri === undefined ? {} : { jwksUri: options.jwksUri }),
    ...(options.dpop === undefined ? {} : { dpop: options.dpop === true }),
  };
}

/** Every field, undefined when not set, so that an update also clears what it no longer has. */
export function storedClientOptions(options: OidcClientOptions = {}): StoredClientOptions {
  return {
    twofold_required_acr: options.requiredAcr,
    subject_type: options.subjectType === 'pairwise' ? 'pairwise' : undefined,
    require_pushed_authorization_requests: options.requirePar === true ? true : undefined,
    application_type: options.native === true ? 'native' : undefined,
    jwks: options.jwks,
    jwks_uri: options.jwksUri,
    dpop_bound_access_tokens: options.dpop === true ? true : undefined,
  };
}

/** What a listing shows: every option with its effective value. */
export interface ClientOptionsSummary {
  requiredAcr: RequiredAcr;
  subjectType: SubjectType;
  requirePar: boolean;
  native: boolean;
  jwksUri: string | undefined;
  /** How many public keys are registered inline. */
  jwksKeys: number;
  /** The client's own requirement (TWOFOLD_DPOP=required asks it of every client besides). */
  dpop: boolean;
}

export function clientOptionsSummary(stored: StoredClientOptions): ClientOptionsSummary {
  return {
    requiredAcr: stored.twofold_required_acr ?? 'aal1',
    subjectType: stored.subject_type ?? 'public',
    requirePar: stored.require_pushed_authorization_requests === true,
    native: stored.application_type === 'native',
    jwksUri: stored.jwks_uri,
    jwksKeys: stored.jwks?.keys.length ?? 0,
    dpop: stored.dpop_bound_access_tokens === true,
  };
}

/** The options of a summary, as an update starts from them (the inline keys come from the row). */
export function clientOptionsOf(stored: StoredClientOptions): OidcClientOptions {
  return {
    ...(stored.twofold_required_acr === undefined ? {} : { requiredAcr: stored.twofold_required_acr }),
    ...(stored.subject_type === undefined ? {} : { subjectType: stored.subject_type }),
    ...(stored.require_pushed_authorization_requests === true ? { requirePar: true } : {}),
    ...(stored.application_type === 'native' ? { native: true } : {}),
    ...(stored.jwks === undefined ? {} : { jwks: stored.jwks }),
    ...(stored.jwks_uri === undefined ? {} : { jwksUri: stored.jwks_uri }),
    ...(stored.dpop_bound_access_tokens === true ? { dpop: true } : {}),
  };
}
