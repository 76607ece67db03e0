// Finds the issuer's endpoints through its metadata (/.well-known/openid-configuration). The
// document must name the configured issuer exactly: metadata for another issuer would let its
// keys sign tokens we accept (the mix-up RFC 8414 §3.3 warns of).
import { verifierUnavailable } from './errors.js';
import { fetchJson, type FetchFunction } from './http-json.js';

export interface IssuerEndpoints {
  jwksUri: string;
  revokedSessionsUri: string;
}

export async function discoverIssuerEndpoints(issuer: string, fetchFunction: FetchFunction, timeoutMs: number): Promise<IssuerEndpoints> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const metadata = await fetchJson(fetchFunction, url, timeoutMs, 'the issuer metadata');
  if (metadata['issuer'] !== issuer) {
    throw verifierUnavailable(`The metadata at ${url} is for issuer ${JSON.stringify(metadata['issuer'])}, not ${issuer}`);
  }
  const jwksUri = metadata['jwks_uri'];
  if (typeof jwksUri !== 'string') throw verifierUnavailable(`The metadata at ${url} has no jwks_uri`);
  const revokedSessionsUri = metadata['twofold_revoked_sessions_endpoint'];
  return { jwksUri, revokedSessionsUri: typeof revokedSessionsUri === 'string' ? revokedSessionsUri : defaultRevokedSessionsUri(issuer) };
}

export function defaultRevokedSessionsUri(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/v1/revoked-sessions`;
}
