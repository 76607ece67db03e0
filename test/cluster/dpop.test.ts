// DPoP across instances (DP-19): three real server processes on one PostgreSQL and one Redis, with
// server nonces required. A proof is single use on the whole cluster (its jti claimed in Redis), a
// nonce one instance gave is accepted by every other (stateless, under the shared sealed secret),
// and a bound refresh token works on any instance only with its key.
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64url } from '../../src/core/crypto/digest.js';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { testDatabaseUrl, testRedisUrl } from '../helpers/backend.js';
import { clusterPublicUrl, startCluster, type Cluster } from '../helpers/cluster.js';
import { createDpopTestKey, makeDpopProof, type DpopTestKey } from '../helpers/dpop-proofs.js';
import { requirement } from '../helpers/requirements.js';

const available = requirement('PostgreSQL + Redis', testDatabaseUrl !== undefined && testRedisUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL (see .ci/run)');

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

describe.runIf(available)('DPoP on three instances', () => {
  let cluster: Cluster;
  let key: DpopTestKey;
  let thief: DpopTestKey;
  let counter = 0;
  const at = (i: number) => cluster.instances[i % cluster.instances.length]!.baseUrl;

  beforeAll(async () => {
    [cluster, key, thief] = await Promise.all([startCluster(3, { TWOFOLD_DPOP_NONCE: 'required' }), createDpopTestKey('ES256'), createDpopTestKey('EdDSA')]);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  async function send(instance: number, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
    const response = await fetch(`${at(instance)}${path}`, {
      method,
      signal: AbortSignal.timeout(15_000),
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  }

  /** The current nonce, as one instance gives it to any request carrying a DPoP header. */
  async function nonceFrom(instance: number): Promise<string> {
    const answer = await send(instance, 'GET', '/.well-known/openid-configuration', { dpop: 'asking-for-a-nonce' });
    const nonce = answer.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return nonce!;
  }

  function proof(method: string, path: string, options: { nonce: string; accessToken?: string; key?: DpopTestKey }): Promise<string> {
    return makeDpopProof({
      key: options.key ?? key,
      htm: method,
      htu: `${clusterPublicUrl}${path}`,
      iat: Math.floor(Date.now() / 1000),
      claims: { nonce: options.nonce, ...(options.accessToken === undefined ? {} : { ath: sha256Base64url(options.accessToken) }) },
    });
  }

  /** Signs up on instance 0 with a proof (its nonce from instance 2): a session bound to `key`. */
  async function boundUser(): Promise<{ accessToken: string; refreshToken: string }> {
    const registered = await send(0, 'POST', '/v1/register', {}, { username: `dpop-cluster-${process.pid}-${(counter += 1)}`, password: 'a cluster test passphrase' });
    expect(registered.status).toBe(201);
    const path = `/v1/factors/${registered.body.totp.factor_id}/verify`;
    const dpop = await proof('POST', path, { nonce: await nonceFrom(2) });
    const code = generateTotpCode(registered.body.totp.secret, totpStepAt(Date.now()));
    const confirmed = await send(1, 'POST', path, { authorization: `Bearer ${registered.body.mfa_token}`, dpop }, { code });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body.token_type).toBe('DPoP');
    return { accessToken: confirmed.body.access_token, refreshToken: confirmed.body.refresh_token };
  }

  const me = async (instance: number, accessToken: string, dpop: string) => send(instance, 'GET', '/v1/me', { authorization: `DPoP ${accessToken}`, dpop });

  it('DP-19: a nonce one instance gave is accepted by the others; a forged one → use_dpop_nonce with a fresh DPoP-Nonce', async () => {
    const user = await boundUser();
    const nonce = await nonceFrom(0);
    const without = await me(1, user.accessToken, await proof('GET', '/v1/me', { nonce: 'forged', accessToken: user.accessToken }));
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce"/);
    expect(without.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const instance of [1, 2]) {
      expect((await me(instance, user.accessToken, await proof('GET', '/v1/me', { nonce, accessToken: user.accessToken }))).status).toBe(200);
    }
  });

  it('DP-19: a proof accepted by one instance is refused when replayed on another', async () => {
    const user = await boundUser();
    const once = await proof('GET', '/v1/me', { nonce: await nonceFrom(1), accessToken: user.accessToken });
    expect((await me(0, user.accessToken, once)).status).toBe(200);
    for (const instance of [1, 2]) {
      const replayed = await me(instance, user.accessToken, once);
      expect(replayed.status).toBe(401);
      expect(replayed.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
    }
  });

  it('DP-19: 20 concurrent uses of one proof over the 3 instances → exactly one accepted', async () => {
    const user = await boundUser();
    const once = await proof('GET', '/v1/me', { nonce: await nonceFrom(2), accessToken: user.accessToken });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => me(i, user.accessToken, once)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 401)).toHaveLength(19);
  });

  it('DP-19: a bound refresh token from instance A refreshes on B only with the same key; the thief\'s attempt spends nothing', async () => {
    const user = await boundUser();
    const refresh = async (instance: number, proofKey: DpopTestKey) =>
      send(instance, 'POST', '/v1/token/refresh', { dpop: await proof('POST', '/v1/token/refresh', { nonce: await nonceFrom(instance), key: proofKey }) }, { refresh_token: user.refreshToken });
    const stolen = await refresh(1, thief);
    expect(stolen.status).toBe(400);
    expect(stolen.body).toMatchObject({ code: 'invalid_dpop_proof' });
    const owner = await refresh(2, key);
    expect(owner.status, JSON.stringify(owner.body)).toBe(200);
    expect(owner.body.token_type).toBe('DPoP');
    expect(decodeJwt(owner.body.access_token)['cnf']).toEqual({ jkt: await calculateJwkThumbprint(key.publicJwk, 'sha256') });
  });
});
