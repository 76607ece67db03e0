// The OpenID Provider on three real server processes sharing one PostgreSQL and one Redis, behind
// no session affinity (OP-20): a login started on one instance finishes on the others (the
// provider's cookies are signed with a key every instance shares, its interactions are rows every
// instance reads), and what must be single use stays single use when copies of one request reach
// different instances at the same moment — a code, an interaction's resumption. A signing-key
// rotation reaches the provider on every instance.
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { testDatabaseUrl, testRedisUrl } from '../helpers/backend.js';
import { clusterPublicUrl, startCluster, type Cluster } from '../helpers/cluster.js';
import { call } from '../helpers/http-client.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { pkceAuthorization } from '../helpers/oidc-relying-party.js';
import { runCommand } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';

const available = requirement('PostgreSQL + Redis', testDatabaseUrl !== undefined && testRedisUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL (see .ci/run)');
const redirectUri = 'https://cluster-app.example/callback';
const clientId = 'cluster-app';

interface Person {
  username: string;
  password: string;
  recoveryCodes: string[];
}

describe.runIf(available)('the OpenID Provider on three instances', () => {
  let cluster: Cluster;
  let urls: string[];
  let config: client.Configuration;
  let sent = 0;
  let counter = 0;

  /** The public URL's request sent to the next instance, as a load balancer without affinity would. */
  const onNextInstance = (url: string | URL): URL => {
    const target = new URL(url);
    const instance = urls[sent % urls.length]!;
    sent += 1;
    return new URL(target.pathname + target.search, instance);
  };

  beforeAll(async () => {
    cluster = await startCluster(3, { TWOFOLD_OIDC: 'on' });
    urls = cluster.instances.map((instance) => instance.baseUrl);
    const added = await runCommand(process.execPath, ['dist/cli/main.js', 'clients', 'add', '--id', clientId, '--redirect-uri', redirectUri, '--first-party', '--grant', 'refresh_token'], cluster.env);
    expect(added.code, added.stderr).toBe(0);
    const metadata = (await call(urls[0]!, 'GET', '/.well-known/openid-configuration')).body as client.ServerMetadata;
    expect(metadata.issuer).toBe(clusterPublicUrl);
    config = new client.Configuration(metadata, clientId, { id_token_signed_response_alg: decodeAlgorithm(metadata) }, client.None());
    config[client.customFetch] = (url, options) => fetch(onNextInstance(url), options as RequestInit);
    client.allowInsecureRequests(config);
  }, 120_000);
  afterAll(async () => cluster?.stop());

  function decodeAlgorithm(metadata: client.ServerMetadata): string {
    const algorithms = metadata.id_token_signing_alg_values_supported ?? [];
    expect(algorithms).toHaveLength(1);
    return algorithms[0]!;
  }

  /** Registered and enrolled over the JSON API; the sign-ins below use the recovery codes (each once). */
  async function newPerson(): Promise<Person> {
    counter += 1;
    const person = { username: `oidc-cluster-${process.pid}-${counter}`, password: 'a cluster test passphrase' };
    const registered = await call(urls[0]!, 'POST', '/v1/register', person);
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const code = generateTotpCode(registered.body.totp.secret, totpStepAt(Date.now()));
    const confirmed = await call(urls[1]!, 'POST', `/v1/factors/${registered.body.totp.factor_id}/verify`, { code }, registered.body.mfa_token);
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    return { ...person, recoveryCodes: [...confirmed.body.recovery_codes] };
  }

  const authorization = () => pkceAuthorization(config, { redirect_uri: redirectUri, scope: 'openid', state: 'cluster' });

  const secondFactor = (person: Person) => () => ({ recovery_code: person.recoveryCodes.shift()! });

  it('OP-20: a login started on one instance finishes on the others, and its code is redeemed on a third', async () => {
    const person = await newPerson();
    const browser = new OidcBrowser(clusterPublicUrl, urls);
    const { url, verifier } = await authorization();

    const callback = await browser.signInWith(url, person, secondFactor(person));

    expect(new Set(browser.answeredBy)).toEqual(new Set([0, 1, 2]));
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'cluster' });
    expect(tokens.claims()?.['acr']).toBe('aal2');
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo.sub).toBe(tokens.claims()!.sub);
  });

  it('OP-20: one code sent to the token endpoint 30 times at once over the 3 instances: one token answer, the rest invalid_grant', async () => {
    const person = await newPerson();
    const { url, verifier } = await authorization();
    const callback = await new OidcBrowser(clusterPublicUrl, urls).signInWith(url, person, secondFactor(person));
    const form = new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId });

    const answers = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const response = await fetch(`${urls[i % 3]}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
        return { status: response.status, body: (await response.json()) as Record<string, string> };
      }),
    );

    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status !== 200).map((answer) => `${answer.status} ${answer.body['error']}`)).toEqual(Array.from({ length: 29 }, () => '400 invalid_grant'));
  });

  it('OP-20: one finished sign-in resumed 12 times at once over the 3 instances: one goes on to a code, the other resumptions refused', async () => {
    const person = await newPerson();
    const browser = new OidcBrowser(clusterPublicUrl, urls);
    const { url } = await authorization();
    expect((await browser.follow(url.href)).url).toMatch(/\/sign-in\?return_to=/);
    await browser.follow('/sign-in', { method: 'POST', form: { csrf: browser.csrf(), username: person.username, password: person.password } });
    // By hand from here, stopping where the provider resumes the authorization with the result.
    const verified = await browser.request('/sign-in/verify', { method: 'POST', form: { csrf: browser.csrf(), ...secondFactor(person)() } });
    const interaction = await browser.request(verified.headers.get('location')!);
    const resume = interaction.headers.get('location')!;
    expect(new URL(resume, clusterPublicUrl).pathname).toMatch(/^\/oidc\/auth\/[A-Za-z0-9_-]+$/);

    const answers = await Promise.all(Array.from({ length: 12 }, () => browser.request(resume)));

    // The winner goes on to the code at once (a first-party client's consent came with the login).
    const going = answers.filter((answer) => answer.status === 303);
    expect(going).toHaveLength(1);
    for (const refused of answers.filter((answer) => answer !== going[0])) expect(refused.status).toBe(400);
    const back = new URL(going[0]!.headers.get('location')!, clusterPublicUrl);
    expect(back.origin + back.pathname).toBe(redirectUri);
    expect(back.searchParams.has('code')).toBe(true);
  });

  it('OP-20, OP-06: one refresh token sent 20 times at once over the 3 instances: one rotation, the rest invalid_grant, and the replay revokes the winner’s new token too', async () => {
    const person = await newPerson();
    const { url, verifier } = await pkceAuthorization(config, { redirect_uri: redirectUri, scope: 'openid offline_access', prompt: 'consent' });
    const callback = await new OidcBrowser(clusterPublicUrl, urls).signInWith(url, person, secondFactor(person));
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
    expect(typeof tokens.refresh_token).toBe('string');
    const refresh = (instance: number, refreshToken: string) =>
      fetch(`${urls[instance % 3]}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }).toString(),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as Record<string, string> }));

    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => refresh(i, tokens.refresh_token!)));

    const won = answers.filter((answer) => answer.status === 200);
    expect(won).toHaveLength(1);
    expect(answers.filter((answer) => answer.status !== 200).map((answer) => `${answer.status} ${answer.body['error']}`)).toEqual(Array.from({ length: 19 }, () => '400 invalid_grant'));
    const rotated = won[0]!.body['refresh_token']!;
    expect(rotated).not.toBe(tokens.refresh_token);
    expect((await refresh(0, rotated)).body['error']).toBe('invalid_grant');
  });

  it('OP-20: after `twofold keys rotate`, ID tokens from every instance are signed with the new key', async () => {
    const rotated = await runCommand(process.execPath, ['dist/cli/main.js', 'keys', 'rotate', '--json'], cluster.env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKid = JSON.parse(rotated.stdout).kid as string;
    const person = await newPerson();
    for (let instance = 0; instance < 3; instance += 1) {
      const { url, verifier } = await authorization();
      const callback = await new OidcBrowser(clusterPublicUrl, urls).signInWith(url, person, secondFactor(person));
      const form = new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId });
      const answer = await fetch(`${urls[instance]}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      const tokens = (await answer.json()) as { id_token: string };
      expect(decodeProtectedHeader(tokens.id_token).kid, `instance ${instance}`).toBe(newKid);
    }
  });

  it('OP-20, OP-05: a client kept in memory on every instance is forgotten at once when the CLI rotates its secret or removes it: 30 requests at once over the 3 instances with the old secret, then after removal with the new one, none gets a token', async () => {
    const added = await runCommand(process.execPath, ['dist/cli/main.js', 'clients', 'add', '--id', 'cluster-service', '--service', '--json'], cluster.env);
    expect(added.code, added.stderr).toBe(0);
    const oldSecret = JSON.parse(added.stdout).client_secret as string;
    const tokenRequest = (instance: number, secret: string) =>
      fetch(`${urls[instance % urls.length]}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`cluster-service:${secret}`).toString('base64')}` },
        body: 'grant_type=client_credentials',
      });
    const burst = async (secret: string) => (await Promise.all(Array.from({ length: 30 }, (_, index) => tokenRequest(index, secret)))).map((answer) => answer.status);
    // Every instance reads the client now, and keeps its row.
    expect(await burst(oldSecret)).toEqual(Array.from({ length: 30 }, () => 200));
    const rotated = await runCommand(process.execPath, ['dist/cli/main.js', 'clients', 'rotate-secret', 'cluster-service', '--json'], cluster.env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const newSecret = JSON.parse(rotated.stdout).client_secret as string;
    expect(await burst(oldSecret)).toEqual(Array.from({ length: 30 }, () => 401));
    expect(await burst(newSecret)).toEqual(Array.from({ length: 30 }, () => 200));
    const removed = await runCommand(process.execPath, ['dist/cli/main.js', 'clients', 'remove', 'cluster-service', '--json'], cluster.env);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await burst(newSecret)).toEqual(Array.from({ length: 30 }, () => 401));
  });
});
