// Attacks on passkey sign-in (a passkey alone, no username, no password; WA-07..WA-15), the way an
// attacker runs them: a software authenticator is exactly what an attacker holds — a key in a
// variable that says whatever flags it likes. Bursts check that every assertion spends a guess
// before it is evaluated (the account's budget found by the credential id; the client network's for
// unknown credentials); the rest check that a bent ceremony never signs anyone in, never answers 500,
// and never tells an unknown passkey from a wrong one. Runs on SQLite, on PostgreSQL + Redis and on
// PostgreSQL without Redis (the three projects); test/cluster/passkey-sign-in.test.ts races one
// challenge over three server processes.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { bearer, loginForMfaToken, postJson } from '../helpers/flow.js';
import { answerPasskeySignIn, injectPost, passkeySignInOptions, signInWithPasskey, signUpWithPasskey, type PostResult } from '../helpers/passkey-sign-in.js';
import { b64url, createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

/** Evaluated (the given status) or refused before evaluation (429 with Retry-After), and nothing else. */
function sortAnswers(results: PostResult[], evaluatedStatus: number): { evaluated: number; refused: number } {
  const evaluated = results.filter((result) => result.status === evaluatedStatus).length;
  const refused = results.filter((result) => result.status === 429);
  for (const result of refused) expect(Number(result.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(evaluated + refused.length, results.map((result) => result.status).join(',')).toBe(results.length);
  return { evaluated, refused: refused.length };
}

describe('WA-11: every assertion spends a guess before it is evaluated', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_THROTTLE_FREE_FAILURES: '10', TWOFOLD_THROTTLE_LOCK_FAILURES: '1000', TWOFOLD_THROTTLE_IP_FAILURES: '1000000', TWOFOLD_DATABASE_QUERY_TIMEOUT_MS: '120000', TWOFOLD_REDIS_COMMAND_TIMEOUT_MS: '60000' } });
  });
  afterAll(async () => t?.close());

  it('WA-11: 200 parallel forged assertions for one passkey evaluate at most 11; the rest are 429 before the signature is looked at', async () => {
    const post = injectPost(t);
    const victim = await signUpWithPasskey(post);
    const challenges = await Promise.all(Array.from({ length: 200 }, () => passkeySignInOptions(post)));
    const forged = challenges.map((challenge) => ({ challenge, credential: victim.authenticator.authenticate(challenge.options, { signature: 'corrupt' }) }));
    const results = await Promise.all(forged.map(({ challenge, credential }) => answerPasskeySignIn(post, challenge.challengeId, credential)));
    const { evaluated, refused } = sortAnswers(results, 401);
    expect(evaluated).toBeLessThanOrEqual(11);
    expect(refused).toBeGreaterThanOrEqual(189);
    expect(t.events.filter((event) => event.type === 'mfa.failed' && event.userId === victim.userId)).toHaveLength(evaluated);
    // The account's budget is the one its password shares: the right password now waits too.
    const login = await postJson(t.app, '/v1/login', { username: victim.username, password: victim.password });
    expect(login.statusCode).toBe(429);
  });

  it('WA-11: a right assertion gives its guess back, and a completed sign-in clears the count', async () => {
    const post = injectPost(t);
    const account = await signUpWithPasskey(post);
    for (let i = 0; i < 5; i += 1) expect((await signInWithPasskey(post, account.authenticator, { overrides: { signature: 'corrupt' } })).status).toBe(401);
    expect((await signInWithPasskey(post, account.authenticator)).status).toBe(200);
    // The count started over: 11 wrong ones are evaluated again (without the reset the 7th would wait), the 12th waits.
    const more = [];
    for (let i = 0; i < 12; i += 1) more.push((await signInWithPasskey(post, account.authenticator, { overrides: { signature: 'corrupt' } })).status);
    expect(more.slice(0, 11)).toEqual(Array(11).fill(401));
    expect(more[11]).toBe(429);
  });
});

describe('WA-11: unknown credentials spend the client network\'s budget', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_THROTTLE_IP_FAILURES: '20' } });
  });
  afterAll(async () => t?.close());

  it('WA-11: 100 parallel assertions by credentials nobody registered evaluate at most 20, then 429 — and a registered passkey from that network waits too', async () => {
    const post = injectPost(t);
    const account = await signUpWithPasskey(post);
    const challenges = await Promise.all(Array.from({ length: 100 }, () => passkeySignInOptions(post)));
    const strangers = challenges.map((challenge) => {
      const stranger = createSoftAuthenticator();
      stranger.register({ rp: { id: 'twofold.test', name: 'x' }, user: { id: b64url(Buffer.from('usr_nobody')), name: 'n', displayName: 'n' }, challenge: challenge.options.challenge, pubKeyCredParams: [{ type: 'public-key', alg: -7 }], authenticatorSelection: { residentKey: 'required' } });
      return answerPasskeySignIn(post, challenge.challengeId, stranger.authenticate(challenge.options));
    });
    const { evaluated, refused } = sortAnswers(await Promise.all(strangers), 401);
    expect(evaluated).toBeLessThanOrEqual(20);
    expect(refused).toBeGreaterThanOrEqual(80);
    expect((await signInWithPasskey(post, account.authenticator)).status).toBe(429);
  });
});

describe('bent ceremonies', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold();
  });
  afterAll(async () => t?.close());
  const post = () => injectPost(t);

  async function sessionCount(): Promise<number> {
    const row = await t.ctx.db.selectFrom('sessions').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    return Number(row.count);
  }

  it('WA-08: one assertion sent 20 times at once signs in once; the other 19 find the challenge taken', async () => {
    const account = await signUpWithPasskey(post());
    const challenge = await passkeySignInOptions(post());
    const assertion = account.authenticator.authenticate(challenge.options);
    const results = await Promise.all(Array.from({ length: 20 }, () => answerPasskeySignIn(post(), challenge.challengeId, assertion)));
    expect(results.filter((result) => result.status === 200)).toHaveLength(1);
    expect(results.filter((result) => result.status === 400 && result.body.code === 'invalid_challenge')).toHaveLength(19);
  });

  it('WA-08: a challenge of another ceremony does not answer this one, and this one answers no other', async () => {
    const account = await signUpWithPasskey(post());
    // A second-factor challenge (bound to a pending login) at passkey sign-in.
    const mfaToken = await loginForMfaToken(t, account);
    const secondFactor = (await postJson(t.app, '/v1/mfa/challenge', { factor_id: account.passkeyFactorId }, bearer(mfaToken))).json();
    const misplaced = await answerPasskeySignIn(post(), secondFactor.challenge_id, account.authenticator.authenticate(secondFactor.options));
    expect(misplaced.status).toBe(400);
    expect(misplaced.body.code).toBe('invalid_challenge');
    // A passkey sign-in's challenge at /v1/mfa/verify.
    const signIn = await passkeySignInOptions(post());
    const verified = await postJson(t.app, '/v1/mfa/verify', { challenge_id: signIn.challengeId, credential: account.authenticator.authenticate(signIn.options) }, bearer(mfaToken));
    expect(verified.statusCode).toBe(401);
    expect(verified.json().code).toBe('invalid_code');
  });

  it('WA-12: an attacker\'s own passkey claiming the victim\'s user handle signs in as no one', async () => {
    const victim = await signUpWithPasskey(post());
    const attacker = await signUpWithPasskey(post());
    const challenge = await passkeySignInOptions(post());
    const assertion: AuthenticationResponseJSON = attacker.authenticator.authenticate(challenge.options);
    assertion.response.userHandle = b64url(Buffer.from(victim.userId));
    const result = await answerPasskeySignIn(post(), challenge.challengeId, assertion);
    expect(result.status).toBe(401);
    expect(result.body.code).toBe('invalid_passkey');
  });

  it('WA-04/WA-11: the victim\'s credential id signed by the attacker\'s key, or a zero ("psychic") signature, is an invalid passkey', async () => {
    const victim = await signUpWithPasskey(post());
    const attacker = await signUpWithPasskey(post());
    const before = await sessionCount();
    const claimed = await signInWithPasskey(post(), attacker.authenticator, { overrides: { claimedId: victim.credentialId } });
    const psychic = await signInWithPasskey(post(), victim.authenticator, { overrides: { signature: 'zero' } });
    const raw = await signInWithPasskey(post(), victim.authenticator, { overrides: { signature: 'raw' } });
    for (const result of [claimed, psychic, raw]) expect([result.status, result.body.code]).toEqual([401, 'invalid_passkey']);
    expect(await sessionCount()).toBe(before);
  });

  it('WA-09: UP without UV, and an assertion with neither, never sign in', async () => {
    const account = await signUpWithPasskey(post());
    const noUv = await signInWithPasskey(post(), account.authenticator, { overrides: { userVerified: false } });
    expect([noUv.status, noUv.body.code]).toEqual([401, 'user_verification_required']);
    const noUp = await signInWithPasskey(post(), account.authenticator, { overrides: { userPresent: false, userVerified: false } });
    expect([noUp.status, noUp.body.code]).toEqual([401, 'invalid_passkey']);
  });

  it('WA-13: a cloned authenticator locks the passkey for the original and the clone alike', async () => {
    const account = await signUpWithPasskey(post());
    expect((await signInWithPasskey(post(), account.authenticator)).status).toBe(200); // original: 1
    expect((await signInWithPasskey(post(), account.authenticator, { overrides: { signCount: 5 } })).status).toBe(200); // the clone jumps ahead: 5
    const original = await signInWithPasskey(post(), account.authenticator); // original: 2 ≤ 5
    expect([original.status, original.body.code]).toEqual([403, 'passkey_locked']);
    const clone = await signInWithPasskey(post(), account.authenticator, { overrides: { signCount: 6 } });
    expect([clone.status, clone.body.code]).toEqual([403, 'passkey_locked']);
    expect(t.events.filter((event) => event.type === 'webauthn.counter_regression' && event.userId === account.userId)).toHaveLength(1);
  });

  it('WA-13: only a genuinely signed assertion raises the clone alarm — a forged low counter locks nothing', async () => {
    const account = await signUpWithPasskey(post());
    expect((await signInWithPasskey(post(), account.authenticator, { overrides: { signCount: 7 } })).status).toBe(200);
    const forged = await signInWithPasskey(post(), account.authenticator, { overrides: { signCount: 1, signature: 'corrupt' } });
    expect([forged.status, forged.body.code]).toEqual([401, 'invalid_passkey']);
    expect(t.events.filter((event) => event.type === 'webauthn.counter_regression' && event.userId === account.userId)).toHaveLength(0);
    account.authenticator.setSignCount(account.credentialId, 7);
    expect((await signInWithPasskey(post(), account.authenticator)).status).toBe(200);
  });

  it('WA-12: a removed passkey and a disabled account sign in as no one', async () => {
    const removed = await signUpWithPasskey(post());
    // A second factor, so the passkey is not the last one and may be removed.
    const totpFactor = (await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(removed.accessToken))).json();
    expect((await postJson(t.app, `/v1/factors/${totpFactor.factor_id}/verify`, { code: generateTotpCode(totpFactor.secret, totpStepAt(t.clock.now())) }, bearer(removed.accessToken))).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/factors/${removed.passkeyFactorId}`, headers: bearer(removed.accessToken) })).statusCode).toBe(204);
    const afterRemoval = await signInWithPasskey(post(), removed.authenticator);
    expect([afterRemoval.status, afterRemoval.body.code]).toEqual([401, 'invalid_passkey']);

    const disabled = await signUpWithPasskey(post());
    await t.ctx.db.updateTable('users').set({ disabled_at: t.clock.now() }).where('id', '=', disabled.userId).execute();
    const whileDisabled = await signInWithPasskey(post(), disabled.authenticator);
    expect([whileDisabled.status, whileDisabled.body.code]).toEqual([401, 'invalid_passkey']);
  });

  it('WA-15: hostile values in every field answer 4xx problem documents, never 500, and write no session', async () => {
    const account = await signUpWithPasskey(post());
    const before = await sessionCount();
    const hostile: unknown[] = [null, 0, '', 'x'.repeat(5000), [], {}, { a: 1 }, ['a'], 1e308, true];
    for (const value of hostile) {
      const challenge = await passkeySignInOptions(post());
      const genuine: any = account.authenticator.authenticate(challenge.options);
      for (const field of ['clientDataJSON', 'authenticatorData', 'signature', 'userHandle']) {
        const bent = { ...genuine, response: { ...genuine.response, [field]: value } };
        const fresh = await passkeySignInOptions(post());
        const result = await answerPasskeySignIn(post(), fresh.challengeId, bent);
        expect(result.status, `${field}=${JSON.stringify(value)?.slice(0, 40)}: ${JSON.stringify(result.body)}`).toBeGreaterThanOrEqual(400);
        expect(result.status).toBeLessThan(500);
        expect(String(result.headers['content-type'])).toMatch(/^application\/problem\+json/);
      }
      const bodies = [{ challenge_id: value, credential: genuine }, { challenge_id: challenge.challengeId, credential: value }, { challenge_id: challenge.challengeId, credential: { ...genuine, id: value } }];
      // A string is a valid acr_values (unknown values are ignored); anything else is not.
      if (typeof value !== 'string') bodies.push({ challenge_id: challenge.challengeId, credential: genuine, acr_values: value } as never);
      for (const body of bodies) {
        const result = await post()('/v1/passkeys/authenticate', body);
        expect(result.status, JSON.stringify(result.body)).toBeGreaterThanOrEqual(400);
        expect(result.status).toBeLessThan(500);
      }
    }
    expect(await sessionCount()).toBe(before);
  });
});
