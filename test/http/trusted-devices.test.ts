// "Remember this browser" — opt-in per sign-in, a server-side record bound to the
// user and a device token, listed and revocable, revoked on password or factor changes, and
// honest in the token: amr ["pwd","dev"], acr aal1, no factor changes without a real step-up.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, signUp, totpCode } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const verify = (mfaToken: string, body: Record<string, unknown>) => postJson(t.app, '/v1/mfa/verify', body, bearer(mfaToken));

/** Signs in with the app, asking to remember the browser: returns the device token. */
async function rememberedUser() {
  const user = await signUp(t);
  t.clock.advanceSeconds(30);
  const response = await verify(await loginForMfaToken(t, user), { code: totpCode(t, user.secret), remember_device: true });
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  expect(body.device_token).toMatch(/^tfd_[A-Za-z0-9_-]{43}$/);
  expect(body.device_expires_in).toBe(30 * 86400);
  return { ...user, deviceToken: body.device_token as string, accessToken: body.access_token as string };
}

describe('remembered browsers', () => {
  it('a remembered browser stands in for the second factor — honestly: amr [pwd, dev], acr aal1', async () => {
    const user = await rememberedUser();
    const response = await verify(await loginForMfaToken(t, user), { device_token: user.deviceToken });
    expect(response.statusCode, response.body).toBe(200);
    expect(decodeJwt(response.json().access_token)).toMatchObject({ acr: 'aal1', amr: ['pwd', 'dev'] });
    expect(t.events.some((event) => event.type === 'trusted_device.used' && event.userId === user.userId)).toBe(true);
  });

  it('is opt-in: without remember_device no token is issued; a remembered browser cannot remember itself again', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(30);
    const plain = (await verify(await loginForMfaToken(t, user), { code: totpCode(t, user.secret) })).json();
    expect(plain.device_token).toBeUndefined();
    const remembered = await rememberedUser();
    const again = (await verify(await loginForMfaToken(t, remembered), { device_token: remembered.deviceToken, remember_device: true })).json();
    expect(again.device_token).toBeUndefined();
  });

  it('SS-09: its session cannot change factors until a real second factor is proven (step-up)', async () => {
    const user = await rememberedUser();
    const session = (await verify(await loginForMfaToken(t, user), { device_token: user.deviceToken })).json();
    expectProblem(await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(session.access_token)), 401, 'insufficient_authentication');
    // A device token is not a step-up either.
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { device_token: user.deviceToken }, bearer(session.access_token)), 403, 'forbidden');
    t.clock.advanceSeconds(30);
    const stepped = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(session.access_token));
    expect(decodeJwt(stepped.json().access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    expect((await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(stepped.json().access_token))).statusCode).toBe(201);
  });

  it('is bound to its user: another user’s device token is refused', async () => {
    const owner = await rememberedUser();
    const other = await signUp(t);
    expectProblem(await verify(await loginForMfaToken(t, other), { device_token: owner.deviceToken }), 401, 'invalid_code');
  });

  it('is listed and revocable; a revoked or expired one is refused', async () => {
    const user = await rememberedUser();
    const list = (await getJson(t.app, '/v1/trusted-devices', bearer(user.accessToken))).json().devices;
    expect(list).toHaveLength(1);
    expect(list[0].id).toMatch(/^dev_/);
    expect(JSON.stringify(list)).not.toContain(user.deviceToken);
    const removed = await t.app.inject({ method: 'DELETE', url: `/v1/trusted-devices/${list[0].id}`, headers: bearer(user.accessToken) });
    expect(removed.statusCode).toBe(204);
    expectProblem(await verify(await loginForMfaToken(t, user), { device_token: user.deviceToken }), 401, 'invalid_code');

    const later = await rememberedUser();
    t.clock.advanceSeconds(31 * 86400);
    expectProblem(await verify(await loginForMfaToken(t, later), { device_token: later.deviceToken }), 401, 'invalid_code');
  });

  it('all of a user’s remembered browsers are forgotten when the password changes or a factor is added or removed', async () => {
    const changes = {
      'password change': async (user: Awaited<ReturnType<typeof rememberedUser>>) =>
        postJson(t.app, '/v1/password', { current_password: user.password, new_password: 'another fine passphrase' }, bearer(user.accessToken)),
      'factor added': async (user: Awaited<ReturnType<typeof rememberedUser>>) => {
        const enrollment = (await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(user.accessToken))).json();
        return postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: totpCode(t, enrollment.secret) }, bearer(user.accessToken));
      },
    };
    for (const [name, change] of Object.entries(changes)) {
      const user = await rememberedUser();
      expect((await change(user)).statusCode, name).toBeLessThan(300);
      const password = name === 'password change' ? 'another fine passphrase' : user.password;
      const mfaToken = await loginForMfaToken(t, { username: user.username, password });
      expectProblem(await verify(mfaToken, { device_token: user.deviceToken }), 401, 'invalid_code');
    }
  });
});
