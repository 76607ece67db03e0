// POST /v1/register: the user, the per-user TOTP secret stored encrypted, the
// mfa_token that can only confirm it, and the password policy (PW-01..PW-05).
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, postJson, registerUser, strongPassword, uniqueUsername } from '../helpers/flow.js';
import { startTestTwofold, testPublicUrl, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

describe('POST /v1/register', () => {
  it('answers 201 with the user, an mfa_token, next "enroll" and the TOTP enrollment', async () => {
    const username = uniqueUsername('Reg');
    const response = await postJson(t.app, '/v1/register', { username, password: strongPassword, email: 'Someone@Example.COM', phone: '+1 415 555 0123' });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(body).toMatchObject({
      user: { username: username.toLowerCase(), email: 'Someone@example.com', phone: '+14155550123' },
      expires_in: 300,
      next: 'enroll',
      totp: { type: 'totp', status: 'pending' },
    });
    expect(body.user.id).toMatch(/^usr_/);
    expect(body.totp.factor_id).toMatch(/^fac_/);
    expect(body.totp.qr_svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(Object.keys(body).sort()).toEqual(['expires_in', 'mfa_token', 'next', 'totp', 'user']);
  });

  it('OT-01/OT-02: a 160-bit base32 secret in an otpauth URI that authenticator apps accept', async () => {
    const { body, secret, username } = await registerUser(t);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri: string = body.totp.otpauth_uri;
    expect(uri).toBe(`otpauth://totp/Twofold:${encodeURIComponent(username)}?secret=${secret}&issuer=Twofold&algorithm=SHA1&digits=6&period=30`);
    const parsed = URI.parse(uri);
    expect(parsed).toMatchObject({ issuer: 'Twofold', label: username, algorithm: 'SHA1', digits: 6 });
    expect(parsed.secret.base32).toBe(secret);
  });

  it('the mfa_token is aal1 with typ mfa+jwt and audience <issuer>/mfa', async () => {
    const { mfaToken, userId } = await registerUser(t);
    expect(decodeProtectedHeader(mfaToken)).toMatchObject({ alg: 'EdDSA', typ: 'mfa+jwt' });
    const claims = decodeJwt(mfaToken);
    expect(claims).toMatchObject({ iss: testPublicUrl, sub: userId, aud: `${testPublicUrl}/mfa`, acr: 'aal1', amr: ['pwd'] });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(typeof claims['sid']).toBe('string');
    expect(typeof claims.jti).toBe('string');
  });

  it('OT-07/FL-09: the TOTP secret is stored only inside an AES-GCM envelope bound to its row', async () => {
    const { secret, factorId, userId } = await registerUser(t);
    const row = await t.ctx.db.selectFrom('factors').selectAll().where('id', '=', factorId).executeTakeFirstOrThrow();
    expect(row.status).toBe('pending');
    expect(row.secret_ciphertext).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(row.secret_ciphertext).not.toContain(secret);
    expect(t.ctx.secretBox.open(row.secret_ciphertext!, `totp|${factorId}|${userId}`)).toBe(secret);
    expect(() => t.ctx.secretBox.open(row.secret_ciphertext!, `totp|${factorId}|usr_someoneelse`)).toThrow();
  });

  it('PW-08: the password is stored as an argon2id hash, never in plain text', async () => {
    const { userId } = await registerUser(t, { password: 'a distinctive passphrase 42' });
    const row = await t.ctx.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    expect(row.password_hash).not.toContain('distinctive');
  });

  it('usernames are NFKC case-folded and unique: a taken one is 409 username_taken', async () => {
    const base = uniqueUsername('taken');
    await registerUser(t, { username: base });
    expectProblem(await postJson(t.app, '/v1/register', { username: base.toUpperCase(), password: strongPassword }), 409, 'username_taken');
    const fullWidth = [...base].map((c) => (/[a-z0-9]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c)).join('');
    expectProblem(await postJson(t.app, '/v1/register', { username: fullWidth, password: strongPassword }), 409, 'username_taken');
  });

  it('two registrations of one username at the same time: exactly one 201, one 409', async () => {
    const username = uniqueUsername('race');
    const responses = await Promise.all([1, 2, 3].map(() => postJson(t.app, '/v1/register', { username, password: strongPassword })));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
    const rows = await t.ctx.db.selectFrom('users').select('id').where('username', '=', username).execute();
    expect(rows).toHaveLength(1);
  });

  it.each([
    ['ab', 'too short'],
    ['a'.repeat(65), 'too long'],
    ['has space', 'space'],
    ['semi;colon', 'punctuation'],
    ['.dotfirst', 'leading dot'],
    ['emoji😀name', 'emoji'],
  ])('rejects the username %j (%s) with 400 invalid_request pointing at #/username', async (username) => {
    const body = expectProblem(await postJson(t.app, '/v1/register', { username, password: strongPassword }), 400, 'invalid_request');
    expect(body['errors']).toEqual([expect.objectContaining({ pointer: '#/username' })]);
  });

  it('accepts letters of any script, digits, ".", "_" and "-"', async () => {
    for (const username of [uniqueUsername('ünïcödé.name_'), `${uniqueUsername('x')}-élan`, uniqueUsername('用户')]) {
      expect((await postJson(t.app, '/v1/register', { username, password: strongPassword })).statusCode).toBe(201);
    }
  });

  it('rejects a malformed e-mail or phone with 400 invalid_request naming the field', async () => {
    const email = expectProblem(await postJson(t.app, '/v1/register', { username: uniqueUsername(), password: strongPassword, email: 'not-an-email' }), 400, 'invalid_request');
    expect(email['errors']).toEqual([expect.objectContaining({ pointer: '#/email' })]);
    const phone = expectProblem(await postJson(t.app, '/v1/register', { username: uniqueUsername(), password: strongPassword, phone: '0415 555' }), 400, 'invalid_request');
    expect(phone['errors']).toEqual([expect.objectContaining({ pointer: '#/phone' })]);
  });
});

describe('password policy at registration (PW-01..PW-05)', () => {
  const weak = async (password: string, username = uniqueUsername()) => {
    const body = expectProblem(await postJson(t.app, '/v1/register', { username, password }), 400, 'weak_password');
    return (body['reasons'] as Array<{ code: string; message: string }>).map((reason) => reason.code);
  };

  it('PW-01: 11 code points are refused, 12 accepted; 11 × "é" (22 bytes) is still too short', async () => {
    expect(await weak('kettletram5')).toContain('too_short');
    expect((await postJson(t.app, '/v1/register', { username: uniqueUsername(), password: 'kettle tram5' })).statusCode).toBe(201);
    expect(await weak('é'.repeat(11))).toContain('too_short');
    expect(await weak('e\u0301'.repeat(11))).toContain('too_short'); // decomposed: NFKC first, then count
  });

  it('PW-02: 128 code points accepted, 129 refused as too_long, never truncated', async () => {
    const long = 'the quick brown fox jumps over the lazy dog '.repeat(3).slice(0, 128);
    const user = await registerUser(t, { password: long });
    expect(await weak(`${long}x`)).toEqual(['too_long']);
    // Never truncated: the first 72 characters (bcrypt's limit) are not the password.
    const login = await postJson(t.app, '/v1/login', { username: user.username, password: long.slice(0, 72) });
    expectProblem(login, 401, 'invalid_credentials');
  });

  it('PW-02: a 1 MB password is refused before any hashing, as 413 payload_too_large', async () => {
    const started = process.hrtime.bigint();
    const response = await postJson(t.app, '/v1/register', { username: uniqueUsername(), password: 'x'.repeat(1024 * 1024) });
    expectProblem(response, 413, 'payload_too_large');
    // Not a timing assertion on the machine: the hasher was never asked to work.
    expect(t.twofold.hashLimiter.inFlight).toBe(0);
    expect(process.hrtime.bigint() - started).toBeGreaterThan(0n);
  });

  it('PW-03/04: any Unicode, spaces and emoji round-trip; no composition rules', async () => {
    const emoji = 'mon mot de passe 🔐 ünïcødé';
    const user = await registerUser(t, { password: emoji });
    expect((await postJson(t.app, '/v1/login', { username: user.username, password: emoji })).statusCode).toBe(200);
    expect((await postJson(t.app, '/v1/register', { username: uniqueUsername(), password: 'purplemonkeydish' })).statusCode).toBe(201);
  });

  it('PW-03: the same passphrase in composed and decomposed form is one password (NFKC)', async () => {
    const user = await registerUser(t, { password: 'caf\u00e9 au lait forever' });
    expect((await postJson(t.app, '/v1/login', { username: user.username, password: 'cafe\u0301 au lait forever' })).statusCode).toBe(200);
  });

  it('PW-05: common passwords, with digits or leetspeak added, are refused with a reason', async () => {
    expect(await weak('password1234')).toContain('common');
    expect(await weak('P@ssw0rd1234!')).toContain('common');
    expect(await weak('Dragon2024!!!!')).toContain('common');
    expect(await weak('qwerty123456')).toContain('common');
  });

  it('PW-05: passwords built from the username or the service name are refused', async () => {
    const username = uniqueUsername('jonathan');
    expect(await weak(`${username}2024!!`, username)).toContain('contains_username');
    expect(await weak('Twofold2024!!!')).toContain('contains_service_name');
  });

  it('PW-05: repetitive and sequential passwords are refused', async () => {
    expect(await weak('aaaaaaaaaaaaaa')).toContain('repetitive');
    expect(await weak('abcabcabcabc')).toContain('repetitive');
    expect(await weak('abcdefghijklmn')).toContain('sequential');
  });

  it('every reason has a human-readable message; the detail names them all', async () => {
    const response = await postJson(t.app, '/v1/register', { username: uniqueUsername(), password: 'password' });
    const body = expectProblem(response, 400, 'weak_password');
    const reasons = body['reasons'] as Array<{ code: string; message: string }>;
    expect(reasons.map((r) => r.code).sort()).toEqual(['common', 'too_short']);
    for (const reason of reasons) expect(body['detail']).toContain(reason.message);
  });

  it('a refused registration writes nothing', async () => {
    const username = uniqueUsername();
    await weak('password', username);
    expect(await t.ctx.db.selectFrom('users').select('id').where('username', '=', username).execute()).toEqual([]);
  });
});

describe('the registration mfa_token can do one thing only', () => {
  it('FL-01: it cannot call /v1/me, list factors or verify a code at /v1/mfa/verify for tokens', async () => {
    const { mfaToken, secret } = await registerUser(t);
    expectProblem(await getJson(t.app, '/v1/me', bearer(mfaToken)), 401, 'invalid_token');
    expectProblem(await getJson(t.app, '/v1/factors', bearer(mfaToken)), 401, 'invalid_token');
    // No active factor yet: /v1/mfa/verify has nothing to verify against; only the factor confirmation works.
    const { generateTotpCode, totpStepAt } = await import('../../src/core/totp/verify.js');
    const code = generateTotpCode(secret, totpStepAt(t.clock.now()));
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { code }, bearer(mfaToken)), 401, 'invalid_code');
  });
});
