// DPoP (RFC 9449) at the OpenID Provider under attack (DP-39, DP-35, DP-38): proofs replayed — later,
// all at once, and on another instance sharing PostgreSQL and Redis —, proofs made for another URL or
// method, malformed or unsigned proofs, a bound refresh token presented with another key. Each must
// meet the RFC's refusal — JSON at the token endpoint (invalid_dpop_proof for anything about the
// proof), WWW-Authenticate at userinfo — and never a 500; where a refusal could be the harness
// being broken, the same request done right is shown to work first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { registerPublicOidcClient } from '../../src/oidc/clients.js';
import { testSharedState } from '../helpers/backend.js';
import { createDpopTestKey, makeDpopProof, unsignedJws, type DpopTestKey } from '../helpers/dpop-proofs.js';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { authorizationCallback } from '../helpers/oidc-login.js';
import { discoverAsClient, startOidcTestbed } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://dpop-app.example/callback';
const clientId = 'dpop-app';

/** What no error answer may carry: a stack trace, a server's HTML error dump, a file path. */
const leakPattern = /\n\s+at \S|\bat [^\s]+ \(.*:\d+:\d+\)|node_modules|\/src\/|<pre>|Internal Server Error/i;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  authenticate: string | null;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  expect(response.status).not.toBe(500);
  expect(text).not.toMatch(leakPattern);
  let body: Record<string, unknown> = {};
  if (text !== '') {
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    body = JSON.parse(text) as Record<string, unknown>;
  }
  return { status: response.status, body, authenticate: response.headers.get('www-authenticate') };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const athOf = (token: string) => createHash('sha256').update(token).digest('base64url');

function tokenRequest(baseUrl: string, parameters: Record<string, string>, proof?: string): Promise<Answer> {
  return fetch(`${baseUrl}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(proof === undefined ? {} : { dpop: proof }) },
    body: new URLSearchParams({ client_id: clientId, ...parameters }).toString(),
  }).then(answerOf);
}

function userinfo(baseUrl: string, accessToken: string, proof: string): Promise<Answer> {
  return fetch(`${baseUrl}/oidc/me`, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } }).then(answerOf);
}

/** A login whose code is exchanged with a proof of `key` (made by the test helper, not openid-client): bound tokens. */
async function boundLogin(t: ListeningTwofold, browser: OidcBrowser, user: SignedUp, config: client.Configuration, key: DpopTestKey, issuer = t.baseUrl, nonce?: string): Promise<{ access_token: string; refresh_token: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const callback = await authorizationCallback(t, browser, user, config, { redirectUri, scope: 'openid offline_access', verifier });
  const proof = await makeDpopProof({ key, htm: 'POST', htu: `${issuer}/oidc/token`, iat: nowSeconds(), ...(nonce === undefined ? {} : { claims: { nonce } }) });
  const answer = await tokenRequest(t.baseUrl, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier }, proof);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body['token_type']).toBe('DPoP');
  return answer.body as { access_token: string; refresh_token: string };
}

describe('DPoP at the OpenID Provider under attack', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;
  let config: client.Configuration;

  beforeAll(async () => {
    ({ t, user, config } = await startOidcTestbed({ clientId, redirectUris: [redirectUri], refreshTokens: true }));
    browser = new OidcBrowser(t.baseUrl);
  });
  afterAll(async () => t.close());

  it('DP-39: a proof used once at userinfo is refused the second time (401 invalid_token)', async () => {
    const key = await createDpopTestKey('ES256');
    const tokens = await boundLogin(t, browser, user, config, key);
    const proof = await makeDpopProof({ key, htm: 'GET', htu: `${t.baseUrl}/oidc/me`, iat: nowSeconds(), claims: { ath: athOf(tokens.access_token) } });
    expect((await userinfo(t.baseUrl, tokens.access_token, proof)).status).toBe(200);
    const replay = await userinfo(t.baseUrl, tokens.access_token, proof);
    expect(replay.status).toBe(401);
    expect(replay.authenticate).toMatch(/^DPoP .*error="invalid_token"/);
  });

  it('DP-39: of 20 copies of one proof sent at once exactly one is accepted (the replay check is one atomic claim)', async () => {
    const key = await createDpopTestKey('ES256');
    const tokens = await boundLogin(t, browser, user, config, key);
    const proof = await makeDpopProof({ key, htm: 'GET', htu: `${t.baseUrl}/oidc/me`, iat: nowSeconds(), claims: { ath: athOf(tokens.access_token) } });
    const answers = await Promise.all(Array.from({ length: 20 }, () => userinfo(t.baseUrl, tokens.access_token, proof)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    const refused = answers.filter((answer) => answer.status === 401);
    expect(refused).toHaveLength(19);
    // Each loser is told what a later replay is told (the provider's own error), not another client error.
    for (const answer of refused) expect(answer.authenticate).toMatch(/error="invalid_token"/);
  });

  it('DP-39: a token request replaying a proof already used at the token endpoint is refused (400 invalid_dpop_proof)', async () => {
    const key = await createDpopTestKey('ES256');
    const tokens = await boundLogin(t, browser, user, config, key);
    const proof = await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: nowSeconds() });
    const first = await tokenRequest(t.baseUrl, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, proof);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const replay = await tokenRequest(t.baseUrl, { grant_type: 'refresh_token', refresh_token: String(first.body['refresh_token']) }, proof);
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ error: 'invalid_dpop_proof', error_description: 'DPoP proof JWT Replay detected' });
    // The refusal spent nothing: the refresh token it carried still works with a fresh proof.
    const fresh = await tokenRequest(t.baseUrl, { grant_type: 'refresh_token', refresh_token: String(first.body['refresh_token']) }, await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: nowSeconds() }));
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
  });

  it('DP-39: a proof for another URL, another method, alg none, another typ, another key’s signature or garbage → 400 invalid_dpop_proof; an hour-old one → use_dpop_nonce; one over 16 KiB → 431', async () => {
    const key = await createDpopTestKey('ES256');
    const refresh = { grant_type: 'refresh_token', refresh_token: 'not-looked-at-before-the-proof' };
    const iat = nowSeconds();
    const attacks = {
      'another path': await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/me`, iat }),
      'another host': await makeDpopProof({ key, htm: 'POST', htu: 'https://evil.example/oidc/token', iat }),
      'another method': await makeDpopProof({ key, htm: 'GET', htu: `${t.baseUrl}/oidc/token`, iat }),
      'alg none': unsignedJws({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }, { jti: 'x', htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat }),
      'another typ': await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat, header: { typ: 'JWT' } }),
      'signed by another key': await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat, signWith: (await createDpopTestKey('ES256')).privateKey }),
      garbage: 'not.a.proof',
    };
    for (const [attack, proof] of Object.entries(attacks)) {
      const answer = await tokenRequest(t.baseUrl, refresh, proof);
      expect(answer.status, attack).toBe(400);
      expect(answer.body['error'], attack).toBe('invalid_dpop_proof');
    }
    // The provider has no size bound of its own below Node's 16 KiB of headers, which refuses a bigger one outright.
    const oversized = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat, claims: { pad: 'x'.repeat(20 * 1024) } }) },
      body: new URLSearchParams({ client_id: clientId, ...refresh }).toString(),
    });
    expect(oversized.status).toBe(431);
    // An hour-old proof is not accepted either: the provider offers its nonce instead (RFC 9449 §8).
    const old = await tokenRequest(t.baseUrl, refresh, await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: iat - 3600 }));
    expect(old.status).toBe(400);
    expect(old.body['error']).toBe('use_dpop_nonce');
  });

  it('DP-35: a bound refresh token presented with another key’s valid proof, or without a proof, → 400 invalid_dpop_proof, and stays good for its own key', async () => {
    const key = await createDpopTestKey('ES256');
    const tokens = await boundLogin(t, browser, user, config, key);
    const thief = await createDpopTestKey('EdDSA');
    const stolen = await tokenRequest(t.baseUrl, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, await makeDpopProof({ key: thief, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: nowSeconds() }));
    expect(stolen.status).toBe(400);
    expect(stolen.body['error']).toBe('invalid_dpop_proof');
    const bare = await tokenRequest(t.baseUrl, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(bare.status).toBe(400);
    expect(bare.body['error']).toBe('invalid_dpop_proof');
    const own = await tokenRequest(t.baseUrl, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: nowSeconds() }));
    expect(own.status, JSON.stringify(own.body)).toBe(200);
  });
});

// Two instances on one PostgreSQL and one Redis (the "postgres" test project), one public URL.
// Registered only there: the other projects have no state two instances could share (not a skip).
if (testSharedState === 'redis') {
  describe('DPoP at the OpenID Provider on two instances over PostgreSQL + Redis', () => {
    let a: ListeningTwofold;
    let b: ListeningTwofold;
    let user: SignedUp;
    let browser: OidcBrowser;
    let config: client.Configuration;

    beforeAll(async () => {
      a = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_DPOP_NONCE: 'required' } });
      b = await startListeningTwofold({ env: { ...a.storage.env, TWOFOLD_PUBLIC_URL: a.baseUrl, TWOFOLD_OIDC: 'on', TWOFOLD_DPOP_NONCE: 'required' } });
      user = await signUp(a);
      browser = new OidcBrowser(a.baseUrl);
      await registerPublicOidcClient(a.ctx.db, { clientId, redirectUris: [redirectUri], refreshTokens: true });
      config = await discoverAsClient(a, clientId);
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    async function nonceFrom(t: ListeningTwofold): Promise<string> {
      const key = await createDpopTestKey('ES256');
      const response = await fetch(`${t.baseUrl}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await makeDpopProof({ key, htm: 'POST', htu: `${a.baseUrl}/oidc/token`, iat: nowSeconds() }) },
        body: new URLSearchParams({ client_id: clientId, grant_type: 'refresh_token', refresh_token: 'x' }).toString(),
      });
      expect(((await response.json()) as { error: string }).error).toBe('use_dpop_nonce');
      return response.headers.get('dpop-nonce')!;
    }

    it('DP-38: a nonce one instance issued is accepted by the other (the nonce secret is shared, sealed in the database)', async () => {
      const key = await createDpopTestKey('ES256');
      const tokens = await boundLogin(a, browser, user, config, key, a.baseUrl, await nonceFrom(b));
      const proof = await makeDpopProof({ key, htm: 'GET', htu: `${a.baseUrl}/oidc/me`, iat: nowSeconds(), claims: { ath: athOf(tokens.access_token), nonce: await nonceFrom(a) } });
      expect((await userinfo(b.baseUrl, tokens.access_token, proof)).status).toBe(200);
    });

    it('DP-39: a proof accepted by one instance is refused as a replay by the other, and of copies sent to both at once one wins', async () => {
      const key = await createDpopTestKey('ES256');
      const tokens = await boundLogin(a, browser, user, config, key, a.baseUrl, await nonceFrom(a));
      const nonce = await nonceFrom(a);
      const proof = await makeDpopProof({ key, htm: 'GET', htu: `${a.baseUrl}/oidc/me`, iat: nowSeconds(), claims: { ath: athOf(tokens.access_token), nonce } });
      expect((await userinfo(a.baseUrl, tokens.access_token, proof)).status).toBe(200);
      const replay = await userinfo(b.baseUrl, tokens.access_token, proof);
      expect(replay.status).toBe(401);
      expect(replay.authenticate).toMatch(/error="invalid_token"/);

      const raced = await makeDpopProof({ key, htm: 'GET', htu: `${a.baseUrl}/oidc/me`, iat: nowSeconds(), claims: { ath: athOf(tokens.access_token), nonce } });
      const answers = await Promise.all(Array.from({ length: 10 }, (_, index) => userinfo([a, b][index % 2]!.baseUrl, tokens.access_token, raced)));
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    });
  });
}
