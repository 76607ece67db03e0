// twofold/verify's revoked-session feed when the issuer is not what it was: an issuer from before
// the paging cursor (RC-04: still works, one page per poll, no busy loop), and an issuer that stops
// answering (the feed used to fail open forever and silently — now it
// fails closed after maxStalenessMs unless failOpen is chosen, reports every failure, and stats()
// says when it last answered). A real HTTP hop in front of a real Twofold plays the issuer.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, VerificationError, type Verifier, type VerifierOptions } from '../../src/verify/index.js';
import { bearer, postJson, signIn, signUp, type SignedUp } from '../helpers/flow.js';
import { startIssuerProxy, type IssuerProxy } from '../helpers/issuer-proxy.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';

let t: ListeningTwofold;
let user: SignedUp;
const verifiers: Verifier[] = [];

function verifierFor(options: Partial<VerifierOptions>): Verifier {
  const verifier = createVerifier({ issuer: t.baseUrl, audience: t.config.audience, now: t.clock.now, ...options });
  verifiers.push(verifier);
  return verifier;
}

function outcomeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: unknown) => (error instanceof VerificationError ? error.code : `thrown: ${String(error)}`),
  );
}

/** Waits for a condition of the running verifier; polls of its own are what moves it. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 1_000; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${what}: not reached`);
}

beforeAll(async () => {
  t = await startListeningTwofold();
  user = await signUp(t);
});
afterEach(() => {
  for (const verifier of verifiers.splice(0)) verifier.close();
});
afterAll(async () => t.close());

describe('twofold/verify: an issuer from before the feed cursor', () => {
  let legacy: IssuerProxy;
  beforeAll(async () => {
    // What a server without the cursor does: it ignores `after` and sends no `next_after`.
    legacy = await startIssuerProxy(t.baseUrl, {
      rewriteRequest: (url) => url.searchParams.delete('after'),
      rewriteJson: (path, body) => {
        if (path !== '/v1/revoked-sessions') return body;
        const { next_after: _ignored, ...older } = body;
        return older;
      },
    });
  });
  afterAll(async () => legacy.close());

  it('RC-04: the verifier keeps working — one page per poll, never a busy loop — and still learns of a logout', async () => {
    const session = await signIn(t, user);
    const verifier = verifierFor({ revocations: { url: `${legacy.url}/v1/revoked-sessions`, intervalMs: 50 } });
    await verifier.verify(session.accessToken);
    expect((await postJson(t.app, '/v1/logout', {}, bearer(session.accessToken))).statusCode).toBe(204);
    await until(async () => (await outcomeOf(verifier.verify(session.accessToken))) === 'invalid_token', 'the logout reaches the verifier');
    const stats = verifier.stats().revocations;
    expect(stats.issuerPagesWithCursor).toBe(false);
    expect(stats.pages).toBeLessThanOrEqual(stats.polls);
    expect(stats.pages).toBeGreaterThanOrEqual(stats.polls - 1);
    expect(legacy.requests.some((path) => path.includes('after='))).toBe(false);
  });
});

describe('twofold/verify: a feed that stops answering', () => {
  let feed: IssuerProxy;
  beforeAll(async () => {
    feed = await startIssuerProxy(t.baseUrl);
  });
  afterEach(() => feed.setDown(false));
  afterAll(async () => feed.close());

  it('SS-05: after maxStalenessMs without an answer it fails closed (503), reports it, and serves again once the feed answers', async () => {
    const { accessToken } = await signIn(t, user);
    const reported: VerificationError[] = [];
    const verifier = verifierFor({ revocations: { url: `${feed.url}/v1/revoked-sessions`, intervalMs: 50, maxStalenessMs: 300 }, onBackgroundError: (error) => reported.push(error) });
    expect(await outcomeOf(verifier.verify(accessToken))).toBe('ok');
    expect(verifier.stats().revocations).toMatchObject({ enabled: true, lastSuccessAt: t.clock.now(), lastError: null, consecutiveFailures: 0, failingClosed: false });

    feed.setDown(true);
    // Until maxStalenessMs has passed the last list still answers; then every request is 503.
    await until(async () => (await outcomeOf(verifier.verify(accessToken))) === 'verifier_unavailable', 'the verifier fails closed');
    const stale = verifier.stats().revocations;
    expect(stale.failingClosed).toBe(true);
    expect(stale.consecutiveFailures).toBeGreaterThanOrEqual(1);
    expect(stale.lastSuccessAt).toBe(t.clock.now());
    expect(stale.lastError).toContain(feed.url);
    expect(reported.every((error) => error.code === 'verifier_unavailable')).toBe(true);
    expect(reported.some((error) => error.diagnostic.includes(`${feed.url}/v1/revoked-sessions`))).toBe(true);
    expect(reported.some((error) => /has not answered for 300 ms/.test(error.diagnostic))).toBe(true);

    feed.setDown(false);
    await until(async () => (await outcomeOf(verifier.verify(accessToken))) === 'ok', 'the verifier serves again');
    expect(verifier.stats().revocations).toMatchObject({ failingClosed: false, lastError: null, consecutiveFailures: 0 });
  });

  it('SS-05: with failOpen it keeps answering from the last list — a session revoked before still refused — and still reports every failure', async () => {
    const kept = await signIn(t, user);
    const revoked = await signIn(t, user);
    expect((await postJson(t.app, '/v1/logout', {}, bearer(revoked.accessToken))).statusCode).toBe(204);
    const reported: VerificationError[] = [];
    const verifier = verifierFor({ revocations: { url: `${feed.url}/v1/revoked-sessions`, intervalMs: 50, maxStalenessMs: 200, failOpen: true }, onBackgroundError: (error) => reported.push(error) });
    expect(await outcomeOf(verifier.verify(kept.accessToken))).toBe('ok');
    feed.setDown(true);
    // Ten failed polls, 50 ms apart: well past the 200 ms a fail-closed verifier would allow.
    await until(() => verifier.stats().revocations.consecutiveFailures >= 10, 'ten failed polls');
    expect(await outcomeOf(verifier.verify(kept.accessToken))).toBe('ok');
    expect(await outcomeOf(verifier.verify(revoked.accessToken))).toBe('invalid_token');
    expect(verifier.stats().revocations.failingClosed).toBe(false);
    expect(reported.length).toBeGreaterThanOrEqual(10);
  });

  it('SS-05: without a hook, failures become a process warning naming the feed — once, not once per poll', async () => {
    const warnings: Error[] = [];
    const listen = (warning: Error): void => {
      if (warning.name === 'TwofoldVerifyWarning') warnings.push(warning);
    };
    process.on('warning', listen);
    try {
      const verifier = verifierFor({ revocations: { url: `${feed.url}/v1/revoked-sessions`, intervalMs: 50, failOpen: true } });
      await verifier.verify((await signIn(t, user)).accessToken);
      feed.setDown(true);
      await until(() => verifier.stats().revocations.consecutiveFailures >= 5 && warnings.length > 0, 'five failed polls and a warning');
      expect(warnings[0]?.message).toContain(`${feed.url}/v1/revoked-sessions`);
      expect(warnings.length).toBe(1);
    } finally {
      process.off('warning', listen);
    }
  });

  it('refuses a maxStalenessMs that does not exceed the polling interval', () => {
    expect(() => createVerifier({ issuer: t.baseUrl, audience: t.config.audience, revocations: { intervalMs: 5_000, maxStalenessMs: 5_000 } })).toThrow(TypeError);
  });
});
