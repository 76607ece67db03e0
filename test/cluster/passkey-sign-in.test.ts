// Passkey sign-in over three real server processes on one PostgreSQL and one Redis (WA-08): the
// challenge is asked for on one instance, answered on the others, and taken atomically from the
// shared store — one assertion sent 20 times at once across the instances signs in exactly once.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl, testRedisUrl } from '../helpers/backend.js';
import { clusterPublicUrl, startCluster, type Cluster } from '../helpers/cluster.js';
import { answerPasskeySignIn, httpPost, passkeySignInOptions, signInWithPasskey, signUpWithPasskey } from '../helpers/passkey-sign-in.js';
import { requirement } from '../helpers/requirements.js';

const available = requirement('PostgreSQL + Redis', testDatabaseUrl !== undefined && testRedisUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL (see .ci/run)');

describe.runIf(available)('passkey sign-in on three instances sharing PostgreSQL + Redis', () => {
  let cluster: Cluster;
  let urls: string[];
  const at = (i: number) => httpPost(urls[i % urls.length]!);
  const relyingParty = { rpId: new URL(clusterPublicUrl).hostname, origin: clusterPublicUrl };

  beforeAll(async () => {
    cluster = await startCluster(3);
    urls = cluster.instances.map((instance) => instance.baseUrl);
  }, 120_000);
  afterAll(async () => cluster?.stop());

  it('WA-08: one challenge answered 20 times at once across 3 instances — exactly one token response, 19 invalid_challenge', async () => {
    const account = await signUpWithPasskey(at(0), relyingParty);
    const challenge = await passkeySignInOptions(at(1));
    const assertion = account.authenticator.authenticate(challenge.options);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => answerPasskeySignIn(at(i), challenge.challengeId, assertion)));
    const signedIn = results.filter((result) => result.status === 200);
    expect(signedIn, results.map((result) => result.status).join(',')).toHaveLength(1);
    expect(results.filter((result) => result.status === 400 && result.body.code === 'invalid_challenge')).toHaveLength(19);
    expect(decodeJwt(signedIn[0]!.body.access_token)).toMatchObject({ sub: account.userId, acr: 'aal2', amr: ['swk', 'mfa'] });
    // The session it opened works on every instance, and the passkey signs in again anywhere.
    const refreshed = await at(2)('/v1/token/refresh', { refresh_token: signedIn[0]!.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect((await signInWithPasskey(at(2), account.authenticator)).status).toBe(200);
  });

  it('WA-13: a counter regression seen on one instance locks the passkey on all of them', async () => {
    const account = await signUpWithPasskey(at(1), relyingParty);
    expect((await signInWithPasskey(at(0), account.authenticator)).status).toBe(200);
    const replayedCount = account.authenticator.signCount(account.credentialId);
    const regressed = await signInWithPasskey(at(1), account.authenticator, { overrides: { signCount: replayedCount } });
    expect([regressed.status, regressed.body.code]).toEqual([403, 'passkey_locked']);
    for (let i = 0; i < 3; i += 1) expect((await signInWithPasskey(at(i), account.authenticator)).body.code).toBe('passkey_locked');
  });
});
