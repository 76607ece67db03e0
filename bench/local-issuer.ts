// A stand-in issuer for the twofold/verify benchmarks: one Ed25519 key, the metadata, the JWKS
// and an empty revoked-session feed over real HTTP, and access tokens shaped like Twofold's.
// The verifier under test then runs exactly as it does in a service.
import { createServer, type Server } from 'node:http';
import type { KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';

const kid = 'bench-key';
export const benchAudience = 'https://api.bench.example';

export async function startLocalIssuer(publicKey: KeyObject): Promise<{ server: Server; issuer: string }> {
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }] };
  let issuer = '';
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const body =
      path === '/.well-known/openid-configuration'
        ? { issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, twofold_revoked_sessions_endpoint: `${issuer}/v1/revoked-sessions` }
        : path === '/.well-known/jwks.json'
          ? jwks
          : { as_of: Date.now(), sessions: [] };
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, issuer };
}

/** `count` access tokens of distinct users and sessions; `extra` claims (e.g. a DPoP `cnf`) in each, jti and sid prefixed by `prefix`. */
export function signBenchTokens(privateKey: KeyObject, issuer: string, count: number, options: { extra?: Record<string, unknown>; prefix?: string } = {}): Promise<string[]> {
  const prefix = options.prefix ?? '';
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      new SignJWT({ client_id: 'bench', sid: `${prefix}s${index}`, auth_time: now, acr: 'aal2', amr: ['pwd', 'otp', 'mfa'], ...options.extra })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(benchAudience)
        .setSubject(`user-${index}`)
        .setJti(`${prefix}jti-${index}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey),
    ),
  );
}
