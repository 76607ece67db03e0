// Security headers (HT-01/HT-02) — HSTS in production only, no-store on anything
// with a token, nosniff, CORS off unless origins are listed.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { getJson, signUp } from '../helpers/flow.js';
import { startListeningTwofold } from '../helpers/listening-twofold.js';
import { startTestTwofold } from '../helpers/twofold.js';

describe('headers', () => {
  it('HT-01: no HSTS outside production; nosniff and no-store on API answers', async () => {
    const t = await startTestTwofold();
    try {
      const response = await getJson(t.app, '/healthz');
      expect(response.headers['strict-transport-security']).toBeUndefined();
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('HT-01: every API answer, refusals included, carries the same security headers; only public documents may be cached', async () => {
    const t = await startTestTwofold();
    try {
      const answers = [
        await getJson(t.app, '/healthz'),
        await t.app.inject({ method: 'GET', url: '/v1/me' }), // refused in the authentication hook
        await t.app.inject({ method: 'GET', url: '/v1/me?access_token=x' }), // refused before routing on
        await t.app.inject({ method: 'GET', url: '/v1/no-such-route' }),
      ];
      expect(answers.map((answer) => answer.statusCode)).toEqual([200, 401, 401, 404]);
      for (const answer of answers) {
        expect(answer.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
        expect(answer.headers['x-frame-options']).toBe('DENY');
        expect(answer.headers['x-content-type-options']).toBe('nosniff');
        expect(answer.headers['referrer-policy']).toBe('no-referrer');
        expect(answer.headers['cross-origin-resource-policy']).toBe('same-site');
        expect(answer.headers['cache-control']).toBe('no-store');
      }
      const jwks = await getJson(t.app, '/.well-known/jwks.json');
      expect(jwks.headers['cache-control']).toBe('public, max-age=60');
      expect(jwks.headers['x-content-type-options']).toBe('nosniff');
    } finally {
      await t.close();
    }
  });

  it('HT-01: HSTS in production mode', async () => {
    const t = await startTestTwofold({
      env: {
        NODE_ENV: 'production',
        TWOFOLD_PUBLIC_URL: 'https://auth.example.com',
        TWOFOLD_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
        TWOFOLD_ARGON2_MEMORY_KIB: '19456',
        TWOFOLD_ARGON2_TIME_COST: '2',
        TWOFOLD_THROTTLE_LOCK_FAILURES: '100',
        // No SMS gateway or SMTP here: everything that would need one is turned off by name.
        TWOFOLD_FACTORS: 'totp,webauthn,recovery',
        TWOFOLD_PASSWORD_RESET: 'off',
        TWOFOLD_NOTIFY: 'off',
      },
    });
    try {
      expect((await getJson(t.app, '/healthz')).headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await t.close();
    }
  });

  it('CORS: off by default; with TWOFOLD_CORS_ORIGINS only the listed origins get an answer a browser accepts', async () => {
    const closed = await startTestTwofold();
    const open = await startTestTwofold({ env: { TWOFOLD_CORS_ORIGINS: 'https://app.example.com' } });
    try {
      const preflight = (app: typeof open.app, origin: string) =>
        app.inject({ method: 'OPTIONS', url: '/v1/me', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      expect((await preflight(closed.app, 'https://app.example.com')).headers['access-control-allow-origin']).toBeUndefined();
      const allowed = await preflight(open.app, 'https://app.example.com');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
      expect((await preflight(open.app, 'https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
      const user = await signUp(open);
      const simple = await open.app.inject({ method: 'GET', url: '/v1/me', headers: { origin: 'https://evil.example', authorization: `Bearer ${user.accessToken}` } });
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await closed.close();
      await open.close();
    }
  });

  it('headers above what Node parses are a 431 problem document (written by the server, before Fastify), naming the code and closing the connection', async () => {
    const t = await startListeningTwofold();
    try {
      const answer = await rawRequest(t.baseUrl, { 'x-filler': 'a'.repeat(20 * 1024) });
      expect(answer.status).toBe(431);
      expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(answer.headers['connection']).toBe('close');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(answer.body)).toEqual({
        type: 'urn:twofold:error:headers_too_large',
        title: 'The request headers are too large',
        status: 431,
        code: 'headers_too_large',
        detail: expect.stringContaining('headers'),
      });
      // The server keeps serving.
      expect((await rawRequest(t.baseUrl, {})).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

/** GET /healthz over a real socket (app.inject never meets Node's HTTP parser). */
function rawRequest(baseUrl: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/healthz`, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
