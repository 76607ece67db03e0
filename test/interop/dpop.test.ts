// DPoP (RFC 9449) between independent implementations, at Twofold's OpenID Provider:
// - proofs made by Twofold's side (the test proof maker over jose, the one src/core/dpop's own tests
//   use, and twofold/client's own WebCrypto signer) are accepted by the OP — panva's
//   oidc-provider, a verifier Twofold did not write — at the token endpoint (code and refresh) and
//   at userinfo (with ath), nonce included, and the OP binds the token to the same thumbprint;
// - the very proofs openid-client (over oauth4webapi) sends to the OP pass Twofold's own checker
//   (checkDpopProof), which computes the same jkt the OP put in the token's cnf.
// (src/core/dpop/proof.test.ts holds the checker's own interop test with openid-client's proofs.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import * as client from 'openid-client';
import { checkDpopProof, createMemoryDpopReplayStore } from '../../src/core/dpop/index.js';
import { createVerifier } from '../../src/verify/index.js';
import { exportPublicJwk, generateDpopKeyPair, jwkThumbprint, signDpopProof } from '../../src/client/dpop-proof.js';
import { createDpopTestKey, makeDpopProof } from '../helpers/dpop-proofs.js';
import type { SignedUp } from '../helpers/flow.js';
import type { ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { authorizationCallback } from '../helpers/oidc-login.js';
import { discoverAsClient, startOidcTestbed } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://interop-app.example/callback';
const clientId = 'interop-app';
const ordersApi = 'https://orders.example/api';

/** What a proof maker is asked for: one proof for one request. */
export interface ProofRequest {
  htm: string;
  htu: string;
  accessToken?: string;
  nonce?: string;
}

/** A client-side DPoP implementation: a key of its own, and proofs with it. */
export interface DpopProofMaker {
  name: string;
  /** The algorithms it signs with. */
  algs: ReadonlyArray<'ES256' | 'EdDSA'>;
  newKey(alg: 'ES256' | 'EdDSA'): Promise<{ thumbprint: string; proof(request: ProofRequest): Promise<string> }>;
}

/**
 * The proof makers the OP must accept. The hook for twofold/client: add its maker here
 * (`{ name: 'twofold/client', newKey: … }` over its own DPoP signer) and every test below runs for it.
 */
export const proofMakers: DpopProofMaker[] = [
  {
    // The SDK's own signer (WebCrypto, no JOSE library), exactly as browsers and Node apps run it: ES256 only.
    name: 'twofold/client',
    algs: ['ES256'],
    async newKey() {
      const keyPair = await generateDpopKeyPair();
      const publicJwk = await exportPublicJwk(keyPair.publicKey);
      return {
        thumbprint: await jwkThumbprint(publicJwk),
        proof: ({ htm, htu, accessToken, nonce }) => signDpopProof(keyPair, publicJwk, { method: htm, url: htu, accessToken, nonce, issuedAtSeconds: Math.floor(Date.now() / 1000) }),
      };
    },
  },
  {
    name: 'Twofold’s test proof maker (jose)',
    algs: ['ES256', 'EdDSA'],
    async newKey(alg) {
      const key = await createDpopTestKey(alg);
      return {
        thumbprint: await calculateJwkThumbprint(key.publicJwk),
        proof: ({ htm, htu, accessToken, nonce }) =>
          makeDpopProof({
            key,
            htm,
            htu,
            iat: Math.floor(Date.now() / 1000),
            claims: { ...(accessToken === undefined ? {} : { ath: createHash('sha256').update(accessToken).digest('base64url') }), ...(nonce === undefined ? {} : { nonce }) },
          }),
      };
    },
  },
];

describe('DPoP interop at the OpenID Provider (TWOFOLD_DPOP_NONCE=required)', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;
  let config: client.Configuration;

  beforeAll(async () => {
    ({ t, user, config } = await startOidcTestbed({ clientId, redirectUris: [redirectUri], refreshTokens: true }, { TWOFOLD_DPOP_NONCE: 'required', TWOFOLD_OIDC_RESOURCES: `${ordersApi} orders:read` }));
    browser = new OidcBrowser(t.baseUrl);
  });
  afterAll(async () => t.close());

  /** One request with a proof; on use_dpop_nonce once more with the nonce the OP sent (RFC 9449 §8). */
  async function withProof(make: (nonce?: string) => Promise<string>, send: (proof: string) => Promise<Response>): Promise<{ status: number; body: Record<string, unknown> }> {
    let response = await send(await make());
    if (response.status === 400 || response.status === 401) {
      const nonce = response.headers.get('dpop-nonce');
      const text = await response.text();
      expect(text + (response.headers.get('www-authenticate') ?? '')).toMatch(/use_dpop_nonce/);
      expect(nonce).not.toBeNull();
      response = await send(await make(nonce!));
    }
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const tokenEndpoint = () => `${t.baseUrl}/oidc/token`;
  const postToken = (parameters: Record<string, string>) => (proof: string) =>
    fetch(tokenEndpoint(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof }, body: new URLSearchParams({ client_id: clientId, ...parameters }).toString() });

  for (const maker of proofMakers) {
    for (const alg of maker.algs) {
      it(`DP-34, DP-20: ${maker.name} (${alg}): the OP accepts its proofs for the code exchange, a refresh and userinfo, binds the token to its thumbprint, and twofold/verify takes the resource token only with that key's proof`, async () => {
        const key = await maker.newKey(alg);
        const verifier = client.randomPKCECodeVerifier();
        const callback = await authorizationCallback(t, browser, user, config, { redirectUri, scope: 'openid offline_access orders:read', resource: ordersApi, verifier });
        const exchanged = await withProof(
          (nonce) => key.proof({ htm: 'POST', htu: tokenEndpoint(), ...(nonce === undefined ? {} : { nonce }) }),
          postToken({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier, resource: ordersApi }),
        );
        expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
        expect(exchanged.body['token_type']).toBe('DPoP');
        const resourceToken = String(exchanged.body['access_token']);
        expect(decodeJwt(resourceToken)['cnf']).toEqual({ jkt: key.thumbprint });
        // The API the token was issued for checks it with twofold/verify: only with a proof of that key.
        const api = createVerifier({ issuer: t.baseUrl, audience: ordersApi });
        try {
          const orders = `${ordersApi}/orders`;
          const proofForApi = await key.proof({ htm: 'GET', htu: orders, accessToken: resourceToken });
          expect((await api.verifyDpop(resourceToken, { method: 'GET', url: orders, proof: proofForApi })).sub).toBe(user.userId);
          await expect(api.verifyDpop(resourceToken, { method: 'GET', url: orders, proof: proofForApi })).rejects.toMatchObject({ code: 'invalid_dpop_proof' });
          await expect(api.verify(resourceToken)).rejects.toMatchObject({ code: 'invalid_token' });
        } finally {
          api.close();
        }

        const refreshed = await withProof((nonce) => key.proof({ htm: 'POST', htu: tokenEndpoint(), ...(nonce === undefined ? {} : { nonce }) }), postToken({ grant_type: 'refresh_token', refresh_token: String(exchanged.body['refresh_token']) }));
        expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
        expect(refreshed.body['token_type']).toBe('DPoP');

        // userinfo takes the opaque token (no resource): the refresh without one gives it.
        const accessToken = String(refreshed.body['access_token']);
        const info = await withProof(
          (nonce) => key.proof({ htm: 'GET', htu: `${t.baseUrl}/oidc/me`, accessToken, ...(nonce === undefined ? {} : { nonce }) }),
          (proof) => fetch(`${t.baseUrl}/oidc/me`, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } }),
        );
        expect(info.status, JSON.stringify(info.body)).toBe(200);
        expect(info.body['sub']).toBe(user.userId);
      });
    }
  }

  it('DP-34: the proofs openid-client sent to the OP pass Twofold’s checkDpopProof, whose jkt is the cnf.jkt the OP bound', async () => {
    const sent: Array<{ method: string; url: string; proof: string; accessToken?: string }> = [];
    const capturing = await discoverAsClient(t, clientId);
    capturing[client.customFetch] = (url, options) => {
      const headers = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]);
      const proof = headers.get('dpop');
      const authorization = headers.get('authorization');
      if (proof !== null) sent.push({ method: options.method ?? 'GET', url: String(url), proof, ...(authorization?.startsWith('DPoP ') === true ? { accessToken: authorization.slice(5) } : {}) });
      return fetch(url, options as RequestInit);
    };
    const dpop = client.getDPoPHandle(capturing, await client.randomDPoPKeyPair());
    const verifier = client.randomPKCECodeVerifier();
    const callback = await authorizationCallback(t, browser, user, capturing, { redirectUri, scope: 'openid offline_access orders:read', resource: ordersApi, verifier });
    const tokens = await client.authorizationCodeGrant(capturing, callback, { pkceCodeVerifier: verifier, expectedState: 'state-t' }, { resource: ordersApi }, { DPoP: dpop });
    const bound = (decodeJwt(tokens.access_token)['cnf'] as { jkt: string }).jkt;
    // A refresh without a resource gives the opaque token userinfo takes: a proof with ath too.
    const refreshed = await client.refreshTokenGrant(capturing, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect((await client.fetchUserInfo(capturing, refreshed.access_token, user.userId, { DPoP: dpop })).sub).toBe(user.userId);

    const replay = createMemoryDpopReplayStore({ now: () => Date.now() });
    // The code exchange (refused for want of a nonce, then retried with it), the refresh, userinfo.
    expect(sent.map((request) => `${request.method} ${new URL(request.url).pathname}`)).toEqual(['POST /oidc/token', 'POST /oidc/token', 'POST /oidc/token', 'GET /oidc/me']);
    expect(sent.at(-1)?.accessToken).toBe(refreshed.access_token);
    for (const request of sent) {
      const checked = await checkDpopProof(request.proof, { method: request.method, url: request.url, now: Date.now(), replay, ...(request.accessToken === undefined ? {} : { accessToken: request.accessToken }) });
      expect(checked, request.url).toMatchObject({ ok: true, jkt: bound });
    }
  });
});
