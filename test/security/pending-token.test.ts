// FL-01/FL-08: the mfa_token is refused by every route of the API except the second-factor
// routes — enumerated from the OpenAPI document, so a new route cannot forget the rule — and
// no route but a completed second factor ever mints an access or refresh token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginForMfaToken, postJson, signUp, totpCode } from '../helpers/flow.js';
import { publicApiRoutes } from '../helpers/routes.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

/** Routes that exist to accept the mfa_token: the second factor and the first factor's enrollment. */
const mfaRoutes = new Set(['POST /v1/mfa/verify', 'POST /v1/mfa/challenge', 'POST /v1/factors', 'POST /v1/factors/{id}/verify']);
/** Routes that need no token at all. */
const publicRoutes = publicApiRoutes;

describe('the pending (mfa) token', () => {
  it('FL-01: every authenticated route outside the MFA routes refuses it with 401', async () => {
    const user = await signUp(t);
    const openapi = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const routes = Object.entries(openapi.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBeGreaterThanOrEqual(13);
    const checked: string[] = [];
    for (const route of routes) {
      if (mfaRoutes.has(route) || publicRoutes.has(route)) continue;
      const [method, path] = route.split(' ') as [string, string];
      const mfaToken = await loginForMfaToken(t, user);
      const response = await t.app.inject({
        method: method as 'GET',
        url: path.replace('{id}', user.factorId),
        headers: { ...bearer(mfaToken), 'content-type': 'application/json' },
        payload: method === 'GET' ? undefined : {},
      });
      expect([401, 403], `${route} answered ${response.statusCode}`).toContain(response.statusCode);
      expect(response.body).not.toMatch(/access_token|refresh_token/);
      checked.push(route);
    }
    expect(checked).toEqual(expect.arrayContaining(['GET /v1/me', 'POST /v1/logout', 'GET /v1/factors']));
  });

  it('FL-01: once a factor is active, it cannot enroll another (403) — only verify', async () => {
    const user = await signUp(t);
    const mfaToken = await loginForMfaToken(t, user);
    expect((await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(mfaToken))).statusCode).toBe(403);
    t.clock.advanceSeconds(30);
    expect((await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(mfaToken))).statusCode).toBe(200);
  });

  it('FL-06: client-asserted success is ignored — extra fields with a wrong code still fail', async () => {
    const user = await signUp(t);
    const mfaToken = await loginForMfaToken(t, user);
    const response = await postJson(t.app, '/v1/mfa/verify', { code: '000000' === totpCode(t, user.secret, 1) ? '111111' : '000000', mfa_verified: true, amr: ['otp'], acr: 'aal2' }, bearer(mfaToken));
    expect(response.statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(mfaToken) })).statusCode).toBe(401);
  });
});
