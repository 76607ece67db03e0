// Property-based fuzzing of every route: the API routes are read from
// /openapi.json when this file loads, so a new route is fuzzed without anyone listing it; the page
// forms are read from the server's route table. Each run sends one generated request — arbitrary
// JSON (fc.anything, fc.jsonValue, objects with the route's real field names and real secrets mixed
// in, deep nesting, huge and hostile strings), raw and binary bodies, arbitrary Authorization,
// Content-Type, Accept, User-Agent and X-Forwarded-For headers, arbitrary path ids and query
// strings — with no token, with a valid token of each kind (made fresh for the run) or a bent one.
// Every answer must be < 500; every API 4xx an RFC 9457 problem document with a code from the
// contract; every page answer HTML (or a local redirect); and no error answer carries a token.
// The seed is fixed (TWOFOLD_FUZZ_SEED / TWOFOLD_FUZZ_RUNS override it for longer local runs);
// fast-check prints the seed and the path of any counterexample.
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../src/errors.js';
import { bearer, postJson, registerUser, signUp, totpCode, uniqueUsername, type SignedUp } from '../helpers/flow.js';
import { uniqueEmail, uniquePhone } from '../helpers/otp.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';
import { pagePostPathsOf } from '../helpers/routes.js';

const seed = Number(process.env['TWOFOLD_FUZZ_SEED'] ?? 20261129);
const numRuns = Number(process.env['TWOFOLD_FUZZ_RUNS'] ?? 60);

// The server and its routes, read at load time so that every route gets its own test.
const t: TestTwofold = await startTestTwofold();
/** Answers by route and status (printed with TWOFOLD_FUZZ_STATS=1, to see how deep the runs reach). */
const statistics = new Map<string, Map<string, number>>();
function count(route: string, response: LightMyRequestResponse): void {
  const body = response.headers['content-type']?.toString().startsWith('application/problem+json') ? `:${(JSON.parse(response.body) as { code?: string }).code}` : '';
  const key = `${response.statusCode}${body}`;
  const perRoute = statistics.get(route) ?? new Map<string, number>();
  perRoute.set(key, (perRoute.get(key) ?? 0) + 1);
  statistics.set(route, perRoute);
}
afterAll(async () => {
  if (process.env['TWOFOLD_FUZZ_STATS'] === '1') {
    for (const [route, perRoute] of statistics) process.stdout.write(`${route}: ${[...perRoute].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${key}×${n}`).join(' ')}\n`);
  }
  await t.close();
});

interface ApiRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  fields: string[];
  query: string[];
}

const openapi = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }; parameters?: Array<{ in: string; name: string }> }>>;
};
const apiRoutes: ApiRoute[] = Object.entries(openapi.paths).flatMap(([path, operations]) =>
  Object.entries(operations).map(([method, operation]) => ({
    method: method.toUpperCase() as ApiRoute['method'],
    path,
    fields: Object.keys(operation.requestBody?.content?.['application/json']?.schema?.properties ?? {}),
    query: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
  })),
);

const pageRoutes = pagePostPathsOf(t.app);
/** Page routes that answer the page script in JSON (the passkey sign-in's request options), not with a page. */
const pageScriptEndpoints = new Set(['/sign-in/passkey/options']);

/** The fields the page forms send (whichever page): real names make the fuzzer reach the flows. */
const pageFields = ['username', 'password', 'email', 'code', 'challenge_id', 'factor_id', 'credential', 'recovery_code', 'remember_device', 'next', 'label', 'phone', 'current_password', 'new_password', 'replaces', 'reason'];

// ---------------------------------------------------------------------------------------------
// Real secrets and ids, as placeholders the generators mix in and each run makes real

const placeholders = [
  'totp',
  'recovery',
  'mfa',
  'registration',
  'access',
  'refresh',
  'aal1',
  'device',
  'factor',
  'passkey-factor',
  'pending-factor',
  'victim-factor',
  'session',
  'victim-session',
  'device-id',
  'passkey-challenge',
  'username',
  'password',
  'phone',
  'email',
] as const;
type Placeholder = (typeof placeholders)[number];
const mark = (name: Placeholder) => `@@${name}@@`;
const markPattern = /^@@([a-z0-9-]+)@@$/;

interface Fixture {
  user: SignedUp;
  sid: string;
  passkeyFactorId: string;
  pendingFactorId: string;
  deviceToken: string;
  deviceId: string;
  victim: SignedUp & { sid: string };
}

async function buildFixture(): Promise<Fixture> {
  const user = await signUp(t);
  const authenticator = createSoftAuthenticator();
  const passkey = (await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.accessToken))).json();
  const confirm = await postJson(t.app, `/v1/factors/${passkey.factor_id}/verify`, { credential: authenticator.register(passkey.options), challenge_id: passkey.challenge_id }, bearer(user.accessToken));
  expect(confirm.statusCode, confirm.body).toBe(200);
  t.clock.advanceSeconds(30);
  const login = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json();
  const remembered = (await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret), remember_device: true }, bearer(login.mfa_token))).json();
  const device = await t.ctx.db.selectFrom('trusted_devices').select('id').where('user_id', '=', user.userId).executeTakeFirstOrThrow();
  const pending = (await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(user.accessToken))).json();
  const victim = await signUp(t);
  return {
    user,
    sid: decodeJwt(user.accessToken)['sid'] as string,
    passkeyFactorId: passkey.factor_id,
    pendingFactorId: pending.factor_id,
    deviceToken: remembered.device_token,
    deviceId: device.id,
    victim: { ...victim, sid: decodeJwt(victim.accessToken)['sid'] as string },
  };
}

/** One run's real values, made on first use (a fresh sign-in only when the request names one). */
class RunSecrets {
  private readonly values = new Map<Placeholder, Promise<string>>();
  /** Everything that is a token or code, to be sure no error answer carries one. */
  readonly issued: string[] = [];
  /** The token the request authenticates with (challenges are opened for its session). */
  authToken: string | undefined;
  private static recoveryIndex = 0;

  constructor(private readonly fixture: Fixture) {}

  get(name: Placeholder): Promise<string> {
    let value = this.values.get(name);
    if (value === undefined) {
      value = this.make(name).then((made) => {
        if (['mfa', 'registration', 'access', 'refresh', 'aal1', 'device', 'recovery'].includes(name)) this.issued.push(made);
        return made;
      });
      this.values.set(name, value);
    }
    return value;
  }

  private async make(name: Placeholder): Promise<string> {
    const { user } = this.fixture;
    switch (name) {
      case 'totp':
        return totpCode(t, user.secret);
      case 'recovery':
        return user.recoveryCodes[RunSecrets.recoveryIndex++ % user.recoveryCodes.length]!;
      case 'mfa':
        return (await this.login())?.mfa_token ?? 'stale.mfa.token';
      case 'registration':
        return (await registerUser(t)).mfaToken;
      case 'access':
      case 'refresh': {
        const tokens = await this.signIn();
        this.values.set('access', Promise.resolve(tokens?.access_token ?? 'stale.access.token'));
        this.values.set('refresh', Promise.resolve(tokens?.refresh_token ?? 'tfr_stale'));
        return name === 'access' ? (tokens?.access_token ?? 'stale.access.token') : (tokens?.refresh_token ?? 'tfr_stale');
      }
      case 'aal1': {
        const login = await this.login();
        if (login === undefined) return 'stale.aal1.token';
        const response = await postJson(t.app, '/v1/mfa/verify', { device_token: this.fixture.deviceToken }, bearer(login.mfa_token));
        return response.statusCode === 200 ? response.json().access_token : 'stale.aal1.token';
      }
      case 'device':
        return this.fixture.deviceToken;
      case 'factor':
        return user.factorId;
      case 'passkey-factor':
        return this.fixture.passkeyFactorId;
      case 'pending-factor':
        return this.fixture.pendingFactorId;
      case 'victim-factor':
        return this.fixture.victim.factorId;
      case 'session':
        return this.authToken === undefined ? this.fixture.sid : (sidOf(this.authToken) ?? this.fixture.sid);
      case 'victim-session':
        return this.fixture.victim.sid;
      case 'device-id':
        return this.fixture.deviceId;
      case 'passkey-challenge': {
        if (this.authToken === undefined) return 'chl_none';
        const response = await postJson(t.app, '/v1/mfa/challenge', { factor_id: this.fixture.passkeyFactorId }, bearer(this.authToken));
        return response.statusCode === 200 ? response.json().challenge_id : 'chl_refused';
      }
      case 'username':
        return user.username;
      case 'password':
        return user.password;
      case 'phone':
        return uniquePhone();
      case 'email':
        return uniqueEmail('fuzz');
    }
  }

  private async login(): Promise<{ mfa_token: string } | undefined> {
    const response = await postJson(t.app, '/v1/login', { username: this.fixture.user.username, password: this.fixture.user.password });
    return response.statusCode === 200 ? response.json() : undefined;
  }

  /** A complete sign-in, one TOTP step later (so its code is fresh and its factor recent). */
  private async signIn(): Promise<{ access_token: string; refresh_token: string } | undefined> {
    t.clock.advanceSeconds(30);
    const login = await this.login();
    if (login === undefined) return undefined;
    const response = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, this.fixture.user.secret) }, bearer(login.mfa_token));
    return response.statusCode === 200 ? response.json() : undefined;
  }

  /** Replaces every placeholder string anywhere in a value. */
  async fill(value: unknown): Promise<unknown> {
    if (typeof value === 'string') {
      const match = markPattern.exec(value);
      return match !== null && (placeholders as readonly string[]).includes(match[1]!) ? this.get(match[1] as Placeholder) : value;
    }
    if (Array.isArray(value)) return Promise.all(value.map((item) => this.fill(item)));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) Object.defineProperty(out, key, { value: await this.fill(item), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return value;
  }
}

function sidOf(token: string): string | undefined {
  try {
    return decodeJwt(token)['sid'] as string | undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Generators

/** What a real HTTP parser lets through in a header value: tab, visible ASCII, obs-text. */
const headerChar = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09), fc.integer({ min: 0x80, max: 0xff })).map((code) => String.fromCharCode(code));
const headerValue = fc.string({ unit: headerChar, maxLength: 300 });

const hostileStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202e\u2066',
  '\uFEFF123456',
  '١٢٣٤٥٦',
  '１２３４５６',
  'ﬀﬁ',
  'İıſK',
  'e\u0301\u0301\u0301',
  '\ud800',
  '\udfff\ud800',
  '😀'.repeat(40),
  "' OR '1'='1' --",
  '"; DROP TABLE users; --',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00%2e%2e%2f',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'NaN',
  '-0',
  '1e309',
  '9'.repeat(400),
  '000000',
  '123456',
  'AAAAA-AAAAA-AAAAA-AAAAA',
  'tfr_' + 'A'.repeat(43),
  'tfd_' + 'A'.repeat(43),
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  '+14155550123',
  'a@b.c',
  'totp',
  'sms',
  'email',
  'webauthn',
  'recovery',
  'public-key',
);

const hugeString = fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }), fc.integer({ min: 50, max: 9000 })).map(([piece, times]) => piece.repeat(times));

const weirdString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 2, arbitrary: hostileStrings },
  { weight: 2, arbitrary: fc.constantFrom(...placeholders.map(mark)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
);

const scalar = fc.oneof(weirdString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt().map(String));

/** A WebAuthn-shaped credential with random (often undecodable) parts. */
const b64urlish = fc.oneof(fc.base64String({ maxLength: 200 }).map((text) => text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')), weirdString);
const clientData = fc
  .record({ type: fc.constantFrom('webauthn.get', 'webauthn.create', 'x'), challenge: b64urlish, origin: fc.constantFrom('http://twofold.test', 'https://evil.example', ''), crossOrigin: fc.boolean() }, { requiredKeys: [] })
  .map((data) => Buffer.from(JSON.stringify(data)).toString('base64url'));
const credential = fc.record(
  {
    id: b64urlish,
    rawId: b64urlish,
    type: fc.constantFrom('public-key', 'password', ''),
    response: fc.record(
      { clientDataJSON: fc.oneof(clientData, b64urlish), authenticatorData: b64urlish, signature: b64urlish, attestationObject: b64urlish, userHandle: b64urlish, transports: fc.array(weirdString, { maxLength: 3 }) },
      { requiredKeys: [] },
    ),
    clientExtensionResults: fc.dictionary(weirdString, scalar, { maxKeys: 2 }),
    authenticatorAttachment: fc.constantFrom('platform', 'cross-platform', 'x'),
  },
  { requiredKeys: [] },
);

/** Values a real client would send for a field: with these the runs get past validation into the flows. */
const realistic: Record<string, fc.Arbitrary<unknown>> = {
  username: fc.oneof(fc.constant(mark('username')), fc.stringMatching(/^[a-z][a-z0-9._-]{2,20}$/)),
  password: fc.oneof(fc.constant(mark('password')), fc.constant('correct horse battery staple'), fc.string({ minLength: 12, maxLength: 40 })),
  current_password: fc.oneof(fc.constant(mark('password')), fc.string({ minLength: 12, maxLength: 40 })),
  new_password: fc.oneof(fc.constantFrom('a brand new fuzzed passphrase', 'password1234', 'short'), fc.string({ minLength: 12, maxLength: 60 })),
  email: fc.oneof(fc.constant(mark('email')), fc.emailAddress()),
  phone: fc.oneof(fc.constant(mark('phone')), fc.stringMatching(/^\+[1-9][0-9]{6,14}$/), fc.constantFrom('+1 (415) 555-0123', '004915112345678', '+999999999999999999')),
  type: fc.constantFrom('totp', 'sms', 'email', 'webauthn', 'recovery', 'TOTP', ''),
  label: fc.oneof(fc.constant(null), fc.string({ maxLength: 64 }), fc.string({ unit: 'binary', maxLength: 70 })),
  code: fc.oneof(fc.constant(mark('totp')), fc.stringMatching(/^[0-9]{6}$/), fc.constantFrom('', ' 123456', '12345', '1234567', mark('recovery'))),
  recovery_code: fc.oneof(fc.constant(mark('recovery')), fc.stringMatching(/^[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$/), fc.constant(mark('totp'))),
  factor_id: fc.constantFrom(mark('factor'), mark('passkey-factor'), mark('pending-factor'), mark('victim-factor'), 'fac_doesnotexist', 'chl_x'),
  challenge_id: fc.constantFrom(mark('passkey-challenge'), mark('passkey-challenge'), 'chl_doesnotexist', mark('factor')),
  credential,
  device_token: fc.constantFrom(mark('device'), 'tfd_' + 'A'.repeat(43), mark('refresh')),
  remember_device: fc.oneof(fc.boolean(), fc.constantFrom('1', 'true', 1)),
  refresh_token: fc.constantFrom(mark('refresh'), mark('refresh'), mark('access'), mark('mfa'), mark('device'), 'tfr_' + 'A'.repeat(43)),
  next: fc.constantFrom('/account', '/enroll', '//evil.example', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)'),
};

function fieldValue(name: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 12, arbitrary: realistic[name] ?? weirdString },
    { weight: 6, arbitrary: weirdString },
    { weight: 3, arbitrary: scalar },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 2, arbitrary: fc.array(scalar, { maxLength: 4 }) },
    { weight: 1, arbitrary: credential },
    { weight: 1, arbitrary: hugeString },
  );
}

/** Objects with the route's real field names (and some others), valued from everything above. */
function objectWithFields(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  const names = fields.length === 0 ? ['x'] : fields;
  const known = fc.record(Object.fromEntries(names.map((name) => [name, fieldValue(name)])) as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: [] });
  const extraKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'mfa_verified', 'amr', 'acr', 'username', 'user_id', 'sub', 'csrf'), fc.string({ maxLength: 12 }));
  const extra = fc.dictionary(extraKey, fieldValue('x'), { maxKeys: 3 });
  // One run in four adds members the schema does not know (they are stripped, or refused).
  return fc.tuple(known, extra, fc.nat(3)).map(([real, more, withExtra]) => (withExtra === 0 ? Object.assign(Object.fromEntries(Object.entries(more)), real) : real));
}

const deepNesting = fc.tuple(fc.integer({ min: 50, max: 5000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);

type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string } | { kind: 'bytes'; bytes: Uint8Array };

function apiBody(fields: string[]): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
    { weight: 14, arbitrary: objectWithFields(fields).map((value): Body => ({ kind: 'json', value })) },
    { weight: 2, arbitrary: fc.jsonValue().map((value): Body => ({ kind: 'json', value })) },
    { weight: 2, arbitrary: fc.anything({ maxDepth: 4 }).map((value): Body => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: deepNesting.map((text): Body => ({ kind: 'raw', text })) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), hugeString).map((text): Body => ({ kind: 'raw', text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes): Body => ({ kind: 'bytes', bytes })) },
  );
}

const tokenKinds = ['mfa', 'registration', 'access', 'aal1', 'refresh', 'device', 'recovery', 'totp'] as const satisfies readonly Placeholder[];

type Auth =
  | { kind: 'none' }
  | { kind: 'token'; token: (typeof tokenKinds)[number]; scheme: string; bend: 'none' | 'truncate' | 'flip' | 'suffix' | 'double' }
  | { kind: 'raw'; value: string };

/** Routes that take the mfa_token (the others that need a token take an access token). */
const mfaRoutes = new Set(['POST /v1/mfa/verify', 'POST /v1/mfa/challenge', 'POST /v1/factors', 'POST /v1/factors/{id}/verify']);

/** Mostly a valid token of a kind the route accepts; sometimes any other kind, none, or a bent one. */
function authFor(routeName: string): fc.Arbitrary<Auth> {
  const weights: Record<(typeof tokenKinds)[number], number> = mfaRoutes.has(routeName)
    ? { mfa: 6, access: 5, registration: 3, aal1: 2, refresh: 1, device: 1, recovery: 1, totp: 1 }
    : { access: 8, aal1: 3, mfa: 1, registration: 1, refresh: 1, device: 1, recovery: 1, totp: 1 };
  const token = fc.oneof(...tokenKinds.map((kind) => ({ weight: weights[kind], arbitrary: fc.constant(kind) })));
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<Auth>({ kind: 'none' }) },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('token' as const),
        token,
        scheme: fc.oneof({ weight: 12, arbitrary: fc.constant('Bearer ') }, { weight: 1, arbitrary: fc.constantFrom('bearer ', 'BEARER  ', 'Bearer\t', 'Basic ', '', 'Bearer Bearer ', 'DPoP ') }),
        bend: fc.oneof({ weight: 12, arbitrary: fc.constant('none' as const) }, { weight: 1, arbitrary: fc.constantFrom('truncate' as const, 'flip' as const, 'suffix' as const, 'double' as const) }),
      }),
    },
    { weight: 1, arbitrary: fc.oneof(headerValue.map((value) => `Bearer ${value}`), headerValue).map((value): Auth => ({ kind: 'raw', value })) },
  );
}

const contentType = fc.oneof(
  { weight: 20, arbitrary: fc.constant<string | undefined>('application/json') },
  { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<string | undefined>(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json;;',
      'application/problem+json',
      'application/vnd.api+json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain',
      'text/html',
      'application/xml',
      '*/*',
      '',
      ';',
    ),
  },
  { weight: 1, arbitrary: headerValue },
);

const optionalHeader = (values: string[]) => fc.option(fc.oneof(fc.constantFrom(...values), headerValue), { nil: undefined });

/** encodeURIComponent, with lone surrogates (which it refuses) made U+FFFD first. */
const encodeSegment = (value: string) => encodeURIComponent(value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

const pathId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...(['factor', 'passkey-factor', 'pending-factor', 'victim-factor', 'session', 'victim-session', 'device-id', 'passkey-challenge'] as const).map(mark)) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map(encodeSegment) },
  { weight: 1, arbitrary: hostileStrings.map(encodeSegment) },
  { weight: 1, arbitrary: fc.constantFrom('..', '%2e%2e', '%00', '%', '%zz', '%E0%A4%A', 'a'.repeat(65), 'a'.repeat(200), '..%2f..%2fetc%2fpasswd', '*', ':id', '%20', 'fac_' + 'A'.repeat(22), '') },
);

const queryString = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc
      .dictionary(fc.oneof(fc.constantFrom('limit', 'before', 'return_to', 'next', 'done', 'method'), fc.string({ maxLength: 8 })), fc.oneof(weirdString, fc.integer().map(String)), { maxKeys: 3 })
      .map((entries) => `?${new URLSearchParams(entries as Record<string, string>).toString()}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('?access_token=x', '?limit=1&limit=2', '?before=evt_%00', '?%zz', '?a[b]=c', '?' + 'x'.repeat(5000)) },
  { weight: 1, arbitrary: fc.string({ unit: headerChar, maxLength: 60 }).map((text) => `?${text.replace(/[#\s]/g, '')}`) },
);

interface ApiRequest {
  auth: Auth;
  contentType: string | undefined;
  accept: string | undefined;
  userAgent: string | undefined;
  forwardedFor: string | undefined;
  id: string;
  query: string;
  body: Body;
}

function apiRequest(route: ApiRoute): fc.Arbitrary<ApiRequest> {
  return fc.record({
    auth: authFor(`${route.method} ${route.path}`),
    contentType,
    accept: optionalHeader(['application/json', 'application/problem+json', 'text/html', '*/*', 'image/png', '']),
    userAgent: optionalHeader(['curl/8', 'Mozilla/5.0', '']),
    forwardedFor: optionalHeader(['127.0.0.1', '::1', '10.0.0.1, 127.0.0.1', 'unknown']),
    id: pathId,
    query: route.method === 'GET' ? queryString : fc.constantFrom('', '', '', '?x=1'),
    body: apiBody(route.fields),
  });
}

// ---------------------------------------------------------------------------------------------
// Turning a generated request into a real one

async function authorization(spec: Auth, secrets: RunSecrets): Promise<string | undefined> {
  if (spec.kind === 'none') return undefined;
  if (spec.kind === 'raw') return spec.value;
  let token = await secrets.get(spec.token);
  if (spec.bend === 'none' && spec.scheme.trim().toLowerCase() === 'bearer') secrets.authToken = token;
  if (spec.bend === 'truncate') token = token.slice(0, Math.max(1, token.length - 3));
  if (spec.bend === 'flip') token = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  if (spec.bend === 'suffix') token = `${token} extra`;
  if (spec.bend === 'double') token = `${token}, Bearer ${token}`;
  return `${spec.scheme}${token}`;
}

async function payloadOf(body: Body, secrets: RunSecrets): Promise<string | Buffer | undefined> {
  if (body.kind === 'none') return undefined;
  if (body.kind === 'raw') return body.text;
  if (body.kind === 'bytes') return Buffer.from(body.bytes);
  const filled = await secrets.fill(body.value);
  return JSON.stringify(filled) ?? '';
}

// ---------------------------------------------------------------------------------------------
// What every answer is held to

const stableCodes = new Set(Object.keys(errorCatalog).filter((code) => code !== 'internal_error'));
const tokenPattern = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]*|tfr_[A-Za-z0-9_-]{20,}|tfd_[A-Za-z0-9_-]{20,}|"(access_token|refresh_token|mfa_token|device_token|recovery_codes)"/;
const internals = /\n\s+at |node_modules|SqliteError|DatabaseError|TypeError|ReferenceError|\/work\/|src\/(flows|core|http|store|ui)\//;

function describeRequest(options: InjectOptions, response: LightMyRequestResponse): string {
  const payload = options.payload === undefined ? '' : String(options.payload).slice(0, 300);
  return `${options.method} ${String(options.url).slice(0, 200)} ${JSON.stringify(options.headers).slice(0, 400)} ${payload}\n→ ${response.statusCode} ${response.headers['content-type'] ?? ''} ${response.body.slice(0, 400)}`;
}

/** Throws (with the request and the answer) when an API answer breaks the contract. */
function checkApiAnswer(options: InjectOptions, response: LightMyRequestResponse, issued: string[]): void {
  const where = describeRequest(options, response);
  const fail = (why: string) => {
    throw new Error(`${why}\n${where}`);
  };
  if (response.statusCode >= 500) fail('a 5xx');
  if (internals.test(response.body)) fail('internals in the answer');
  if (response.statusCode < 400) return;
  if (!String(response.headers['content-type']).startsWith('application/problem+json')) fail('a 4xx that is not application/problem+json');
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(response.body) as Record<string, unknown>;
  } catch {
    return fail('a problem document that is not JSON');
  }
  const code = String(problem['code']);
  if (!stableCodes.has(code)) fail(`an unknown problem code ${code}`);
  if (problem['type'] !== `urn:twofold:error:${code}` || problem['status'] !== response.statusCode) fail('a problem document whose type/status disagree');
  if (code !== 'insufficient_authentication' && errorCatalog[code as keyof typeof errorCatalog]?.status !== response.statusCode) fail(`${code} with a status other than the contract's`);
  if (typeof problem['title'] !== 'string' || typeof problem['detail'] !== 'string') fail('a problem document without title/detail');
  if (tokenPattern.test(response.body)) fail('a token in an error answer');
  for (const secret of issued) if (secret.length >= 6 && response.body.includes(secret)) fail('a secret of this run echoed in an error answer');
  if (response.headers['set-cookie'] !== undefined) fail('an error answer that sets a cookie');
}

// ---------------------------------------------------------------------------------------------

describe('the fuzzed route table', () => {
  it('covers every API route of /openapi.json and every page form', () => {
    expect(apiRoutes.length).toBeGreaterThanOrEqual(25);
    expect(apiRoutes.map((route) => `${route.method} ${route.path}`)).toEqual(
      expect.arrayContaining(['POST /v1/register', 'POST /v1/mfa/verify', 'DELETE /v1/sessions/{id}', 'POST /v1/password/reset', 'DELETE /v1/trusted-devices/{id}', 'GET /v1/me/events']),
    );
    expect(pageRoutes).toEqual(expect.arrayContaining(['/sign-up', '/sign-in', '/sign-in/verify', '/sign-in/challenge', '/enroll/confirm', '/forgot-password', '/reset-password', '/account/password']));
  });
});

describe.each(apiRoutes.map((route, index) => [`${route.method} ${route.path}`, route, index] as const))('fuzz %s', (name, route, index) => {
  it(`never 5xx, always a problem document for 4xx, never a token in an error (seed ${seed + index}, ${numRuns} runs)`, { timeout: 180_000 }, async () => {
    const fixture = await buildFixture();
    await fc.assert(
      fc.asyncProperty(apiRequest(route), async (request) => {
        const secrets = new RunSecrets(fixture);
        const headers: Record<string, string> = {};
        const authHeader = await authorization(request.auth, secrets);
        if (authHeader !== undefined) headers['authorization'] = authHeader;
        if (request.contentType !== undefined) headers['content-type'] = request.contentType;
        if (request.accept !== undefined) headers['accept'] = request.accept;
        if (request.userAgent !== undefined) headers['user-agent'] = request.userAgent;
        if (request.forwardedFor !== undefined) headers['x-forwarded-for'] = request.forwardedFor;
        const id = String(await secrets.fill(request.id));
        const payload = await payloadOf(request.body, secrets);
        const options: InjectOptions = { method: route.method, url: `${route.path.replace('{id}', id)}${request.query}`, headers, ...(payload === undefined ? {} : { payload }) };
        const response = await t.app.inject(options);
        count(name, response);
        checkApiAnswer(options, response, secrets.issued);
      }),
      { seed: seed + index, numRuns },
    );
    // Whatever the fuzzer did, the server still serves a complete sign-in.
    const user = await signUp(t, { username: uniqueUsername(`after${index}`) });
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })).statusCode, `after fuzzing ${name}`).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// The page forms

type CsrfMode = 'valid' | 'missing' | 'wrong' | 'field only' | 'cookie only';
type PageSession = 'none' | 'pending' | 'registration' | 'signed in' | 'garbage';

interface PageRequest {
  csrf: CsrfMode;
  session: PageSession;
  junkCookie: string | undefined;
  contentType: string | undefined;
  id: string;
  query: string;
  body: { kind: 'form'; entries: Array<[string, unknown]> } | { kind: 'raw'; text: string } | { kind: 'json'; value: Record<string, unknown> } | { kind: 'none' };
}

/** A form field's value as text (a browser sends nothing else). */
const formValue = (name: string) =>
  fc.oneof(
    { weight: 12, arbitrary: (realistic[name] ?? weirdString).map((value) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''))) },
    { weight: 6, arbitrary: weirdString },
    { weight: 1, arbitrary: hugeString },
  );
const formEntries = fc
  .tuple(
    fc.record(Object.fromEntries(pageFields.map((name) => [name, formValue(name)])) as Record<string, fc.Arbitrary<string>>, { requiredKeys: [] }),
    fc.array(fc.tuple(fc.oneof(fc.constantFrom(...pageFields), fc.string({ unit: 'binary', maxLength: 12 })), weirdString), { maxLength: 3 }),
  )
  .map(([known, extra]): Array<[string, unknown]> => [...Object.entries(known), ...extra]);

/** The browser state a form expects: a pending sign-in for /sign-in/…, a signed-in one for the account forms. */
function sessionFor(path: string): fc.Arbitrary<PageSession> {
  const expected: PageSession = path.startsWith('/sign-in/') ? 'pending' : ['/sign-up', '/sign-in', '/forgot-password', '/reset-password'].includes(path) ? 'none' : 'signed in';
  return fc.oneof({ weight: 8, arbitrary: fc.constant(expected) }, { weight: 1, arbitrary: fc.constantFrom<PageSession>('none', 'pending', 'registration', 'signed in', 'garbage') });
}

function pageRequest(path: string): fc.Arbitrary<PageRequest> {
  return fc.record({
    csrf: fc.oneof({ weight: 12, arbitrary: fc.constant<CsrfMode>('valid') }, { weight: 1, arbitrary: fc.constantFrom<CsrfMode>('missing', 'wrong', 'field only', 'cookie only') }),
    session: sessionFor(path),
    junkCookie: fc.option(
      fc.oneof(fc.constantFrom('a=b', '=', ';;;', 'x=%zz', '__Host-twofold-access=', '__Host-twofold-refresh=tfr_x', '__Host-twofold-return=https://evil.example'), fc.string({ unit: headerChar, maxLength: 60 })),
      { nil: undefined, freq: 6 },
    ),
    contentType: fc.oneof(
      { weight: 16, arbitrary: fc.constant<string | undefined>('application/x-www-form-urlencoded') },
      { weight: 2, arbitrary: fc.constantFrom<string | undefined>(undefined, 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=iso-8859-1', '') },
    ),
    id: pathId,
    query: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryString }),
    body: fc.oneof(
      { weight: 12, arbitrary: formEntries.map((entries) => ({ kind: 'form' as const, entries })) },
      { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), hugeString).map((text) => ({ kind: 'raw' as const, text })) },
      { weight: 1, arbitrary: objectWithFields(pageFields).map((value) => ({ kind: 'json' as const, value })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    ),
  });
}

const csrfToken = 'C'.repeat(43);

async function pageCookies(request: PageRequest, secrets: RunSecrets): Promise<string> {
  const cookies: string[] = [];
  if (request.csrf === 'valid' || request.csrf === 'cookie only' || request.csrf === 'wrong') cookies.push(`__Host-twofold-csrf=${csrfToken}`);
  if (request.session === 'pending') cookies.push(`__Host-twofold-pending=${(secrets.authToken = await secrets.get('mfa'))}`);
  if (request.session === 'registration') cookies.push(`__Host-twofold-pending=${(secrets.authToken = await secrets.get('registration'))}`);
  if (request.session === 'signed in') {
    secrets.authToken = await secrets.get('access');
    cookies.push(`__Host-twofold-access=${secrets.authToken}`, `__Host-twofold-refresh=${await secrets.get('refresh')}`);
  }
  if (request.session === 'garbage') cookies.push('__Host-twofold-access=eyJ.garbage.x', '__Host-twofold-pending=nope', '__Host-twofold-refresh=tfr_nope');
  if (request.junkCookie !== undefined) cookies.push(request.junkCookie);
  return cookies.join('; ');
}

async function pagePayload(request: PageRequest, secrets: RunSecrets): Promise<string | undefined> {
  const csrfField: Array<[string, string]> = request.csrf === 'valid' || request.csrf === 'field only' ? [['csrf', csrfToken]] : request.csrf === 'wrong' ? [['csrf', 'W'.repeat(43)]] : [];
  switch (request.body.kind) {
    case 'none':
      return undefined;
    case 'raw':
      return `${request.body.text}&${new URLSearchParams(csrfField).toString()}`;
    case 'json':
      return JSON.stringify({ ...((await secrets.fill(request.body.value)) as Record<string, unknown>), ...Object.fromEntries(csrfField) });
    case 'form': {
      const entries: Array<[string, string]> = [];
      for (const [key, value] of request.body.entries) entries.push([key, String(await secrets.fill(value))]);
      return new URLSearchParams([...csrfField, ...entries]).toString();
    }
  }
}

/** Text a request carried itself (a page may show a person's own input back in its form). */
function carried(options: InjectOptions): string[] {
  const payload = options.payload === undefined ? '' : String(options.payload);
  const values = [payload];
  try {
    for (const [key, value] of new URLSearchParams(payload)) values.push(key, value);
  } catch {
    // not a form
  }
  return values;
}

function checkPageAnswer(path: string, options: InjectOptions, response: LightMyRequestResponse, issued: string[]): void {
  // A URL that, once normalized (e.g. "/account/factors/../rename"), names no page is the API's business.
  if (!new URL(options.url as string, 'http://twofold.test').pathname.startsWith(path)) return checkApiAnswer(options, response, []);
  const where = describeRequest(options, response);
  const fail = (why: string) => {
    throw new Error(`${why}\n${where}`);
  };
  if (response.statusCode >= 500) fail('a 5xx');
  if (internals.test(response.body)) fail('internals in the answer');
  const type = String(response.headers['content-type'] ?? '');
  if (response.statusCode >= 300 && response.statusCode < 400) {
    const location = String(response.headers.location ?? '');
    // No open redirect: a page only ever sends people to a local path (no allow-list is configured here).
    if (!location.startsWith('/') || new URL(location, 'http://twofold.test').origin !== 'http://twofold.test') fail(`a redirect off the site: ${location}`);
  } else if (pageScriptEndpoints.has(path) && type.startsWith('application/json')) {
    // What the page script asks for (passkey request options): those, or why not — never anything else.
    const body = JSON.parse(response.body) as Record<string, unknown>;
    const shape = response.statusCode === 200 ? ['challenge_id', 'options'] : ['code', 'message'];
    if (Object.keys(body).sort().join(',') !== shape.join(',')) fail('a page script answer of another shape');
  } else if (!type.startsWith('text/html')) {
    // Refused before any page runs, in the API's format: a malformed URL, or a token in the URL.
    const code = type.startsWith('application/problem+json') ? String((JSON.parse(response.body) as { code?: string }).code) : '';
    const beforeAnyPage = (code === 'invalid_request' && /URL is malformed/.test(response.body)) || (code === 'invalid_token' && /never accepted in the URL/.test(response.body));
    if (!beforeAnyPage) fail('a page answer that is not HTML');
  }
  // No token in a page — other than text the request itself typed into a field, shown back.
  const own = carried(options);
  const echoed = (text: string) => own.some((value) => value.includes(text));
  for (const match of response.body.matchAll(new RegExp(tokenPattern.source, 'g'))) if (!echoed(match[0])) fail(`a token in a page: ${match[0].slice(0, 40)}…`);
  for (const secret of issued) if (secret.length >= 20 && response.body.includes(secret) && !echoed(secret)) fail('a token of this run shown in a page');
  const cookies = response.headers['set-cookie'];
  for (const cookie of cookies === undefined ? [] : Array.isArray(cookies) ? cookies : [cookies]) {
    if (!/^__Host-[^=]+=/.test(cookie) || !/;\s*Secure/i.test(cookie) || !/;\s*HttpOnly/i.test(cookie) || !/;\s*SameSite=Strict/i.test(cookie) || !/;\s*Path=\/(;|$)/i.test(cookie) || /;\s*Domain=/i.test(cookie)) {
      fail(`a cookie without the __Host- attributes: ${cookie}`);
    }
  }
}

describe.each(pageRoutes.map((path, index) => [path, index] as const))('fuzz the page form POST %s', (path, index) => {
  it(`never 5xx, always HTML or a local redirect, never a token in the page (seed ${seed + 1000 + index}, ${numRuns} runs)`, { timeout: 180_000 }, async () => {
    const fixture = await buildFixture();
    await fc.assert(
      fc.asyncProperty(pageRequest(path), async (request) => {
        const secrets = new RunSecrets(fixture);
        const headers: Record<string, string> = {};
        const cookie = await pageCookies(request, secrets);
        if (cookie !== '') headers['cookie'] = cookie;
        if (request.contentType !== undefined) headers['content-type'] = request.contentType;
        const payload = await pagePayload(request, secrets);
        const id = String(await secrets.fill(request.id));
        const options: InjectOptions = { method: 'POST', url: `${path.replace(':id', id)}${request.query}`, headers, ...(payload === undefined ? {} : { payload }) };
        const response = await t.app.inject(options);
        count(`POST ${path}`, response);
        checkPageAnswer(path.split('/:id')[0]!, options, response, secrets.issued);
      }),
      { seed: seed + 1000 + index, numRuns },
    );
  });
});
