// twofold/verify and the issuer's keys: a kid the verifier does not
// know yet is settled by a fetch, never refused while one is pending or cooling down; made-up kids
// cost the issuer at most one fetch per cooldown and cannot starve a real new key; an issuer that
// cannot be reached is 503, never 401 — a 401 tells the client to drop a token that may be fine.
// Real Twofold over HTTP, real rotations; the JWKS requests are counted at the fetch the verifier
// uses. No time is measured: cooldowns are short and the assertions count fetches and outcomes.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../src/flows/keys/rotate-signing-key.js';
import { createVerifier, VerificationError, type Verifier, type VerifierOptions } from '../../src/verify/index.js';
import { postJson, signIn, signUp, type SignedUp } from '../helpers/flow.js';
import { startIssuerProxy, type IssuerProxy } from '../helpers/issuer-proxy.js';
import { realKeyOf, signWithRealKey } from '../helpers/jwt-forgery.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';

let t: ListeningTwofold;
let user: SignedUp;
let token: string;
let refreshToken: string;
const verifiers: Verifier[] = [];

function verifierFor(options: Partial<VerifierOptions> = {}): { verifier: Verifier; jwksFetches: () => number } {
  let jwksFetches = 0;
  const verifier = createVerifier({
    issuer: t.baseUrl,
    audience: t.config.audience,
    now: t.clock.now,
    revocations: false,
    onBackgroundError: () => {},
    fetch: (input, init) => {
      if (new URL(String(input)).pathname === '/.well-known/jwks.json') jwksFetches += 1;
      return fetch(input, init);
    },
    ...options,
  });
  verifiers.push(verifier);
  return { verifier, jwksFetches: () => jwksFetches };
}

/** The outcome of a verification: 'ok' or the error code. */
function outcomeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: unknown) => (error instanceof VerificationError ? error.code : `thrown: ${String(error)}`),
  );
}

/** A token signed with the real key under a kid the issuer never published. */
async function madeUpKidToken(kid: string): Promise<string> {
  return signWithRealKey(await realKeyOf(t), { kid, typ: 'at+jwt' }, { ...decodeJwt(token), jti: kid });
}

beforeAll(async () => {
  t = await startListeningTwofold();
  user = await signUp(t);
});
beforeEach(async () => {
  ({ accessToken: token, refreshToken } = await signIn(t, user));
});

/**
 * A new access token of the same session, signed with whatever key is current — without moving
 * the test clock (a sign-in would move it by a TOTP step).
 */
async function refreshedAccessToken(): Promise<string> {
  const response = await postJson(t.app, '/v1/token/refresh', { refresh_token: refreshToken });
  expect(response.statusCode, response.body).toBe(200);
  refreshToken = response.json().refresh_token;
  return response.json().access_token;
}
afterEach(() => {
  for (const verifier of verifiers.splice(0)) verifier.close();
});
afterAll(async () => t.close());

describe('twofold/verify: keys not known yet', () => {
  it('JW-05: a cold verifier answers 10 concurrent requests with one valid token — all accepted, one JWKS fetch', async () => {
    const { verifier, jwksFetches } = verifierFor({ jwksRefreshCooldownMs: 60_000 });
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => outcomeOf(verifier.verify(token))));
    expect(outcomes).toEqual(Array(10).fill('ok'));
    expect(jwksFetches()).toBe(1);
  });

  it('JW-05: a made-up kid just before a rotation does not make the new key wait for long, nor refuse it', async () => {
    const { verifier, jwksFetches } = verifierFor({ jwksRefreshCooldownMs: 200 });
    await verifier.verify(token);
    expect(await outcomeOf(verifier.verify(await madeUpKidToken('made-up-before-rotation')))).toBe('invalid_token');
    const fetchesAfterMadeUp = jwksFetches();
    const { current } = await rotateSigningKey(t.ctx);
    const fresh = await refreshedAccessToken();
    expect(decodeProtectedHeader(fresh).kid).toBe(current.kid);
    // In the cooldown the made-up kid armed: the new key's token waits for the next fetch.
    expect(await outcomeOf(verifier.verify(fresh))).toBe('ok');
    expect(jwksFetches()).toBe(fetchesAfterMadeUp + 1);
  });

  it('JW-05: a flood of made-up kids costs one JWKS fetch per wave, is refused 401 after a fetch made after it arrived, and never starves a real new key', async () => {
    const { verifier, jwksFetches } = verifierFor({ jwksRefreshCooldownMs: 100 });
    await verifier.verify(token);
    const fetchesBefore = jwksFetches();
    const waves = 6;
    const madeUp: string[] = [];
    const real: string[] = [];
    for (let wave = 0; wave < waves; wave += 1) {
      const forged = await Promise.all(Array.from({ length: 20 }, (_, index) => madeUpKidToken(`flood-${wave}-${index}`)));
      const pending = forged.map((forgery) => outcomeOf(verifier.verify(forgery)));
      if (wave === 3) {
        // A rotation in the middle of the flood: its first token arrives among the made-up kids.
        await rotateSigningKey(t.ctx);
        real.push(await outcomeOf(verifier.verify(await refreshedAccessToken())));
      }
      madeUp.push(...(await Promise.all(pending)));
    }
    expect(real).toEqual(['ok']);
    expect(new Set(madeUp)).toEqual(new Set(['invalid_token']));
    // 120 made-up kids: the first wave may take two fetches (one in flight when most arrived), every
    // later one arrives inside the previous wave's cooldown and shares its one fetch.
    expect(jwksFetches() - fetchesBefore).toBeLessThanOrEqual(waves + 1);
  });
});

describe('twofold/verify: an issuer that cannot be reached', () => {
  let proxy: IssuerProxy;
  beforeAll(async () => {
    proxy = await startIssuerProxy(t.baseUrl);
  });
  afterAll(async () => proxy.close());

  /** Retries until the verification succeeds; every failure on the way must be 503. */
  async function untilAccepted(verifier: Verifier, accessToken: string): Promise<string[]> {
    const failures: string[] = [];
    for (let attempt = 0; attempt < 500; attempt += 1) {
      const outcome = await outcomeOf(verifier.verify(accessToken));
      if (outcome === 'ok') return failures;
      failures.push(outcome);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`never accepted: ${failures.slice(-3).join(', ')}`);
  }

  it('JW-05: unknown kids are answered 503 while the JWKS cannot be fetched — cold, again within the cooldown, and after a rotation — never 401', async () => {
    proxy.setDown(false);
    const { verifier } = verifierFor({ jwksUri: `${proxy.url}/.well-known/jwks.json`, jwksRefreshCooldownMs: 200 });
    proxy.setDown(true);
    expect(await outcomeOf(verifier.verify(token))).toBe('verifier_unavailable');
    // Within the cooldown after the failed fetch: still 503, without asking again.
    const asked = proxy.requests.length;
    expect(await outcomeOf(verifier.verify(token))).toBe('verifier_unavailable');
    expect(proxy.requests.length).toBe(asked);
    proxy.setDown(false);
    expect(new Set(await untilAccepted(verifier, token))).toEqual(new Set(['verifier_unavailable']));

    await rotateSigningKey(t.ctx);
    const fresh = await refreshedAccessToken();
    proxy.setDown(true);
    expect(await outcomeOf(verifier.verify(fresh))).toBe('verifier_unavailable');
    expect(await outcomeOf(verifier.verify(await madeUpKidToken('made-up-while-down')))).toBe('verifier_unavailable');
    // Keys already known keep verifying while the issuer is away.
    expect(await outcomeOf(verifier.verify(token))).toBe('ok');
    proxy.setDown(false);
    expect(new Set(await untilAccepted(verifier, fresh))).toEqual(new Set(['verifier_unavailable']));
    expect(verifier.stats().keys.lastError).toBeNull();
  });
});
