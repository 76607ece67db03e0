// twofold/verify in front of a cluster: two Twofold processes on one PostgreSQL + Redis, a
// verifier that fetches keys from one instance and the revoked-session feed from the other.
// A signing-key rotation by the CLI is picked up without restarting the verifier, tokens signed
// before it keep verifying, and a logout on either instance reaches the verifier within a second.
// Under load — tokens minted on both instances as fast as they come, verifiers reading the JWKS
// from one instance each, made-up kids arriving all along — repeated rotations refuse no valid
// token (before, 39 % were refused).
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

  it('JW-05: three `twofold keys rotate` under load — two verifiers, tokens from both instances, made-up kids throughout: zero valid tokens refused', async () => {
    // A user of its own: its recovery codes start four sessions, each refreshed in a chain
    // (a refresh signs with whatever key its instance holds as current, and moves no clock).
    const username = `rotation-user-${process.pid}`;
    const registered = await call(urls[0], 'POST', '/v1/register', { username, password: user.password });
    const confirmed = await call(urls[0], 'POST', `/v1/factors/${registered.body.totp.factor_id}/verify`, { code: generateTotpCode(registered.body.totp.secret, totpStepAt(Date.now())) }, registered.body.mfa_token);
    expect(confirmed.status).toBe(200);
    const recoveryCodes: string[] = confirmed.body.recovery_codes;
    const refreshTokens: string[] = [];
    for (let session = 0; session < 4; session += 1) {
      const instanceUrl = urls[session % 2 === 0 ? 0 : 1];
      const login = await call(instanceUrl, 'POST', '/v1/login', { username, password: user.password });
      const verified = await call(instanceUrl, 'POST', '/v1/mfa/verify', { recovery_code: recoveryCodes.shift() }, login.body.mfa_token);
      expect(verified.status, JSON.stringify(verified.body)).toBe(200);
      refreshTokens.push(verified.body.refresh_token);
    }
    // Default settings (the 1 s cooldown included): what a service runs with.
    const verifiers = ([0, 1] as const).map((instance) =>
      createVerifier({ issuer: clusterPublicUrl, audience: clusterPublicUrl, jwksUri: `${urls[instance]}/.well-known/jwks.json`, revocations: false, onBackgroundError: () => {} }),
    );
    const refused: string[] = [];
    const kidsVerified = [new Map<string, number>(), new Map<string, number>()];
    const madeUpOutcomes = new Map<string, number>();
    let minted = 0;
    let stop = false;
    const outcomeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => 'ok',
        (error: unknown) => (error instanceof VerificationError ? error.code : String(error)),
      );

    const worker = async (session: number): Promise<void> => {
      for (let round = 0; !stop; round += 1) {
        const refreshed = await call(urls[(session + round) % 2 === 0 ? 0 : 1], 'POST', '/v1/token/refresh', { refresh_token: refreshTokens[session] });
        expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
        refreshTokens[session] = refreshed.body.refresh_token;
        const accessToken: string = refreshed.body.access_token;
        const kid = String(decodeProtectedHeader(accessToken).kid);
        minted += 1;
        // Straight from the issuer to both verifiers: the first token of a new key finds them cold.
        const outcomes = await Promise.all(verifiers.map((candidate) => outcomeOf(candidate.verify(accessToken))));
        outcomes.forEach((outcome, index) => {
          if (outcome === 'ok') kidsVerified[index]?.set(kid, (kidsVerified[index]?.get(kid) ?? 0) + 1);
          else refused.push(`verifier ${index}, kid ${kid}: ${outcome}`);
        });
      }
    };
    const attacker = async (): Promise<void> => {
      const [header, payload, signature] = user.accessToken.split('.') as [string, string, string];
      const decoded = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
      for (let burst = 0; !stop; burst += 1) {
        const forged = Array.from({ length: 10 }, (_, index) => `${Buffer.from(JSON.stringify({ ...decoded, kid: `made-up-${burst}-${index}` })).toString('base64url')}.${payload}.${signature}`);
        const outcomes = await Promise.all(verifiers.flatMap((candidate) => forged.map((token) => outcomeOf(candidate.verify(token)))));
        for (const outcome of outcomes) madeUpOutcomes.set(outcome, (madeUpOutcomes.get(outcome) ?? 0) + 1);
        // A verifier that refuses at once never leaves the microtask queue: let the rest run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const load = [0, 1, 2, 3].map(worker);
    const attacks = [attacker(), attacker()];
    const rotatedKids: string[] = [];
    try {
      for (let rotation = 0; rotation < 3; rotation += 1) {
        const rotated = await runCommand(process.execPath, ['dist/cli/main.js', 'keys', 'rotate', '--json'], cluster.env);
        expect(rotated.code, rotated.stderr).toBe(0);
        const kid = JSON.parse(rotated.stdout).kid as string;
        rotatedKids.push(kid);
        // Progress, not time: the next rotation once both verifiers have accepted tokens of this key.
        const mintedAtRotation = minted;
        for (let wait = 0; wait < 1_500 && !((kidsVerified[0]?.get(kid) ?? 0) >= 10 && (kidsVerified[1]?.get(kid) ?? 0) >= 10 && minted > mintedAtRotation + 20); wait += 1) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    } finally {
      stop = true;
      await Promise.all([...load, ...attacks]);
      for (const candidate of verifiers) candidate.close();
    }
    expect(refused.length, `${refused.length} of ${minted * 2} checks refused, e.g.\n${refused.slice(0, 5).join('\n')}`).toBe(0);
    for (const kids of kidsVerified) for (const kid of rotatedKids) expect(kids.get(kid) ?? 0, `tokens of ${kid}`).toBeGreaterThanOrEqual(10);
    expect([...madeUpOutcomes.keys()]).toEqual(['invalid_token']);
    // The flood cost the issuer far fewer JWKS requests than it sent made-up kids.
    const madeUp = madeUpOutcomes.get('invalid_token') ?? 0;
    for (const candidate of verifiers) expect(candidate.stats().keys.fetches).toBeLessThan(madeUp / 10);
  }, 120_000);

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
