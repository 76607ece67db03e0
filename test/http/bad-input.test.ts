// No 500 for any malformed body, header or token: a table of bad inputs per route.
// For every route of the API (the README's table) the same families of abuse are sent to a real server
// (temporary SQLite, real keys, app.inject): bodies that are not JSON or not objects, wrong types
// for every field, prototype-pollution keys, huge and hostile strings, other media types, oversized
// bodies, broken Authorization headers, unknown methods, unknown paths and path traversal.
// Every answer must be < 500, and every 4xx an RFC 9457 problem document with a stable code from
// the contract (src/errors.ts). The last block checks the database was not left half-written.
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../src/errors.js';
import { bearer, loginForMfaToken, postJson, registerUser, signUp, strongPassword, totpCode, uniqueUsername, type SignedUp } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
/** A user with an active factor and a live access token, for read-only routes and logins. */
let resident: SignedUp;

beforeAll(async () => {
  t = await startTestTwofold();
  resident = await signUp(t, { username: uniqueUsername('resident') });
});
afterAll(async () => t?.close());

// ---------------------------------------------------------------------------------------------
// The contract every answer is held to

/** The API's stable codes (the README's "Errors") plus the transport-level ones in src/errors.ts. */
const stableCodes = new Set<string>([
  'invalid_request',
  'weak_password',
  'invalid_credentials',
  'invalid_token',
  'invalid_code',
  'insufficient_authentication',
  'forbidden',
  'not_found',
  'username_taken',
  'too_many_attempts',
  'delivery_failed',
  'server_busy',
  'payload_too_large',
  'unsupported_media_type',
  'method_not_allowed',
]);

interface Expectation {
  status?: number | number[];
  code?: string | string[];
}

const asList = <T>(value: T | T[] | undefined): T[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

function expectSafe(response: LightMyRequestResponse, expected: Expectation = {}): void {
  const where = `${response.statusCode} ${response.headers['content-type'] ?? ''} ${response.body.slice(0, 400)}`;
  expect(response.statusCode, where).toBeLessThan(500);
  const statuses = asList(expected.status);
  if (statuses !== undefined) expect(statuses, where).toContain(response.statusCode);
  // Internals never leak, whatever the status.
  expect(response.body, where).not.toMatch(/\n\s+at |node_modules|SqliteError|TypeError|ReferenceError|\/work\/|src\/(flows|core|http|store)\//);
  if (response.statusCode >= 400) {
    expect(response.headers['content-type'], where).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    const code = String(body['code']);
    expect(stableCodes.has(code), where).toBe(true);
    expect(body['type'], where).toBe(`urn:twofold:error:${code}`);
    expect(body['status'], where).toBe(response.statusCode);
    expect(typeof body['title'], where).toBe('string');
    expect(typeof body['detail'], where).toBe('string');
    if (code !== 'insufficient_authentication') expect(errorCatalog[code as keyof typeof errorCatalog].status, where).toBe(response.statusCode);
    if (code === 'invalid_token') expect(response.headers['www-authenticate'], where).toMatch(/^Bearer error="invalid_token"/);
    if (code === 'too_many_attempts' || code === 'server_busy') expect(response.headers['retry-after'], where).toBeDefined();
    const codes = asList(expected.code);
    if (codes !== undefined) expect(codes, where).toContain(code);
  }
}

/** Bad input never mints tokens. */
function expectNoTokens(response: LightMyRequestResponse): void {
  expect(response.body).not.toMatch(/"(access_token|refresh_token|mfa_token)"/);
}

// ---------------------------------------------------------------------------------------------
// Routes: how to get a fresh, otherwise-valid request for each

interface Prepared {
  url: string;
  headers: Record<string, string>;
  /** An otherwise valid body (POST routes). */
  body?: Record<string, unknown>;
  /** A TOTP code that would really work right now with this request's token (code routes). */
  realCode?: string;
}

interface RouteSpec {
  name: string;
  method: 'GET' | 'POST';
  /** The route as registered, for the method table. */
  pattern: string;
  needsToken: boolean;
  prepare(): Promise<Prepared>;
  /** String fields of the body, for the type and string tables. */
  fields: string[];
  /** Body to use when testing one field (default: the prepared body with that field replaced). */
  bodyFor?(field: string, value: unknown, prepared: Prepared): Record<string, unknown>;
  /** The status `{}` gets. */
  emptyObjectStatus?: number;
  /** The status of the prepared request as is (header tables compare against it). */
  baselineStatus: number | number[];
}

function wrongCodeFor(secret: string): string {
  const near = new Set([-2, -1, 0, 1, 2].map((offset) => totpCode(t, secret, offset)));
  for (let n = 0; ; n += 1) {
    const candidate = String((246801 + n * 7919) % 1_000_000).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

const bogusRefreshToken = `tfr_${'A'.repeat(43)}`;

const routes: RouteSpec[] = [
  {
    name: 'POST /v1/register',
    method: 'POST',
    pattern: '/v1/register',
    needsToken: false,
    async prepare() {
      return { url: '/v1/register', headers: {}, body: { username: uniqueUsername('reg'), password: strongPassword } };
    },
    fields: ['username', 'password', 'email', 'phone'],
    emptyObjectStatus: 400,
    baselineStatus: 201,
  },
  {
    name: 'POST /v1/login',
    method: 'POST',
    pattern: '/v1/login',
    needsToken: false,
    async prepare() {
      return { url: '/v1/login', headers: {}, body: { username: resident.username, password: 'not the password at all' } };
    },
    fields: ['username', 'password'],
    emptyObjectStatus: 400,
    baselineStatus: 401,
  },
  {
    name: 'POST /v1/factors',
    method: 'POST',
    pattern: '/v1/factors',
    needsToken: true,
    async prepare() {
      const registered = await registerUser(t);
      return { url: '/v1/factors', headers: bearer(registered.mfaToken), body: { type: 'totp' } };
    },
    fields: ['type', 'label'],
    bodyFor: (field, value, prepared) => ({ ...prepared.body, [field]: value }),
    emptyObjectStatus: 400,
    baselineStatus: 201,
  },
  {
    name: 'POST /v1/factors/{id}/verify',
    method: 'POST',
    pattern: '/v1/factors/:id/verify',
    needsToken: true,
    async prepare() {
      const registered = await registerUser(t);
      return {
        url: `/v1/factors/${registered.factorId}/verify`,
        headers: bearer(registered.mfaToken),
        body: { code: wrongCodeFor(registered.secret) },
        realCode: totpCode(t, registered.secret),
      };
    },
    fields: ['code'],
    emptyObjectStatus: 400,
    baselineStatus: 401,
  },
  {
    name: 'POST /v1/mfa/verify',
    method: 'POST',
    pattern: '/v1/mfa/verify',
    needsToken: true,
    async prepare() {
      const user = await signUp(t);
      const mfaToken = await loginForMfaToken(t, user);
      // signUp claimed the current step; the next one is inside the window and still unused.
      return { url: '/v1/mfa/verify', headers: bearer(mfaToken), body: { code: wrongCodeFor(user.secret) }, realCode: totpCode(t, user.secret, 1) };
    },
    fields: ['code', 'factor_id', 'recovery_code'],
    bodyFor: (field, value, prepared) => (field === 'recovery_code' ? { recovery_code: value } : { ...prepared.body, [field]: value }),
    emptyObjectStatus: 400,
    baselineStatus: 401,
  },
  {
    name: 'POST /v1/token/refresh',
    method: 'POST',
    pattern: '/v1/token/refresh',
    needsToken: false,
    async prepare() {
      return { url: '/v1/token/refresh', headers: {}, body: { refresh_token: bogusRefreshToken } };
    },
    fields: ['refresh_token'],
    emptyObjectStatus: 400,
    baselineStatus: 401,
  },
  {
    name: 'POST /v1/logout',
    method: 'POST',
    pattern: '/v1/logout',
    needsToken: true,
    async prepare() {
      const user = await signUp(t);
      return { url: '/v1/logout', headers: bearer(user.accessToken), body: {} };
    },
    fields: ['refresh_token'],
    emptyObjectStatus: 204,
    baselineStatus: 204,
  },
  {
    name: 'GET /v1/me',
    method: 'GET',
    pattern: '/v1/me',
    needsToken: true,
    async prepare() {
      return { url: '/v1/me', headers: bearer(resident.accessToken) };
    },
    fields: [],
    baselineStatus: 200,
  },
  {
    name: 'GET /v1/factors',
    method: 'GET',
    pattern: '/v1/factors',
    needsToken: true,
    async prepare() {
      return { url: '/v1/factors', headers: bearer(resident.accessToken) };
    },
    fields: [],
    baselineStatus: 200,
  },
  ...(['/.well-known/jwks.json', '/.well-known/openid-configuration', '/healthz', '/readyz'] as const).map(
    (path): RouteSpec => ({
      name: `GET ${path}`,
      method: 'GET',
      pattern: path,
      needsToken: false,
      async prepare() {
        return { url: path, headers: {} };
      },
      fields: [],
      baselineStatus: 200,
    }),
  ),
];

const postRoutes = routes.filter((route) => route.method === 'POST');
const getRoutes = routes.filter((route) => route.method === 'GET');
const tokenRoutes = routes.filter((route) => route.needsToken);

function inject(options: InjectOptions): Promise<LightMyRequestResponse> {
  return t.app.inject(options);
}

function postRaw(prepared: Prepared, payload: string | Buffer, headers: Record<string, string | undefined>): Promise<LightMyRequestResponse> {
  const merged: Record<string, string> = { ...prepared.headers };
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return inject({ method: 'POST', url: prepared.url, payload, headers: merged });
}

// ---------------------------------------------------------------------------------------------
// 1. Bodies that are not what the route expects (POST routes)

interface RawBodyCase {
  name: string;
  payload: (route: RouteSpec, prepared: Prepared) => string | Buffer;
  headers?: Record<string, string | undefined>;
  expect: (route: RouteSpec) => Expectation;
}

const json = { 'content-type': 'application/json' };
const invalidRequest: Expectation = { status: 400, code: 'invalid_request' };
const anySafe: Expectation = {};
const deepArray = `${'['.repeat(5000)}${']'.repeat(5000)}`;
const deepObjectWithProto = `${'{"a":'.repeat(1500)}{"__proto__":{"polluted":true}}${'}'.repeat(1500)}`;
const deepObject = `${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}`;
const withBody = (prepared: Prepared, extra: Record<string, unknown>) => JSON.stringify({ ...prepared.body, ...extra });

const rawBodyCases: RawBodyCase[] = [
  { name: 'not JSON (truncated)', payload: () => '{"username":', headers: json, expect: () => invalidRequest },
  { name: 'not JSON (single quotes)', payload: () => "{'code':'123456'}", headers: json, expect: () => invalidRequest },
  { name: 'not JSON (trailing garbage)', payload: (_r, p) => `${JSON.stringify(p.body)}xyz`, headers: json, expect: () => invalidRequest },
  { name: 'not JSON (two documents)', payload: (_r, p) => `${JSON.stringify(p.body)}${JSON.stringify(p.body)}`, headers: json, expect: () => invalidRequest },
  { name: 'not JSON (NaN)', payload: () => '{"code": NaN}', headers: json, expect: () => invalidRequest },
  { name: 'empty body with content-type json', payload: () => '', headers: json, expect: () => invalidRequest },
  { name: 'whitespace body with content-type json', payload: () => '   \n ', headers: json, expect: () => invalidRequest },
  // POST /v1/logout treats a missing or null body as {} (its body is optional).
  { name: 'JSON null', payload: () => 'null', headers: json, expect: (route) => (route.emptyObjectStatus === 204 ? { status: [204, 400] } : invalidRequest) },
  { name: 'JSON array', payload: () => '[]', headers: json, expect: () => invalidRequest },
  { name: 'JSON array of the valid body', payload: (_r, p) => JSON.stringify([p.body]), headers: json, expect: () => invalidRequest },
  { name: 'JSON string', payload: () => '"username"', headers: json, expect: () => invalidRequest },
  { name: 'JSON number', payload: () => '123456', headers: json, expect: () => invalidRequest },
  { name: 'JSON true', payload: () => 'true', headers: json, expect: () => invalidRequest },
  { name: 'JSON {}', payload: () => '{}', headers: json, expect: (route) => ({ status: route.emptyObjectStatus ?? 400 }) },
  { name: '{"__proto__": {...}}', payload: () => '{"__proto__":{"polluted":true,"isAdmin":true}}', headers: json, expect: () => invalidRequest },
  { name: 'valid body plus "__proto__"', payload: (_r, p) => `${JSON.stringify(p.body).slice(0, -1)}${Object.keys(p.body ?? {}).length > 0 ? ',' : ''}"__proto__":{"polluted":true}}`, headers: json, expect: () => invalidRequest },
  { name: '{"constructor": {"prototype": {...}}}', payload: () => '{"constructor":{"prototype":{"polluted":true}}}', headers: json, expect: () => invalidRequest },
  { name: 'valid body plus "constructor.prototype"', payload: (_r, p) => `${JSON.stringify(p.body).slice(0, -1)}${Object.keys(p.body ?? {}).length > 0 ? ',' : ''}"constructor":{"prototype":{"polluted":true}}}`, headers: json, expect: () => invalidRequest },
  { name: 'valid body plus "prototype" and "toString" keys', payload: (_r, p) => withBody(p, { prototype: { polluted: true }, toString: 'x', hasOwnProperty: 1, valueOf: null }), headers: json, expect: (route) => ({ status: route.baselineStatus }) },
  { name: 'deeply nested arrays', payload: () => deepArray, headers: json, expect: () => invalidRequest },
  // Unknown members are removed by the schema, so this is {} to the route.
  { name: 'deeply nested objects', payload: () => deepObject, headers: json, expect: (route) => ({ status: route.emptyObjectStatus ?? 400 }) },
  { name: 'deeply nested "__proto__"', payload: () => deepObjectWithProto, headers: json, expect: () => invalidRequest },
  { name: 'UTF-8 BOM before the body', payload: (_r, p) => `\ufeff${JSON.stringify(p.body)}`, headers: json, expect: () => anySafe },
  { name: 'invalid UTF-8 bytes in a string', payload: () => Buffer.from([0x7b, 0x22, 0x63, 0x6f, 0x64, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), headers: json, expect: () => ({ status: [204, 400, 401] }) },
  { name: 'NUL bytes around the JSON', payload: (_r, p) => `\u0000${JSON.stringify(p.body)}\u0000`, headers: json, expect: () => invalidRequest },
  { name: 'duplicate keys, the last one of a wrong type', payload: (route, p) => `${JSON.stringify(p.body).slice(0, -1)},"${route.fields[0] ?? 'x'}":123456}`, headers: json, expect: (route) => (route.fields.length > 0 ? invalidRequest : anySafe) },
  { name: 'form-urlencoded body (HT-02)', payload: () => 'username=alice&password=correct+horse+battery+staple&code=123456', headers: { 'content-type': 'application/x-www-form-urlencoded' }, expect: () => ({ status: 415, code: 'unsupported_media_type' }) },
  { name: 'text/plain body with JSON inside (HT-02)', payload: (_r, p) => JSON.stringify(p.body), headers: { 'content-type': 'text/plain' }, expect: () => ({ status: 415, code: 'unsupported_media_type' }) },
  { name: 'text/plain;charset=utf-8 body (HT-02)', payload: (_r, p) => JSON.stringify(p.body), headers: { 'content-type': 'text/plain;charset=utf-8' }, expect: () => ({ status: 415, code: 'unsupported_media_type' }) },
  {
    name: 'multipart body',
    payload: () => '--XyZ\r\nContent-Disposition: form-data; name="code"\r\n\r\n123456\r\n--XyZ--\r\n',
    headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
    expect: () => ({ status: 415, code: 'unsupported_media_type' }),
  },
  { name: 'XML body', payload: () => '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', headers: { 'content-type': 'application/xml' }, expect: () => ({ status: 415, code: 'unsupported_media_type' }) },
  { name: 'application/json-patch+json body', payload: (_r, p) => JSON.stringify(p.body), headers: { 'content-type': 'application/json-patch+json' }, expect: () => ({ status: 415, code: 'unsupported_media_type' }) },
  { name: 'application/octet-stream body', payload: () => Buffer.from([0, 1, 2, 3, 255]), headers: { 'content-type': 'application/octet-stream' }, expect: () => ({ status: 415, code: 'unsupported_media_type' }) },
  { name: 'a content-type that is not a media type', payload: (_r, p) => JSON.stringify(p.body), headers: { 'content-type': ';;;//' }, expect: () => ({ status: [400, 415] }) },
  { name: 'a body without content-type', payload: (_r, p) => JSON.stringify(p.body), headers: { 'content-type': undefined }, expect: () => ({ status: [400, 415] }) },
  { name: 'content-type in capitals', payload: (_r, p) => JSON.stringify(p.body), headers: { 'content-type': 'APPLICATION/JSON' }, expect: () => anySafe },
  { name: 'content-type json with charset=utf-16', payload: (_r, p) => JSON.stringify(p.body), headers: { 'content-type': 'application/json; charset=utf-16' }, expect: () => anySafe },
  { name: 'a 1 MB JSON body', payload: (route) => JSON.stringify({ [route.fields[0] ?? 'x']: 'a'.repeat(1024 * 1024) }), headers: json, expect: () => ({ status: 413, code: 'payload_too_large' }) },
  { name: 'a body one byte over the limit', payload: () => JSON.stringify({ x: 'a'.repeat(t.config.http.bodyLimitBytes) }).slice(0, t.config.http.bodyLimitBytes + 1), headers: json, expect: () => ({ status: 413, code: 'payload_too_large' }) },
  { name: 'a 1 MB text/plain body', payload: () => 'a'.repeat(1024 * 1024), headers: { 'content-type': 'text/plain' }, expect: () => ({ status: [413, 415] }) },
  { name: 'a 1 MB form body', payload: () => `a=${'b'.repeat(1024 * 1024)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, expect: () => ({ status: [413, 415] }) },
  { name: 'content-length smaller than the body', payload: (_r, p) => JSON.stringify(p.body), headers: { ...json, 'content-length': '3' }, expect: () => ({ status: [400, 413] }) },
  { name: 'content-length announcing 100 MB', payload: (_r, p) => JSON.stringify(p.body), headers: { ...json, 'content-length': String(100 * 1024 * 1024) }, expect: () => ({ status: [400, 413] }) },
  // app.inject passes it through where Node's HTTP parser would answer 400 itself: only "no 500" is meaningful here.
  { name: 'content-length not a number', payload: (_r, p) => JSON.stringify(p.body), headers: { ...json, 'content-length': 'abc' }, expect: () => anySafe },
];

describe.each(postRoutes.map((route) => [route.name, route] as const))('%s: malformed bodies', (_name, route) => {
  it.each(rawBodyCases.map((bodyCase) => [bodyCase.name, bodyCase] as const))('%s → no 500, a problem document', async (_case, bodyCase) => {
    const prepared = await route.prepare();
    const response = await postRaw(prepared, bodyCase.payload(route, prepared), bodyCase.headers ?? {});
    expectSafe(response, bodyCase.expect(route));
    if (response.statusCode >= 400) expectNoTokens(response);
  });
});

describe.each(getRoutes.map((route) => [route.name, route] as const))('%s: bodies on a GET', (_name, route) => {
  const cases: Array<[string, string | Buffer, Record<string, string>]> = [
    ['not JSON', '{"a":', json],
    ['JSON null', 'null', json],
    ['{"__proto__": {...}}', '{"__proto__":{"polluted":true}}', json],
    ['a form body', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['a text/plain body', 'hello', { 'content-type': 'text/plain' }],
    ['a 1 MB body', 'a'.repeat(1024 * 1024), json],
  ];
  it.each(cases)('%s → no 500', async (_case, payload, headers) => {
    const prepared = await route.prepare();
    expectSafe(await inject({ method: 'GET', url: prepared.url, payload, headers: { ...prepared.headers, ...headers } }));
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Wrong types, huge strings and hostile strings in every field

const wrongTypes: Array<[string, unknown]> = [
  ['a number', 123456],
  ['zero', 0],
  ['a float', 1.5],
  ['a negative number', -1],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an empty array', []],
  ['an array of one string (LG-05/06: one credential per request)', ['x']],
  ['an array of strings', ['correct horse battery staple', 'another guess here']],
  ['an empty object', {}],
  ['a query-operator object', { $ne: null }],
  ['an object with a toString', { toString: 'x' }],
];

const hostileStrings: Array<[string, string]> = [
  ['empty', ''],
  ['a single space', ' '],
  ['NUL inside', 'ab\u0000cd'],
  ['only NUL', '\u0000'],
  ['C0 and DEL control characters', '\u0001\u0002\u001b[31m\u001f\u007f'],
  ['CR LF TAB', 'a\r\nb\tc'],
  ['header injection', 'x\r\nSet-Cookie: a=b'],
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate', '\udc00'],
  ['a lone surrogate inside', 'abc\ud83ddef'],
  ['reversed surrogate pair', '\ude00\ud83d'],
  ['RTL override', 'abc\u202edef'],
  ['zero-width characters', '\u200b\u200c\u200d\u2060'],
  ['BOM', '\ufeffabc'],
  ['non-characters', '\ufffe\uffff'],
  ['astral characters', '𝓪𝓵𝓲𝓬𝓮😀'],
  ['emoji ZWJ sequence', '👩‍👩‍👧‍👦'.repeat(4)],
  ['combining marks pile-up', `a${'\u0301'.repeat(200)}`],
  ['full-width letters and digits', 'ＡＬＩＣＥ１２３'],
  ['characters that change under case folding', 'İıẞßǅ'],
  ['SQL injection', "' OR 1=1 --"],
  ['path traversal', '../../../../etc/passwd'],
  ['percent-encoded NUL', '%00%0a'],
  ['log4shell-style lookup', '${jndi:ldap://127.0.0.1/x}'],
  ['HTML/script', '<script>alert(1)</script>'],
  ['template syntax', '{{7*7}}${7*7}'],
  ['JSON inside a string', '{"__proto__":{"polluted":true}}'],
];

/** Every string in every schema has a maxLength ≤ 4096, so 10 000 characters is always a 400. */
const longStrings: Array<[string, string, boolean]> = [
  ['1 025 characters', 'a'.repeat(1025), false],
  ['10 000 characters', 'a'.repeat(10_000), true],
  ['2 500 astral characters (5 000 UTF-16 units)', '😀'.repeat(2500), false],
];

function fieldBody(route: RouteSpec, field: string, value: unknown, prepared: Prepared): Record<string, unknown> {
  return route.bodyFor ? route.bodyFor(field, value, prepared) : { ...prepared.body, [field]: value };
}

const fieldRoutes = postRoutes.filter((route) => route.fields.length > 0);
const fieldMatrix = fieldRoutes.flatMap((route) => route.fields.map((field) => [`${route.name} "${field}"`, route, field] as const));

describe.each(fieldMatrix)('%s', (_name, route, field) => {
  it.each(wrongTypes)('as %s → 400 invalid_request', async (_case, value) => {
    const prepared = await route.prepare();
    const response = await postJson(t.app, prepared.url, fieldBody(route, field, value, prepared), prepared.headers);
    expectSafe(response, invalidRequest);
    expectNoTokens(response);
  });

  it.each(longStrings)('as a string of %s → no 500 (400 above every maxLength)', async (_case, value, overEveryLimit) => {
    const prepared = await route.prepare();
    const response = await postJson(t.app, prepared.url, fieldBody(route, field, value, prepared), prepared.headers);
    if (overEveryLimit) expectSafe(response, invalidRequest);
    else expectSafe(response, route.name === 'POST /v1/logout' ? {} : { status: [400, 401] });
    expectNoTokens(response);
  });

  it.each(hostileStrings)('as a hostile string (%s) → no 500', async (_case, value) => {
    const prepared = await route.prepare();
    const response = await postJson(t.app, prepared.url, fieldBody(route, field, value, prepared), prepared.headers);
    expectSafe(response);
    // Only registration and enrollment can succeed with a hostile (but well-typed) string.
    if (!['POST /v1/register', 'POST /v1/factors', 'POST /v1/logout'].includes(route.name)) expect(response.statusCode).toBeGreaterThanOrEqual(400);
  });
});

describe('route-specific bad values', () => {
  it('LG-05/06: {"password": ["x"]} and {"username": [..]} at /v1/login and /v1/register are 400, never a login', async () => {
    for (const url of ['/v1/login', '/v1/register']) {
      for (const body of [
        { username: resident.username, password: ['x'] },
        { username: resident.username, password: [strongPassword, 'guess two', 'guess three'] },
        { username: [resident.username, 'someone'], password: strongPassword },
        { username: resident.username, password: { $ne: '' } },
        { username: resident.username },
        { password: strongPassword },
      ]) {
        const response = await postJson(t.app, url, body);
        expectSafe(response, invalidRequest);
        expectNoTokens(response);
      }
    }
  });

  it('POST /v1/factors: unknown or mis-cased factor types are 400', async () => {
    for (const type of ['SMS', 'e-mail', 'WebAuthn', 'TOTP', 'totp ', '', 'hotp', '__proto__']) {
      const registered = await registerUser(t);
      expectSafe(await postJson(t.app, '/v1/factors', { type }, bearer(registered.mfaToken)), invalidRequest);
    }
  });

  it('POST /v1/mfa/verify: code and recovery_code together, or neither, is 400', async () => {
    for (const body of [{}, { code: '123456', recovery_code: 'ABCD-EFGH-IJKL-MNOP-QRST' }, { factor_id: 'fac_x' }, { mfa_verified: true }]) {
      const user = await signUp(t);
      const mfaToken = await loginForMfaToken(t, user);
      const response = await postJson(t.app, '/v1/mfa/verify', body, bearer(mfaToken));
      expectSafe(response, invalidRequest);
      expectNoTokens(response);
    }
  });

  it('POST /v1/mfa/verify: hostile recovery codes are 400/401, never tokens', async () => {
    for (const recoveryCode of ['', '-'.repeat(64), 'Ａ'.repeat(20), '0'.repeat(20), '\u0000'.repeat(20), 'abcd efgh ijkl mnop qrst', '\ud800'.repeat(20)]) {
      const user = await signUp(t);
      const mfaToken = await loginForMfaToken(t, user);
      const response = await postJson(t.app, '/v1/mfa/verify', { recovery_code: recoveryCode }, bearer(mfaToken));
      expectSafe(response, { status: [400, 401] });
      expectNoTokens(response);
    }
  });

  const hostileIds: Array<[string, string]> = [
    ['encoded traversal', '..%2F..%2Fetc%2Fpasswd'],
    ['encoded dot-dot', '%2e%2e'],
    ['an encoded NUL', '%00'],
    ['SQL injection', encodeURIComponent("' OR 1=1 --")],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['an emoji', encodeURIComponent('😀')],
    ['65 characters (over the maxLength)', 'a'.repeat(65)],
    ['64 characters', 'a'.repeat(64)],
    ["101 characters (over Fastify's maxParamLength)", 'a'.repeat(101)],
    ['1 000 characters', 'a'.repeat(1000)],
    ['a truncated UTF-8 percent-encoding', '%F0%9F'],
    ['an invalid percent-encoding', '%ZZ'],
  ];

  it.each(hostileIds)('POST /v1/factors/{id}/verify with id = %s → 400/404, never a 500', async (_name, id) => {
    const registered = await registerUser(t);
    const response = await postJson(t.app, `/v1/factors/${id}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
    expectSafe(response, { status: [400, 404] });
    expectNoTokens(response);
  });

  it("POST /v1/factors/{id}/verify with someone else's pending factor id and their valid code → 404, never tokens", async () => {
    const other = await registerUser(t);
    const registered = await registerUser(t);
    const response = await postJson(t.app, `/v1/factors/${other.factorId}/verify`, { code: totpCode(t, other.secret) }, bearer(registered.mfaToken));
    expectSafe(response, { status: 404, code: 'not_found' });
    expectNoTokens(response);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. FL-07: code formats (/v1/mfa/verify and /v1/factors/{id}/verify). The digits grouped by
// spaces or dashes are the code (typedForms); nothing else ever mints a token.

const arabicIndic = (digits: string) => [...digits].map((d) => String.fromCharCode(0x0660 + Number(d))).join('');
const persian = (digits: string) => [...digits].map((d) => String.fromCharCode(0x06f0 + Number(d))).join('');
const devanagari = (digits: string) => [...digits].map((d) => String.fromCharCode(0x0966 + Number(d))).join('');
const fullWidth = (digits: string) => [...digits].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
const superscript = (digits: string) => [...digits].map((d) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[Number(d)]).join('');
const mathBold = (digits: string) => [...digits].map((d) => String.fromCodePoint(0x1d7ce + Number(d))).join('');

const codeFormats: Array<[string, (real: string) => unknown]> = [
  ['"" (empty)', () => ''],
  ['NUL after the real code', (real) => `${real}\u0000`],
  ['zero-width space after the real code', (real) => `${real}\u200b`],
  ['"١٢٣٤٥٦" (the real code in Arabic-Indic digits)', (real) => arabicIndic(real)],
  ['the real code in Persian digits', (real) => persian(real)],
  ['the real code in Devanagari digits', (real) => devanagari(real)],
  ['the real code in full-width digits', (real) => fullWidth(real)],
  ['the real code in superscript digits', (real) => superscript(real)],
  ['the real code in mathematical bold digits', (real) => mathBold(real)],
  ['"12345" (5 digits of the real code)', (real) => real.slice(0, 5)],
  ['"1234567" (the real code plus a digit)', (real) => `${real}0`],
  ['the real code with a leading 0 (7 digits)', (real) => `0${real}`],
  ['the real code twice', (real) => `${real}${real}`],
  ['the real code with letters between its digits', (real) => [...real].join('a')],
  ['the real code after another number', (real) => `1 hour: ${real}`],
  ['"000000" (when not the real code)', (real) => (real === '000000' ? '111111' : '000000')],
  ['a sign and 5 digits', (real) => `+${real.slice(1)}`],
  ['exponent notation', () => '1e5'],
  ['hexadecimal', () => '0x1e240'],
  ['64 digits', () => '1'.repeat(64)],
  ['65 digits', () => '1'.repeat(65)],
  ['the real code as a JSON number', (real) => Number(real)],
  ['null', () => null],
  ['[] ', () => []],
  ['{}', () => ({})],
  ['[real code]', (real) => [real]],
  ['{"code": real}', (real) => ({ code: real })],
  ['true', () => true],
];

/** How people type and paste a code: read as the code itself. */
const typedForms: Array<[string, (real: string) => string]> = [
  ['after a space', (real) => ` ${real}`],
  ['before a space', (real) => `${real} `],
  ['after a tab', (real) => `\t${real}`],
  ['before a newline', (real) => `${real}\n`],
  ['with a dash inside', (real) => `${real.slice(0, 3)}-${real.slice(3)}`],
  ['with a space inside', (real) => `${real.slice(0, 3)} ${real.slice(3)}`],
  ['with a non-breaking space inside', (real) => `${real.slice(0, 3)}\u00a0${real.slice(3)}`],
  ['with a minus sign inside', (real) => `${real.slice(0, 3)}\u2212${real.slice(3)}`],
  ['in the line it came in', (real) => `Your code is ${real.slice(0, 3)} ${real.slice(3)}`],
];

const codeRoutes = postRoutes.filter((route) => route.fields.includes('code'));

describe.each(codeRoutes.map((route) => [route.name, route] as const))('FL-07: %s code formats', (_name, route) => {
  it.each(codeFormats)('FL-07: code %s → 400 or 401, never tokens', async (_case, make) => {
    const prepared = await route.prepare();
    const real = prepared.realCode ?? '';
    expect(real).toMatch(/^[0-9]{6}$/);
    const response = await postJson(t.app, prepared.url, { code: make(real) }, prepared.headers);
    expectSafe(response, { status: [400, 401], code: ['invalid_request', 'invalid_code'] });
    expectNoTokens(response);
  });

  it.each(typedForms)('FL-07: Codes with spaces or dashes are accepted: the real code %s mints tokens', async (_case, make) => {
    const prepared = await route.prepare();
    const response = await postJson(t.app, prepared.url, { code: make(prepared.realCode ?? '') }, prepared.headers);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().access_token).toMatch(/^ey/);
  });

  it('FL-07 control: the same request with the real code, as exactly 6 ASCII digits, does mint tokens', async () => {
    const prepared = await route.prepare();
    const response = await postJson(t.app, prepared.url, { code: prepared.realCode }, prepared.headers);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().access_token).toMatch(/^ey/);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Authorization headers

const jwtLike = (segmentLength: number) => `eyJ${'A'.repeat(segmentLength)}.eyJ${'B'.repeat(segmentLength)}.${'C'.repeat(segmentLength)}`;

const badAuthorizationHeaders: Array<[string, (valid: string) => string | string[]]> = [
  ['"Bearer"', () => 'Bearer'],
  ['"Bearer " (one space)', () => 'Bearer '],
  ['"Bearer  " (two spaces)', () => 'Bearer  '],
  ['"Basic abc"', () => 'Basic abc'],
  ['Basic with credentials', () => `Basic ${Buffer.from(`${resident.username}:${strongPassword}`).toString('base64')}`],
  ['"Bearer a.b"', () => 'Bearer a.b'],
  ['"Bearer a.b.c"', () => 'Bearer a.b.c'],
  ['"Bearer a.b.c.d"', () => 'Bearer a.b.c.d'],
  ['"Bearer ..."', () => 'Bearer ...'],
  ['"Bearer null"', () => 'Bearer null'],
  ['"Bearer undefined"', () => 'Bearer undefined'],
  ['a token with no scheme', (valid) => valid],
  ['"Token <valid>"', (valid) => `Token ${valid}`],
  ['"Bearer: <valid>"', (valid) => `Bearer: ${valid}`],
  ['"Bearer\\t<valid>"', (valid) => `Bearer\t${valid}`],
  ['"Bearer <valid> extra"', (valid) => `Bearer ${valid} extra`],
  ['"Bearer <valid>,Bearer <valid>"', (valid) => `Bearer ${valid},Bearer ${valid}`],
  ['"Bearer <valid>x" (one extra character)', (valid) => `Bearer ${valid}x`],
  ['"Bearer <valid>=" (padding)', (valid) => `Bearer ${valid}=`],
  ['"Bearer <valid with a dot appended>"', (valid) => `Bearer ${valid}.`],
  ['the valid token with its signature cut in half', (valid) => `Bearer ${valid.slice(0, valid.length - 40)}`],
  ['an 8 KB bearer token', () => `Bearer ${'A'.repeat(8192)}`],
  ['an 8 KB JWT-shaped token', () => `Bearer ${jwtLike(2730)}`],
  ['an 8 KB header of spaces', () => `Bearer${' '.repeat(8192)}x`],
  ['latin-1 characters', () => 'Bearer \u00e9\u00e8\u00ff.\u00e9.\u00e9'],
  // Node keeps the first of duplicated Authorization headers, so the bad one goes first.
  ['two Authorization headers, a bad one first', (valid) => ['Bearer a.b.c', `Bearer ${valid}`]],
  ['a refresh token as the bearer', () => `Bearer ${bogusRefreshToken}`],
];

const bearerCaseVariants: Array<[string, (valid: string) => string | string[]]> = [
  ['"bearer <valid>"', (valid) => `bearer ${valid}`],
  ['"BEARER <valid>"', (valid) => `BEARER ${valid}`],
  ['"bEaReR <valid>"', (valid) => `bEaReR ${valid}`],
  ['two Authorization headers, the valid one first', (valid) => [`Bearer ${valid}`, 'Bearer a.b.c']],
];

/** The token each route would accept, so header surgery is done on a real one. */
function validTokenOf(prepared: Prepared): string {
  return (prepared.headers['authorization'] ?? `Bearer ${resident.accessToken}`).replace(/^Bearer /, '');
}

function requestWith(route: RouteSpec, prepared: Prepared, authorization: string | string[] | undefined): Promise<LightMyRequestResponse> {
  const headers: Record<string, string | string[]> = { ...prepared.headers };
  delete headers['authorization'];
  if (authorization !== undefined) headers['authorization'] = authorization;
  if (route.method === 'GET') return inject({ method: 'GET', url: prepared.url, headers: headers as Record<string, string> });
  return inject({ method: 'POST', url: prepared.url, payload: prepared.body ?? {}, headers: { ...(headers as Record<string, string>), 'content-type': 'application/json' } });
}

describe.each(routes.map((route) => [route.name, route] as const))('%s: Authorization headers', (_name, route) => {
  it('baseline: the prepared request answers as expected', async () => {
    const prepared = await route.prepare();
    expectSafe(await requestWith(route, prepared, prepared.headers['authorization']), { status: route.baselineStatus });
  });

  if (route.needsToken) {
    it('no Authorization header → 401 invalid_token', async () => {
      const prepared = await route.prepare();
      expectSafe(await requestWith(route, prepared, undefined), { status: 401, code: 'invalid_token' });
    });
  }

  it.each(badAuthorizationHeaders)(`%s → ${route.needsToken ? '401 invalid_token' : 'ignored'}`, async (_case, make) => {
    const prepared = await route.prepare();
    const response = await requestWith(route, prepared, make(validTokenOf(prepared)));
    if (route.needsToken) {
      expectSafe(response, { status: 401, code: 'invalid_token' });
      expectNoTokens(response);
    } else {
      expectSafe(response, { status: route.baselineStatus });
    }
  });

  it.each(bearerCaseVariants)('%s (the scheme is case-insensitive, RFC 9110 §11.1; Node keeps the first duplicate) → honoured or 401, never a 500', async (_case, make) => {
    const prepared = await route.prepare();
    const response = await requestWith(route, prepared, make(validTokenOf(prepared)));
    const baseline = asList(route.baselineStatus) ?? [];
    expectSafe(response, { status: route.needsToken ? [...baseline, 401] : baseline });
  });
});

describe('tokens of the wrong kind on every token route', () => {
  it('an access token where an mfa_token is needed, and an mfa_token where an access token is needed → 401/403, never a 500', async () => {
    for (const route of tokenRoutes) {
      const prepared = await route.prepare();
      const user = await signUp(t);
      const pending = await loginForMfaToken(t, user);
      for (const token of [user.accessToken, pending]) {
        const response = await requestWith(route, prepared, `Bearer ${token}`);
        expectSafe(response);
        if (response.statusCode >= 400) expect([401, 403, 404]).toContain(response.statusCode);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Unknown methods, unknown paths, path traversal, hostile query strings

const registered = new Set(routes.map((route) => `${route.method} ${route.pattern}`));
const methodCases = routes.flatMap((route) =>
  ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'SEARCH']
    .filter((method) => !registered.has(`${method} ${route.pattern}`))
    .map((method) => [`${method} ${route.pattern}`, method, route] as const),
);

describe('unknown methods on known paths', () => {
  it.each(methodCases)('%s → 404 not_found or 405 method_not_allowed', async (_name, method, route) => {
    const prepared = await route.prepare();
    const sendsBody = method !== 'GET' && method !== 'OPTIONS';
    const response = await inject({
      method: method as InjectOptions['method'],
      url: prepared.url,
      headers: sendsBody ? { ...prepared.headers, 'content-type': 'application/json' } : prepared.headers,
      ...(sendsBody ? { payload: JSON.stringify(prepared.body ?? {}) } : {}),
    });
    expectSafe(response, { status: [404, 405], code: ['not_found', 'method_not_allowed'] });
  });

  it.each(getRoutes.map((route) => [route.name.replace('GET', 'HEAD'), route] as const))('%s → no 500', async (_name, route) => {
    const prepared = await route.prepare();
    const response = await inject({ method: 'HEAD', url: prepared.url, headers: prepared.headers });
    expect(response.statusCode).toBeLessThan(500);
  });
});

const unknownPaths: Array<[string, string]> = [
  ['an unknown path', '/v1/nope'],
  ['another API version', '/v2/me'],
  ['the root', '/'],
  ['a trailing slash', '/v1/login/'],
  ['capitals', '/V1/LOGIN'],
  ['a double slash', '/v1//login'],
  ['a dot segment', '/v1/./login'],
  ['a dot-dot segment', '/v1/../v1/login'],
  ['/../../etc/passwd', '/../../etc/passwd'],
  ['encoded dot-dot', '/v1/%2e%2e/%2e%2e/etc/passwd'],
  ['encoded slashes', '/..%2f..%2fetc%2fpasswd'],
  ['double-encoded traversal', '/v1/%252e%252e/%252e%252e/etc/passwd'],
  ['backslash traversal', '/v1/..\\..\\etc\\passwd'],
  ['well-known traversal', '/.well-known/../../etc/passwd'],
  ['well-known sibling', '/.well-known/jwks.json/../openid-configuration/../../package.json'],
  ['a dotfile', '/.env'],
  ['the data directory', '/data/twofold.sqlite'],
  ['package.json', '/package.json'],
  ['a NUL in the path', '/v1/login%00'],
  ['a NUL and an extension', '/v1/me%00.json'],
  ['a matrix parameter', '/v1/me;jsessionid=abc'],
  ['an encoded space', '/v1/%20login'],
  ['a unicode path', '/v1/m%C3%A9'],
  ['overlong UTF-8', '/v1/%C0%AE%C0%AE/etc/passwd'],
  ['an invalid percent-encoding', '/v1/%ZZ'],
  ['an invalid percent-encoding at the root', '/%'],
  ['an invalid percent-encoding in a route parameter', '/v1/factors/%ZZ/verify'],
  ['a truncated UTF-8 percent-encoding', '/v1/factors/%E2%82/verify'],
  ['a very long path', `/${'a'.repeat(10_000)}`],
  ['a very deep path', `/${'a/'.repeat(2000)}`],
  ['an absolute URL', 'http://evil.test/v1/me'],
];

describe('unknown paths and path traversal', () => {
  it.each(unknownPaths)('GET %s → no 500, a problem document, no file content', async (_name, url) => {
    const response = await inject({ method: 'GET', url });
    expectSafe(response);
    expect(response.body).not.toMatch(/root:.*:0:0:|"dependencies"|SQLite format/);
  });

  it.each(unknownPaths)('POST %s with a JSON body → no 500, a problem document', async (_name, url) => {
    expectSafe(await inject({ method: 'POST', url, payload: { username: 'x', password: 'y' }, headers: json }));
  });
});

const hostileQueries: Array<[string, string]> = [
  ['__proto__ in the query', '?__proto__[polluted]=1&__proto__.polluted=1'],
  ['constructor.prototype in the query', '?constructor[prototype][polluted]=1'],
  ['an invalid percent-encoding', '?a=%ZZ&b=%'],
  ['a NUL', '?a=%00'],
  ['repeated keys', `?${'a=1&'.repeat(1000)}`],
  ['a long value', `?a=${'x'.repeat(10_000)}`],
  ['a key without value', '?a&b&&=&=='],
];

describe.each(routes.map((route) => [route.name, route] as const))('%s: hostile query strings', (_name, route) => {
  it.each(hostileQueries)('%s → no 500', async (_case, query) => {
    const prepared = await route.prepare();
    const response =
      route.method === 'GET'
        ? await inject({ method: 'GET', url: `${prepared.url}${query}`, headers: prepared.headers })
        : await inject({ method: 'POST', url: `${prepared.url}${query}`, payload: prepared.body ?? {}, headers: { ...prepared.headers, ...json } });
    expectSafe(response, { status: route.baselineStatus });
  });
});

// ---------------------------------------------------------------------------------------------
// 6. HT-01: responses carrying tokens are not cacheable

describe('HT-01: Cache-Control: no-store on every response carrying a token', () => {
  it('register, login, factor confirmation, mfa verify and refresh all send no-store', async () => {
    const noStore = (response: LightMyRequestResponse) => {
      expect(response.statusCode, response.body).toBeLessThan(300);
      expect(response.headers['cache-control']).toMatch(/\bno-store\b/);
    };
    const username = uniqueUsername('cache');
    const register = await postJson(t.app, '/v1/register', { username, password: strongPassword });
    noStore(register);
    const { totp, mfa_token: enrollToken } = register.json();
    const confirm = await postJson(t.app, `/v1/factors/${totp.factor_id}/verify`, { code: totpCode(t, totp.secret) }, bearer(enrollToken));
    noStore(confirm);
    expect(confirm.json().access_token).toBeDefined();
    const login = await postJson(t.app, '/v1/login', { username, password: strongPassword });
    noStore(login);
    const verify = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, totp.secret, 1) }, bearer(login.json().mfa_token));
    noStore(verify);
    const refresh = await postJson(t.app, '/v1/token/refresh', { refresh_token: verify.json().refresh_token });
    noStore(refresh);
    const me = await inject({ method: 'GET', url: '/v1/me', headers: bearer(refresh.json().access_token) });
    noStore(me);
  });

  it('problem documents are not cacheable either', async () => {
    for (const response of [await postJson(t.app, '/v1/login', { username: 'nobody', password: 'x' }), await inject({ method: 'GET', url: '/v1/me' }), await inject({ method: 'GET', url: '/nope' })]) {
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.headers['cache-control']).toMatch(/\bno-store\b/);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 7. After all this abuse: nothing half-written, nothing polluted, still serving

describe('after the abuse', () => {
  it('a register with a valid, unused username but one bad field leaves no user row (and no factor or session)', async () => {
    const countRows = async () => ({
      users: (await t.ctx.db.selectFrom('users').selectAll().execute()).length,
      factors: (await t.ctx.db.selectFrom('factors').selectAll().execute()).length,
      sessions: (await t.ctx.db.selectFrom('sessions').selectAll().execute()).length,
    });
    const before = await countRows();
    const badFields: Array<[string, Record<string, unknown>, Record<string, string>?]> = [
      ['an invalid email', { email: 'not-an-email' }],
      ['an email of the wrong type', { email: 123 }],
      ['a null email', { email: null }],
      ['an invalid phone', { phone: '12345' }],
      ['a phone with control characters', { phone: '+1415\u0000555\u00000123' }],
      ['a phone of the wrong type', { phone: ['+14155550123'] }],
      ['a short password', { password: 'short' }],
      ['a breached password', { password: 'password1234' }],
      ['a 129-code-point password', { password: 'x'.repeat(129) }],
      ['a password array (LG-05/06)', { password: ['x'] }],
      ['a password that is only a lone surrogate', { password: '\ud800' }],
      ['a password that is only NULs', { password: '\u0000'.repeat(20) }],
      ['a 1 MB email', { email: `${'a'.repeat(1024 * 1024)}@example.com` }],
      ['an extra "__proto__"', { __proto__: { polluted: true } }],
    ];
    for (const [label, extra] of badFields) {
      const username = uniqueUsername('halfwritten').toLowerCase();
      const body = { username, password: strongPassword, ...extra };
      const payload = label === 'an extra "__proto__"' ? `{"username":"${username}","password":"${strongPassword}","__proto__":{"polluted":true}}` : JSON.stringify(body);
      const response = await inject({ method: 'POST', url: '/v1/register', payload, headers: json });
      expectSafe(response, { status: [400, 413] });
      expectNoTokens(response);
      const rows = await t.ctx.db.selectFrom('users').selectAll().where('username', '=', username).execute();
      expect(rows, label).toEqual([]);
    }
    // Same for other media types with a perfectly good body inside.
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const username = uniqueUsername('halfwritten').toLowerCase();
      const response = await inject({ method: 'POST', url: '/v1/register', payload: JSON.stringify({ username, password: strongPassword }), headers: { 'content-type': contentType } });
      expectSafe(response, { status: 415, code: 'unsupported_media_type' });
      expect(await t.ctx.db.selectFrom('users').selectAll().where('username', '=', username).execute()).toEqual([]);
    }
    expect(await countRows()).toEqual(before);
  });

  it('bad login bodies for a real account create no session rows', async () => {
    const sessionsBefore = (await t.ctx.db.selectFrom('sessions').selectAll().where('user_id', '=', resident.userId).execute()).length;
    for (const payload of [
      JSON.stringify({ username: resident.username, password: [strongPassword] }),
      JSON.stringify({ username: [resident.username], password: strongPassword }),
      JSON.stringify({ username: resident.username, password: strongPassword, extra: { __proto__: 1 } }).replace('"extra"', '"__proto__"'),
      JSON.stringify({ username: resident.username, password: 'x'.repeat(1025) }),
      `{"username":"${resident.username}","password":"${strongPassword}"`,
    ]) {
      expectSafe(await inject({ method: 'POST', url: '/v1/login', payload, headers: json }), { status: 400 });
    }
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const payload = JSON.stringify({ username: resident.username, password: strongPassword });
      expectSafe(await inject({ method: 'POST', url: '/v1/login', payload, headers: { 'content-type': contentType } }), { status: 415 });
    }
    const sessionsAfter = (await t.ctx.db.selectFrom('sessions').selectAll().where('user_id', '=', resident.userId).execute()).length;
    expect(sessionsAfter).toBe(sessionsBefore);
  });

  it('the database has no orphans and no session that skipped the second factor', async () => {
    const users = await t.ctx.db.selectFrom('users').selectAll().execute();
    const factors = await t.ctx.db.selectFrom('factors').selectAll().execute();
    const sessions = await t.ctx.db.selectFrom('sessions').selectAll().execute();
    const refreshTokens = await t.ctx.db.selectFrom('refresh_tokens').selectAll().execute();
    const recoveryCodes = await t.ctx.db.selectFrom('recovery_codes').selectAll().execute();
    const userIds = new Set(users.map((user) => user.id));
    const sessionsById = new Map(sessions.map((session) => [session.id, session]));
    expect(users.length).toBeGreaterThan(100);

    expect(factors.filter((factor) => !userIds.has(factor.user_id))).toEqual([]);
    expect(sessions.filter((session) => !userIds.has(session.user_id))).toEqual([]);
    expect(recoveryCodes.filter((code) => !userIds.has(code.user_id))).toEqual([]);
    expect(refreshTokens.filter((token) => !sessionsById.has(token.session_id))).toEqual([]);
    // Registration writes user, factor and pending session together, or nothing.
    expect(users.filter((user) => !factors.some((factor) => factor.user_id === user.id))).toEqual([]);
    expect(users.filter((user) => !sessions.some((session) => session.user_id === user.id))).toEqual([]);
    // No session reached "active" without a completed second factor (FL-08).
    const activeFactorUsers = new Set(factors.filter((factor) => factor.status === 'active').map((factor) => factor.user_id));
    for (const session of sessions.filter((row) => row.state === 'active' || row.auth_time !== null)) {
      expect(session.auth_time).not.toBeNull();
      expect(session.acr).toBe('aal2');
      expect(JSON.parse(session.amr)).toContain('mfa');
      expect(activeFactorUsers.has(session.user_id)).toBe(true);
    }
    // Refresh tokens exist only for sessions that completed the second factor.
    for (const token of refreshTokens) {
      expect(sessionsById.get(token.session_id)?.auth_time).not.toBeNull();
    }
  });

  it('Object.prototype was not polluted by any body or query', () => {
    const probe = {} as Record<string, unknown>;
    expect(probe['polluted']).toBeUndefined();
    expect(probe['isAdmin']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('the server still serves: health, readiness and a complete sign-up', async () => {
    expectSafe(await inject({ method: 'GET', url: '/healthz' }), { status: 200 });
    expectSafe(await inject({ method: 'GET', url: '/readyz' }), { status: 200 });
    const user = await signUp(t);
    expect((await inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })).statusCode).toBe(200);
  });
});
