// A stand-in issuer for the DPoP tests of twofold/verify: its own ES256 key, published as a JWKS
// over real HTTP, and access tokens with exactly the claims Twofold signs — plus `cnf.jkt` for a
// token bound to a DPoP key (what the server issues once DPoP is on there). Also the two example
// APIs (Fastify and Express) the adapter tests call, each behind the same routes.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import type { DpopTestKey } from '../helpers/dpop-proofs.js';

export const issuer = 'https://auth.example.test';
export const audience = 'https://api.example.test';

export interface TestIssuer {
  jwksUri: string;
  /** An access token as Twofold signs it; `boundTo` adds `cnf.jkt` of that DPoP key. */
  mint(options?: { boundTo?: DpopTestKey; claims?: JWTPayload }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const kid = `test-${randomUUID()}`;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] });
  const server: Server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  return {
    jwksUri,
    mint: (options = {}) => signAccessToken(privateKey, kid, options.boundTo, options.claims),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function signAccessToken(privateKey: CryptoKey, kid: string, boundTo: DpopTestKey | undefined, claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    iss: issuer,
    sub: 'user-1',
    aud: audience,
    client_id: 'twofold',
    iat: now,
    exp: now + 600,
    jti: randomUUID(),
    sid: 'session-1',
    auth_time: now,
    acr: 'aal2',
    amr: ['pwd', 'otp', 'mfa'],
    ...(boundTo === undefined ? {} : { cnf: { jkt: await thumbprintOf(boundTo) } }),
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(privateKey);
}

export function thumbprintOf(key: DpopTestKey): Promise<string> {
  return calculateJwkThumbprint(key.publicJwk, 'sha256');
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
