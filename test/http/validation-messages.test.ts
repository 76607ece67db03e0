// A request that breaks a route's schema is answered in words a newcomer can act on — which field,
// and what it must be — over the real routes (temporary SQLite, app.inject), never in Ajv's
// keyword language ("must be equal to constant; must match a schema in anyOf") and never quoting
// the value that was sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, postJson, registerUser, signUp, type Registered, type SignedUp } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
let registered: Registered;
let user: SignedUp;

beforeAll(async () => {
  t = await startTestTwofold();
  registered = await registerUser(t);
  user = await signUp(t);
});
afterAll(async () => t?.close());

const patch = (url: string, body: unknown, token: string) =>
  t.app.inject({ method: 'PATCH', url, payload: body as object, headers: { ...bearer(token), 'content-type': 'application/json' } });

/** The problem document of a schema violation: its detail and its per-field errors. */
function violation(response: Awaited<ReturnType<typeof postJson>>): { detail: string; errors: Array<{ pointer: string; detail: string }> } {
  const body = expectProblem(response, 400, 'invalid_request');
  const detail = String(body['detail']);
  expect(detail).not.toMatch(/equal to constant|schema in anyOf|must NOT|must match pattern|must have required property|#\//);
  return { detail, errors: body['errors'] as Array<{ pointer: string; detail: string }> };
}

describe('schema violations in words', () => {
  it('a choice among literals names the choices: type must be one of totp, sms, email, webauthn', async () => {
    const { detail, errors } = violation(await postJson(t.app, '/v1/factors', { type: 'bogus' }, bearer(registered.mfaToken)));
    expect(detail).toBe('The request body is invalid: type must be one of totp, sms, email, webauthn.');
    expect(errors).toEqual([{ pointer: '#/type', detail: 'type must be one of totp, sms, email, webauthn' }]);
  });

  it('a missing field is "required", at the pointer where it belongs', async () => {
    const { detail, errors } = violation(await postJson(t.app, '/v1/register', { username: 'someone-new' }));
    expect(detail).toBe('The request body is invalid: password is required.');
    expect(errors).toEqual([{ pointer: '#/password', detail: 'password is required' }]);
  });

  it('a wrong type says which type, without repeating the value', async () => {
    const { detail } = violation(await postJson(t.app, '/v1/login', { username: 'someone', password: 123456789012 }));
    expect(detail).toBe('The request body is invalid: password must be a string.');
    expect(detail).not.toContain('123456789012');
  });

  it('a body that is not an object says so', async () => {
    const { detail } = violation(await postJson(t.app, '/v1/login', ['username', 'password']));
    expect(detail).toBe('The request body is invalid: the body must be an object.');
  });

  it('lengths are counted in characters', async () => {
    const { detail } = violation(await postJson(t.app, '/v1/factors', { type: 'totp', label: 'x'.repeat(65) }, bearer(registered.mfaToken)));
    expect(detail).toBe('The request body is invalid: label must be at most 64 characters long.');
  });

  it('a nullable field tells the rule of the type that was sent, and both types when neither was', async () => {
    const tooLong = violation(await patch(`/v1/factors/${user.factorId}`, { label: 'x'.repeat(65) }, user.accessToken));
    expect(tooLong.detail).toBe('The request body is invalid: label must be at most 64 characters long.');
    const wrongType = violation(await patch(`/v1/factors/${user.factorId}`, { label: 42 }, user.accessToken));
    expect(wrongType.detail).toBe('The request body is invalid: label must be a string or null.');
    const controlCharacter = violation(await patch(`/v1/factors/${user.factorId}`, { label: 'bell\u0007' }, user.accessToken));
    expect(controlCharacter.detail).toBe('The request body is invalid: label must be text without control characters, line breaks or bidi overrides.');
  });

  it('a query-string limit says its range', async () => {
    const { detail, errors } = violation(await getJson(t.app, '/v1/sessions?limit=500', bearer(user.accessToken)));
    expect(detail).toBe('The request query string is invalid: limit must be a whole number from 1 to 100.');
    expect(errors).toEqual([{ pointer: '#/limit', detail: 'limit must be a whole number from 1 to 100' }]);
  });

  it('a malformed path parameter names the parameter and the form of an id', async () => {
    const { detail } = violation(await postJson(t.app, '/v1/factors/not*an*id/verify', { code: '123456' }, bearer(registered.mfaToken)));
    expect(detail).toBe('The request path is invalid: id must be an id: letters, digits, _ and -.');
  });
});
