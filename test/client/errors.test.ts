// twofold/client's errors: every problem answer becomes a TwofoldClientError with the stable code,
// status, detail, Retry-After and the raw problem; failures without an answer have codes of their
// own. Server answers come from a real server; the shapes a server cannot be made to send here
// (an HTML error page, a hidden header, a hang) come from a stub fetch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwofoldClient, StepUpRequiredError, isTwofoldClientError, type TwofoldClientError } from '../../src/client/index.js';
import { parseBearerChallenge, parseRetryAfterSeconds } from '../../src/client/response-headers.js';
import { createTestClient, startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { strongPassword, uniqueUsername } from '../helpers/flow.js';
import { unreachableUrl } from '../helpers/providers.js';

let t: ListeningTwofold;

beforeAll(async () => {
  t = await startListeningTwofold();
});

afterAll(async () => {
  await t.close();
});

const caught = (promise: Promise<unknown>): Promise<TwofoldClientError> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => {
      expect(isTwofoldClientError(error)).toBe(true);
      return error as TwofoldClientError;
    },
  );

/** A client whose fetch answers every request with this response. */
function clientAnswering(response: () => Response) {
  return createTwofoldClient({ baseUrl: 'https://auth.example.test', fetch: async () => response(), now: () => Date.UTC(2026, 0, 1) });
}

describe('TwofoldClientError from a real server', () => {
  it('PW-05: weak_password keeps status, code, detail and the problem\'s reasons', async () => {
    const { client } = createTestClient(t);
    const error = await caught(client.register({ username: uniqueUsername('weak'), password: 'password1234' }));
    expect(error).toMatchObject({ name: 'TwofoldClientError', code: 'weak_password', status: 400, retryAfterSeconds: undefined });
    expect(error.detail).toBe(error.problem!.detail);
    expect(error.message).toBe(error.detail);
    expect(error.problem).toMatchObject({ type: 'urn:twofold:error:weak_password', status: 400, reasons: expect.any(Array) });
  });

  it('username_taken is 409; invalid_request names the field', async () => {
    const { client } = createTestClient(t);
    const username = uniqueUsername('taken');
    await client.register({ username, password: strongPassword });
    expect(await caught(client.register({ username, password: strongPassword }))).toMatchObject({ code: 'username_taken', status: 409 });
    expect(await caught(client.login({ username: 'x'.repeat(300), password: strongPassword }))).toMatchObject({ code: 'invalid_request', status: 400 });
  });

  it('an unreachable server is network_error without a status', async () => {
    const client = createTwofoldClient({ baseUrl: await unreachableUrl() });
    const error = await caught(client.login({ username: 'someone', password: strongPassword }));
    expect(error).toMatchObject({ code: 'network_error', status: undefined, problem: undefined });
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('an authenticated call without tokens is not_signed_in and sends nothing', async () => {
    const { client, recorder } = createTestClient(t);
    expect(await caught(client.getMe())).toMatchObject({ code: 'not_signed_in', status: undefined });
    expect(await caught(client.refreshTokens())).toMatchObject({ code: 'not_signed_in' });
    expect(recorder.calls).toEqual([]);
  });
});

describe('TwofoldClientError from answers a stub sends', () => {
  it('Retry-After as an HTTP-date becomes seconds from now; the problem\'s retry_after stands in when the header is hidden', async () => {
    const date = new Date(Date.UTC(2026, 0, 1) + 42_000).toUTCString();
    const problem = { type: 'urn:twofold:error:server_busy', title: 'Busy', status: 503, code: 'server_busy', detail: 'Retry shortly.' };
    const withDate = clientAnswering(() => Response.json(problem, { status: 503, headers: { 'retry-after': date } }));
    expect(await caught(withDate.login({ username: 'a', password: 'b' }))).toMatchObject({ code: 'server_busy', status: 503, retryAfterSeconds: 42 });
    const hidden = clientAnswering(() => Response.json({ ...problem, retry_after: 7 }, { status: 503 }));
    expect(await caught(hidden.login({ username: 'a', password: 'b' }))).toMatchObject({ retryAfterSeconds: 7 });
  });

  it('a step-up problem without a readable WWW-Authenticate (CORS) still becomes StepUpRequiredError from its extensions', async () => {
    const problem = { type: 'urn:twofold:error:insufficient_authentication', title: 'Step up', status: 401, code: 'insufficient_authentication', detail: 'Prove a factor.', max_age: 120, acr_values: 'aal2' };
    const client = createTwofoldClient({
      baseUrl: 'https://auth.example.test',
      fetch: async () => Response.json(problem, { status: 401 }),
      tokenStore: { get: () => ({ accessToken: 'a.b.c', refreshToken: 'tfr_x', expiresAtMs: Number.MAX_SAFE_INTEGER }), set() {}, clear() {} },
    });
    const error = await caught(client.removeFactor('fac_1'));
    expect(error).toBeInstanceOf(StepUpRequiredError);
    expect(error).toMatchObject({ maxAgeSeconds: 120, acrValues: ['aal2'] });
  });

  it('an answer that is not the API\'s JSON is invalid_response with its status', async () => {
    const client = clientAnswering(() => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }));
    expect(await caught(client.login({ username: 'a', password: 'b' }))).toMatchObject({ code: 'invalid_response', status: 502 });
    const ok = clientAnswering(() => new Response('<html>hello</html>', { status: 200 }));
    expect(await caught(ok.login({ username: 'a', password: 'b' }))).toMatchObject({ code: 'invalid_response', status: 200 });
  });

  it('no answer within requestTimeoutMs is timeout', async () => {
    const client = createTwofoldClient({
      baseUrl: 'https://auth.example.test',
      requestTimeoutMs: 50,
      fetch: (_input, init) => new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason))),
    });
    expect(await caught(client.login({ username: 'a', password: 'b' }))).toMatchObject({ code: 'timeout', status: undefined });
  });

  it('baseUrl keeps a path prefix; ids are encoded into paths; a bad baseUrl is refused at creation', async () => {
    const urls: string[] = [];
    const client = createTwofoldClient({
      baseUrl: 'https://example.test/auth/',
      fetch: async (input) => {
        urls.push(input);
        return new Response(null, { status: 204 });
      },
      tokenStore: { get: () => ({ accessToken: 'a.b.c', refreshToken: 'tfr_x', expiresAtMs: Number.MAX_SAFE_INTEGER }), set() {}, clear() {} },
    });
    await client.removeFactor('../sessions?x=1');
    expect(urls).toEqual(['https://example.test/auth/v1/factors/..%2Fsessions%3Fx%3D1']);
    expect(() => createTwofoldClient({ baseUrl: 'auth.example.test' })).toThrow(TypeError);
    expect(() => createTwofoldClient({ baseUrl: 'https://auth.example.test/?token=x' })).toThrow(TypeError);
  });
});

describe('response headers', () => {
  it('parseBearerChallenge(): reads the server\'s RFC 9470 challenge', () => {
    const header = 'Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=300, acr_values="aal2"';
    expect(parseBearerChallenge(header)).toEqual({
      error: 'insufficient_user_authentication',
      error_description: 'A more recent authentication is required',
      max_age: '300',
      acr_values: 'aal2',
    });
  });

  it('parseBearerChallenge(): unescapes quoted strings, skips other schemes, stops at the next challenge', () => {
    expect(parseBearerChallenge('Basic realm="x", Bearer error="invalid_token", error_description="say \\"hi\\""')).toEqual({ error: 'invalid_token', error_description: 'say "hi"' });
    expect(parseBearerChallenge('Bearer realm="api", Basic realm="other"')).toEqual({ realm: 'api' });
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseBearerChallenge(null)).toBeUndefined();
  });

  it('parseRetryAfterSeconds(): delay-seconds, an HTTP-date, or nothing', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfterSeconds('30', now)).toBe(30);
    expect(parseRetryAfterSeconds(new Date(now + 90_500).toUTCString(), now)).toBe(90);
    expect(parseRetryAfterSeconds(new Date(now - 5_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfterSeconds('soon', now)).toBeUndefined();
    expect(parseRetryAfterSeconds(null, now)).toBeUndefined();
  });
});
