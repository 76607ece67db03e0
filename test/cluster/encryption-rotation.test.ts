// Rotating the encryption key under two real server processes on one PostgreSQL
// and one Redis. The instances are redeployed with the new key and the old one as previous, the
// CLI re-seals while they serve, and people enrolled before and after sign in with their
// authenticator app on either instance — also once the old key is gone from the configuration.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptionKeyId } from '../../src/core/crypto/secretbox.js';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { testDatabaseUrl, testRedisUrl } from '../helpers/backend.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { call } from '../helpers/http-client.js';
import { runCommand } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';

const available = requirement('PostgreSQL + Redis', testDatabaseUrl !== undefined && testRedisUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL (see .ci/run)');

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const stepMs = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Person {
  username: string;
  password: string;
  secret: string;
  /** The last TOTP step used: every sign-in needs a later one (OT-04). */
  lastStep: number;
}

describe.runIf(available)('rotating the encryption key across two instances', () => {
  let cluster: Cluster;
  let counter = 0;
  const people: Person[] = [];
  let jwksBefore: unknown;
  const url = (instance: number) => cluster.instances[instance]!.baseUrl;

  beforeAll(async () => {
    // A window of two steps leaves room for several sign-ins per person within one 30 s step.
    cluster = await startCluster(2, { TWOFOLD_ENCRYPTION_KEY: oldKey.toString('base64'), TWOFOLD_TOTP_WINDOW_STEPS: '2' });
  }, 120_000);
  afterAll(async () => cluster?.stop());

  /** A code for a step after the person's last one, inside the accepted window, not about to leave it. */
  async function nextCode(person: Person): Promise<string> {
    for (;;) {
      if (Date.now() % stepMs > stepMs - 1500) await sleep(1600);
      const now = totpStepAt(Date.now());
      const step = Math.max(person.lastStep + 1, now - 2);
      if (step <= now + 2) {
        person.lastStep = step;
        return generateTotpCode(person.secret, step);
      }
      await sleep(stepMs - (Date.now() % stepMs) + 100);
    }
  }

  async function enroll(instance: number): Promise<Person> {
    counter += 1;
    const person: Person = { username: `rotation-${process.pid}-${counter}`, password: 'an encryption rotation passphrase', secret: '', lastStep: 0 };
    const registered = await call(url(instance), 'POST', '/v1/register', { username: person.username, password: person.password });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    person.secret = registered.body.totp.secret;
    const confirmed = await call(url(instance), 'POST', `/v1/factors/${registered.body.totp.factor_id}/verify`, { code: await nextCode(person) }, registered.body.mfa_token);
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    people.push(person);
    return person;
  }

  /** Password and TOTP code on one instance; the access token then works on the other. */
  async function expectSignIn(person: Person, instance: number): Promise<void> {
    const login = await call(url(instance), 'POST', '/v1/login', { username: person.username, password: person.password });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const verified = await call(url(instance), 'POST', '/v1/mfa/verify', { code: await nextCode(person) }, login.body.mfa_token);
    expect(verified.status, `${person.username} on instance ${instance}: ${JSON.stringify(verified.body)}`).toBe(200);
    expect((await call(url(1 - instance), 'GET', '/v1/me', undefined, verified.body.access_token)).status).toBe(200);
  }

  const everyoneSignsInEverywhere = async () => {
    for (const person of people) for (const instance of [0, 1]) await expectSignIn(person, instance);
  };

  it('redeployed with the new key and the old one as previous, the instances open what either key sealed', async () => {
    const before = await enroll(0);
    jwksBefore = (await call(url(0), 'GET', '/.well-known/jwks.json')).body;
    await cluster.restart({ TWOFOLD_ENCRYPTION_KEY: newKey.toString('base64'), TWOFOLD_PREVIOUS_ENCRYPTION_KEYS: oldKey.toString('base64') });
    const during = await enroll(1); // sealed under the new key already
    // One sign-in each here (codes are single-use steps, and a step takes 30 s to come round).
    await expectSignIn(before, 1);
    await expectSignIn(during, 0);
  }, 120_000);

  it('the CLI re-seals everything under the new key while the instances serve; people sign in on both, and the JWKS is unchanged', async () => {
    const rotated = await runCommand(process.execPath, ['dist/cli/main.js', 'keys', 'rotate-encryption', '--json'], cluster.env);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({
      key_id: encryptionKeyId(newKey),
      // The person enrolled after the redeploy was sealed under the new key from the start.
      resealed: { factors: 1, signing_keys: 1, server_secrets: 2 },
      complete: true,
      removable_previous_key_ids: [encryptionKeyId(oldKey)],
    });
    await enroll(0);
    await everyoneSignsInEverywhere();
    for (const instance of [0, 1]) expect((await call(url(instance), 'GET', '/.well-known/jwks.json')).body).toEqual(jwksBefore);
  }, 120_000);

  it('restarted with only the new key, both instances start and everyone still signs in', async () => {
    await cluster.restart({ TWOFOLD_PREVIOUS_ENCRYPTION_KEYS: undefined });
    for (const instance of cluster.instances) expect(instance.output()).not.toContain('also opens');
    await everyoneSignsInEverywhere();
  }, 120_000);
});
