// twofold/verify in front of a cluster: two Twofold processes on one PostgreSQL + Redis, a
// verifier that fetches keys from one instance and the revoked-session feed from the other.
// A signing-key rotation by the CLI is picked up without restarting the verifier, tokens signed
// before it keep verifying, and a logout on either instance reaches the verifier within a second.
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { createVerifier, VerificationError, type Verifier } from '../../src/verify/index.js';
import { testDatabaseUrl, testRedisUrl } from '../helpers/backend.js';
import { clusterPublicUrl, startCluster, type Cluster } from '../helpers/cluster.js';
import { call } from '../helpers/http-client.js';
import { runCommand } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';

const available = requirement('PostgreSQL + Redis', testDatabaseUrl !== undefined && testRedisUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL (see .ci/run)');

describe.runIf(available)('twofold/verify against two instances on one PostgreSQL + Redis', () => {
  let cluster: Cluster;
  let urls: [string, string];
  let verifier: Verifier;
  let user: { username: string; password: string; accessToken: string; recoveryCodes: string[] };

  beforeAll(async () => {
    cluster = await startCluster(2);
    urls = [cluster.instances[0]!.baseUrl, cluster.instances[1]!.baseUrl];
    verifier = createVerifier({
      issuer: clusterPublicUrl,
      audience: clusterPublicUrl,
      jwksUri: `${urls[1]}/.well-known/jwks.json`,
      revocations: { url: `${urls[0]}/v1/revoked-sessions`, intervalMs: 100 },
      jwksRefreshCooldownMs: 0,
    });
    const username = `verifier-user-${process.pid}`;
    const password = 'a cluster test passphrase';
    const registered = await call(urls[0], 'POST', '/v1/register', { username, password });
    const secret: string = registered.body.totp.secret;
    const confirmed = await call(urls[0], 'POST', `/v1/factors/${registered.body.totp.factor_id}/verify`, { code: generateTotpCode(secret, totpStepAt(Date.now())) }, registered.body.mfa_token);
    expect(confirmed.status).toBe(200);
    user = { username, password, accessToken: confirmed.body.access_token, recoveryCodes: confirmed.body.recovery_codes };
  }, 120_000);
  afterAll(async () => {
    verifier?.close();
    await cluster?.stop();
  });

  /** A fresh sign-in on `instance`, with the next unused recovery code as the second factor. */
  async function signIn(instance: 0 | 1): Promise<string> {
    const login = await call(urls[instance], 'POST', '/v1/login', { username: user.username, password: user.password });
    const verified = await call(urls[instance], 'POST', '/v1/mfa/verify', { recovery_code: user.recoveryCodes.shift() }, login.body.mfa_token);
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    return verified.body.access_token;
  }

  it('a token issued by one instance verifies with keys published by the other', async () => {
    await expect(verifier.verify(user.accessToken, { acr: 'aal2' })).resolves.toMatchObject({ iss: clusterPublicUrl });
  });

  it('JW-05: after `twofold keys rotate`, tokens with the new kid verify without a restart; tokens signed before keep verifying', async () => {
    const before = await signIn(1);
    await verifier.verify(before);
    const rotated = await runCommand(process.execPath, ['dist/cli/main.js', 'keys', 'rotate', '--json'], cluster.env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKid = JSON.parse(rotated.stdout).kid as string;
    // Instances learn of the rotation through Redis; sign in until the other instance uses the new key.
    let after = await signIn(1);
    for (let attempt = 0; attempt < 5 && decodeProtectedHeader(after).kid !== newKid; attempt += 1) after = await signIn(1);
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    await expect(verifier.verify(after)).resolves.toMatchObject({ sub: expect.any(String) });
    await expect(verifier.verify(before)).resolves.toBeDefined();
    await expect(verifier.verify(user.accessToken)).resolves.toBeDefined();
  });

  it('SS-05: a logout on the instance the verifier does not poll is refused within a second', async () => {
    const token = await signIn(0);
    await verifier.verify(token);
    expect((await call(urls[1], 'POST', '/v1/logout', undefined, token)).status).toBe(204);
    const started = Date.now();
    let refused: unknown;
    while (refused === undefined && Date.now() - started < 1_000) {
      // A cached verification never leaves the microtask queue; give the poller its turn.
      await new Promise((resolve) => setTimeout(resolve, 20));
      refused = await verifier.verify(token).then(
        () => undefined,
        (error: unknown) => error,
      );
    }
    expect(refused).toBeInstanceOf(VerificationError);
    expect((refused as VerificationError).code).toBe('invalid_token');
  });
});
