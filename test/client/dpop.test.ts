// twofold/client with DPoP (RFC 9449) against a real Twofold over HTTP: every token request carries
// a proof, the tokens come back bound (token_type DPoP, cnf.jkt the client's key), every API call
// sends `Authorization: DPoP` with a proof naming the token, refreshes keep the binding, another key
// cannot use the session, and a server that requires nonces costs one transparent retry. The app's
// own API (a small HTTP server checking proofs with src/core/dpop) is called with authorizedFetch.
//
// The client talks to Twofold's public URL (http://twofold.test), as an app does: the proofs' htu
// must be the URL the server knows itself by. The test's fetch carries those requests to the
// listening server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTokenStore, createTwofoldClient, StepUpRequiredError, type TwofoldClient, type TwofoldClientOptions } from '../../src/client/index.js';
import { checkDpopProof, createDpopNonces, createMemoryDpopReplayStore } from '../../src/core/dpop/index.js';
import { createRecordingFetch, softWebAuthn, startListeningTwofold, type ListeningTwofold, type RecordingFetch } from '../helpers/client-server.js';
import { strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { testPublicUrl } from '../helpers/twofold.js';

let t: ListeningTwofold;
let withNonces: ListeningTwofold;

beforeAll(async () => {
  [t, withNonces] = await Promise.all([startListeningTwofold(), startListeningTwofold({ env: { TWOFOLD_DPOP_NONCE: 'required' } })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([t?.close(), withNonces?.close()]);
});

/** A client of the public URL whose requests reach `server`, recording them. */
function dpopClient(server: ListeningTwofold, options: Partial<TwofoldClientOptions> = {}): { client: TwofoldClient; recorder: RecordingFetch } {
  const recorder = createRecordingFetch();
  const toServer = (input: string, init: RequestInit) => recorder.fetch(input.startsWith(testPublicUrl) ? `${server.baseUrl}${input.slice(testPublicUrl.length)}` : input, init);
  const client = createTwofoldClient({ baseUrl: testPublicUrl, fetch: toServer, now: server.clock.now, dpop: true, ...options });
  return { client, recorder };
}

/** A new account confirmed with its authenticator app: the confirmation is the sign-in. */
async function signUp(client: TwofoldClient, server: ListeningTwofold = t): Promise<{ username: string; secret: string }> {
  const registration = await client.register({ username: uniqueUsername('dpop'), password: strongPassword });
  await registration.pending.confirmFactor(registration.totp.factor_id, { code: totpCode(server, registration.totp.secret) });
  return { username: registration.user.username, secret: registration.totp.secret };
}

const cnfJkt = (accessToken: string) => (decodeJwt(accessToken)['cnf'] as { jkt?: string } | undefined)?.jkt;
const proofOf = (headers: Headers) => decodeJwt(headers.get('dpop')!);

describe('twofold/client with dpop: bound tokens against a real Twofold', () => {
  it('DP-31: the first factor\'s confirmation carries a proof; the tokens are DPoP-bound to the client\'s key and /v1/me goes with Authorization: DPoP and a proof naming the token', async () => {
    const { client, recorder } = dpopClient(t);
    await signUp(client);
    const tokens = (await client.getTokens())!;
    expect(tokens.tokenType).toBe('DPoP');
    expect(cnfJkt(tokens.accessToken)).toBe(await client.dpopThumbprint());
    const confirmation = recorder.calls.find((call) => call.path.endsWith('/verify'))!;
    expect(proofOf(confirmation.headers)).toMatchObject({ htm: 'POST', htu: `${testPublicUrl}${confirmation.path}` });
    expect(proofOf(confirmation.headers)['ath']).toBeUndefined();

    recorder.calls.length = 0;
    await client.getMe();
    const [me] = recorder.calls;
    expect(me!.headers.get('authorization')).toBe(`DPoP ${tokens.accessToken}`);
    expect(decodeProtectedHeader(me!.headers.get('dpop')!)).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    const ath = await checkDpopProof(me!.headers.get('dpop'), { method: 'GET', url: `${testPublicUrl}/v1/me`, now: t.clock.now(), accessToken: tokens.accessToken, replay: createMemoryDpopReplayStore({ now: t.clock.now }) });
    expect(ath).toMatchObject({ ok: true, jkt: await client.dpopThumbprint() });
  });

  it('DP-31: a password + authenticator-app sign-in (POST /v1/mfa/verify) is bound too', async () => {
    const { client: signUpClient } = dpopClient(t);
    const account = await signUp(signUpClient);
    t.clock.advanceSeconds(30);
    const { client, recorder } = dpopClient(t);
    const pending = await client.login({ username: account.username, password: strongPassword });
    const result = await pending.verifyTotpCode(totpCode(t, account.secret));
    expect(result.tokens.tokenType).toBe('DPoP');
    expect(cnfJkt(result.tokens.accessToken)).toBe(await client.dpopThumbprint());
    expect(cnfJkt(result.tokens.accessToken)).not.toBe(await signUpClient.dpopThumbprint());
    expect(recorder.calls.find((call) => call.path === '/v1/mfa/verify')!.headers.has('dpop')).toBe(true);
    expect((await client.getMe()).user.username).toBe(account.username);
  });

  it('DP-31: refreshes send a proof and keep the binding; the session works across three of them', async () => {
    const { client, recorder } = dpopClient(t);
    await signUp(client);
    const jkt = await client.dpopThumbprint();
    const seen = new Set<string>();
    for (let round = 0; round < 3; round += 1) {
      recorder.calls.length = 0;
      const refreshed = await client.refreshTokens();
      seen.add(refreshed.refreshToken);
      expect(refreshed.tokenType).toBe('DPoP');
      expect(cnfJkt(refreshed.accessToken)).toBe(jkt);
      expect(proofOf(recorder.calls[0]!.headers)).toMatchObject({ htm: 'POST', htu: `${testPublicUrl}/v1/token/refresh` });
      await client.getMe();
    }
    expect(seen.size).toBe(3);
  });

  it('DP-31: an access token about to expire is refreshed with a proof before the call, which then succeeds', async () => {
    const { client, recorder } = dpopClient(t);
    await signUp(client);
    t.clock.advanceSeconds(590);
    recorder.calls.length = 0;
    await client.getMe();
    expect(recorder.summary()).toEqual(['POST /v1/token/refresh 200', 'GET /v1/me 200']);
    expect(recorder.calls.every((call) => call.headers.has('dpop'))).toBe(true);
  });

  it('DP-02, DP-31: another key holding the same tokens can neither refresh (invalid_dpop_proof, the refresh token not spent) nor call the API; the key\'s own client still can', async () => {
    const tokenStore = createMemoryTokenStore();
    const { client } = dpopClient(t, { tokenStore });
    await signUp(client);
    const { client: thief } = dpopClient(t, { tokenStore });
    expect(await thief.dpopThumbprint()).not.toBe(await client.dpopThumbprint());
    await expect(thief.refreshTokens()).rejects.toMatchObject({ code: 'invalid_dpop_proof', status: 400 });
    const stolen = (await tokenStore.get())!;
    const asThief = await thief.authorizedFetch(`${testPublicUrl}/v1/me`).catch(() => undefined);
    expect(asThief?.status).not.toBe(200);
    const refreshed = await client.refreshTokens();
    expect(refreshed.refreshToken).not.toBe(stolen.refreshToken);
    expect(cnfJkt(refreshed.accessToken)).toBe(await client.dpopThumbprint());
  });

  it('DP-31: bound tokens in a client created without dpop are never sent as Bearer: dpop_unavailable', async () => {
    const tokenStore = createMemoryTokenStore();
    const { client } = dpopClient(t, { tokenStore });
    await signUp(client);
    const { client: plain, recorder } = dpopClient(t, { tokenStore, dpop: false });
    await expect(plain.getMe()).rejects.toMatchObject({ code: 'dpop_unavailable' });
    expect(recorder.calls).toEqual([]);
  });

  it('DP-31: without dpop the client still gets Bearer tokens and sends no proof', async () => {
    const { client, recorder } = dpopClient(t, { dpop: false });
    await signUp(client);
    expect((await client.getTokens())!.tokenType).toBe('Bearer');
    expect(cnfJkt((await client.getTokens())!.accessToken)).toBeUndefined();
    await client.getMe();
    expect(recorder.calls.some((call) => call.headers.has('dpop'))).toBe(false);
    expect(recorder.calls.at(-1)!.headers.get('authorization')).toMatch(/^Bearer /);
  });

  it('DP-31: a step-up challenge for a bound token is a StepUpRequiredError; stepUp() (POST /v1/mfa/verify with the bound token and a proof) keeps the binding and the retried change goes through', async () => {
    const { client, recorder } = dpopClient(t);
    const { secret } = await signUp(client);
    const backup = await client.enrollFactor({ type: 'totp', label: 'Backup app' });
    await client.confirmFactor(backup.factor_id, { code: totpCode(t, backup.secret!) });
    t.clock.advanceSeconds(301);
    const error = await client.removeFactor(backup.factor_id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepUpRequiredError);
    expect(error).toMatchObject({ code: 'insufficient_authentication', status: 401, maxAgeSeconds: 300 });
    recorder.calls.length = 0;
    const steppedUp = await client.stepUp({ type: 'totp', code: totpCode(t, secret) });
    expect(steppedUp.tokenType).toBe('DPoP');
    expect(cnfJkt(steppedUp.accessToken)).toBe(await client.dpopThumbprint());
    expect(recorder.calls[0]!.headers.get('authorization')).toMatch(/^DPoP /);
    expect(proofOf(recorder.calls[0]!.headers)['ath']).toEqual(expect.any(String));
    await client.removeFactor(backup.factor_id);
    expect((await client.listFactors()).map((factor) => factor.id)).not.toContain(backup.factor_id);
  });

  it('DP-31: a passkey sign-in (POST /v1/passkeys/authenticate) is bound to the client\'s key', async () => {
    const authenticator = createSoftAuthenticator();
    const { client: signUpClient } = dpopClient(t, { webauthn: softWebAuthn(authenticator) });
    const registration = await signUpClient.register({ username: uniqueUsername('dpop-passkey'), password: strongPassword });
    await registration.pending.enrollPasskey({ label: 'Laptop' });
    const { client, recorder } = dpopClient(t, { webauthn: softWebAuthn(authenticator) });
    const result = await client.signInWithPasskey();
    expect(result.tokens.tokenType).toBe('DPoP');
    expect(cnfJkt(result.tokens.accessToken)).toBe(await client.dpopThumbprint());
    expect(recorder.calls.find((call) => call.path === '/v1/passkeys/authenticate')!.headers.has('dpop')).toBe(true);
    expect((await client.getMe()).user.id).toBe(registration.user.id);
  });
});

describe('twofold/client with dpop: server nonces (TWOFOLD_DPOP_NONCE=required)', () => {
  it('DP-30: each first token request is answered use_dpop_nonce and retried once with the DPoP-Nonce; later requests reuse the remembered nonce', async () => {
    const { client, recorder } = dpopClient(withNonces);
    await signUp(client, withNonces);
    const confirmations = recorder.calls.filter((call) => call.path.endsWith('/verify'));
    expect(confirmations.map((call) => call.status)).toEqual([400, 200]);
    expect(proofOf(confirmations[0]!.headers)['nonce']).toBeUndefined();
    expect(proofOf(confirmations[1]!.headers)['nonce']).toEqual(expect.any(String));
    expect((await client.getTokens())!.tokenType).toBe('DPoP');

    recorder.calls.length = 0;
    await client.getMe();
    await client.refreshTokens();
    await client.getMe();
    // The nonce of the last answer went into the next proof: no extra round trip.
    expect(recorder.summary()).toEqual(['GET /v1/me 200', 'POST /v1/token/refresh 200', 'GET /v1/me 200']);
  });

  it('DP-30: a nonce the server no longer accepts (two windows later) costs one retry on a resource route and on the refresh, never more', async () => {
    const { client, recorder } = dpopClient(withNonces);
    await signUp(client, withNonces);
    await client.getMe();
    withNonces.clock.advanceSeconds(2 * withNonces.config.dpop.nonceWindowSeconds + 1);
    // Tokens live 10 minutes: still valid, only the nonce is stale.
    recorder.calls.length = 0;
    await client.getMe();
    expect(recorder.summary()).toEqual(['GET /v1/me 401', 'GET /v1/me 200']);
    expect(recorder.calls[0]!.headers.get('authorization')).toMatch(/^DPoP /);
    withNonces.clock.advanceSeconds(2 * withNonces.config.dpop.nonceWindowSeconds + 1);
    recorder.calls.length = 0;
    await client.refreshTokens();
    expect(recorder.summary()).toEqual(['POST /v1/token/refresh 400', 'POST /v1/token/refresh 200']);
  });
});

describe('authorizedFetch(): the app\'s own API with a DPoP-bound token', () => {
  let api: Server;
  let apiUrl: string;
  const seen: { method: string; url: string; authorization: string | undefined; dpop: string | undefined; status: number }[] = [];

  beforeAll(async () => {
    // The app's API: checks the token with Twofold's keys and the proof with src/core/dpop — the
    // token's cnf.jkt must be the proof's key, its ath the token — and requires its own nonce.
    const jwks = createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`));
    const replay = createMemoryDpopReplayStore({ now: t.clock.now });
    const nonces = createDpopNonces({ secret: Buffer.alloc(32, 7), windowSeconds: 60, now: t.clock.now });
    api = createServer((request, response) => {
      void (async () => {
        const url = `${apiUrl}${request.url!}`;
        const answer = (status: number, headers: Record<string, string>, body: unknown) => {
          seen.push({ method: request.method!, url, authorization: request.headers.authorization, dpop: request.headers.dpop as string | undefined, status });
          response.writeHead(status, { 'content-type': 'application/json', 'dpop-nonce': nonces.issue(), ...headers }).end(JSON.stringify(body));
        };
        // A server that asks for a new nonce every time: a problem on its "token route", a challenge elsewhere.
        if (request.url!.startsWith('/always-nonce/v1/')) return answer(400, { 'content-type': 'application/problem+json' }, { type: 'about:blank', title: 'Bad Request', status: 400, code: 'use_dpop_nonce', detail: 'a fresh DPoP nonce is required' });
        if (request.url!.startsWith('/always-nonce')) return answer(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"' }, { error: 'use_dpop_nonce' });
        const [scheme, token] = (request.headers.authorization ?? '').split(' ');
        if (scheme !== 'DPoP' || token === undefined) return answer(401, { 'www-authenticate': 'DPoP error="invalid_token"' }, { error: 'invalid_token' });
        const { payload } = await jwtVerify(token, jwks, { currentDate: new Date(t.clock.now()) });
        const proof = await checkDpopProof(request.headers.dpop, { method: request.method!, url, now: t.clock.now(), accessToken: token, nonce: nonces, replay });
        if (!proof.ok) return answer(401, { 'www-authenticate': `DPoP error="${proof.error}", error_description="${proof.description}"` }, { error: proof.error });
        if (proof.jkt !== (payload['cnf'] as { jkt?: string } | undefined)?.jkt) return answer(401, { 'www-authenticate': 'DPoP error="invalid_token"' }, { error: 'invalid_token' });
        let body = '';
        for await (const chunk of request) body += String(chunk);
        answer(200, {}, { sub: payload.sub, received: body });
      })().catch((error: unknown) => response.writeHead(500).end(String(error)));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => api?.close(resolve));
  });

  it('DP-32: the call carries a proof for the API\'s own method and URL naming the token; the API\'s nonce challenge is retried once, then its nonce is reused', async () => {
    const { client } = dpopClient(t);
    await signUp(client);
    const userId = (await client.getMe()).user.id;
    seen.length = 0;

    const first = await client.authorizedFetch(`${apiUrl}/orders?page=2`, { method: 'POST', body: 'order=7', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ sub: userId, received: 'order=7' });
    expect(seen.map((request) => request.status)).toEqual([401, 200]);
    expect(decodeJwt(seen[1]!.dpop!)).toMatchObject({ htm: 'POST', htu: `${apiUrl}/orders` });

    const second = await client.authorizedFetch(new URL(`${apiUrl}/orders/7`));
    expect(second.status).toBe(200);
    expect(seen.map((request) => request.status)).toEqual([401, 200, 200]);
    expect(seen[2]!.authorization).toBe(`DPoP ${(await client.getTokens())!.accessToken}`);
  });

  it('DP-32: a body that cannot be sent twice (a stream) is not retried: the nonce challenge is returned as it is', async () => {
    const { client } = dpopClient(t);
    await signUp(client);
    seen.length = 0;
    const stream = new ReadableStream({ start: (controller) => (controller.enqueue(new TextEncoder().encode('x')), controller.close()) });
    const response = await client.authorizedFetch(`${apiUrl}/upload`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('use_dpop_nonce');
    expect(seen).toHaveLength(1);
  });

  it('DP-30, DP-32: a server that asks for a nonce again after the retry gets no second retry — on a token route (its use_dpop_nonce error) and through authorizedFetch (its 401)', async () => {
    const tokens = { accessToken: 'a.b.c', tokenType: 'DPoP' as const, refreshToken: 'r', expiresAtMs: t.clock.now() + 600_000 };
    const client = createTwofoldClient({ baseUrl: `${apiUrl}/always-nonce`, now: t.clock.now, dpop: true, tokenStore: createMemoryTokenStore(tokens) });
    seen.length = 0;
    await expect(client.refreshTokens()).rejects.toMatchObject({ code: 'use_dpop_nonce', status: 400 });
    expect(seen.map((request) => `${request.method} ${new URL(request.url).pathname} ${request.status}`)).toEqual(['POST /always-nonce/v1/token/refresh 400', 'POST /always-nonce/v1/token/refresh 400']);
    expect(decodeJwt(seen[1]!.dpop!)['nonce']).toEqual(expect.any(String));
    expect(await client.getTokens()).toEqual(tokens);

    seen.length = 0;
    const response = await client.authorizedFetch(`${apiUrl}/always-nonce/orders`);
    expect(response.status).toBe(401);
    expect(seen.map((request) => request.status)).toEqual([401, 401]);
  });

  it('DP-32: without tokens authorizedFetch throws not_signed_in and sends nothing', async () => {
    const { client } = dpopClient(t);
    seen.length = 0;
    await expect(client.authorizedFetch(`${apiUrl}/orders`)).rejects.toMatchObject({ code: 'not_signed_in' });
    expect(seen).toEqual([]);
  });
});

describe('twofold/client with dpop: TWOFOLD_DPOP=required', () => {
  let strict: ListeningTwofold;
  beforeAll(async () => {
    strict = await startListeningTwofold({ env: { TWOFOLD_DPOP: 'required' } });
  }, 60_000);
  afterAll(async () => {
    await strict?.close();
  });

  it('DP-31: a dpop client signs up, refreshes and calls the API where the server requires DPoP; a client without dpop is refused at the sign-in (invalid_dpop_proof)', async () => {
    const { client } = dpopClient(strict);
    await signUp(client, strict);
    await client.refreshTokens();
    expect((await client.getMe()).user.username).toMatch(/^dpop/);

    const { client: plain } = dpopClient(strict, { dpop: false });
    const registration = await plain.register({ username: uniqueUsername('dpop-plain'), password: strongPassword });
    await expect(registration.pending.confirmFactor(registration.totp.factor_id, { code: totpCode(strict, registration.totp.secret) })).rejects.toMatchObject({ code: 'invalid_dpop_proof', status: 400 });
    expect(await plain.getTokens()).toBeUndefined();
  });
});
