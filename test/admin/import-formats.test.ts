// Importing from Supabase (its auth schema in a real PostgreSQL, exported with psql \copy as the
// README documents, one factor encrypted as GoTrue's database encryption does), Auth0 (bulk
// export / import NDJSON), Keycloak (realm export JSON) and Twofold's own CSV: each person signs
// in with their old password and authenticator entry.
import { execFileSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashRaw } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, makeTempDir, testDatabaseUrl, withClient } from '../helpers/backend.js';
import { expectProblem, postJson } from '../helpers/flow.js';
import { encryptLikeGoTrue, gotrueTestKey } from '../helpers/gotrue-encryption.js';
import { importFile, signInImported, storedHashOf } from '../helpers/import-run.js';
import { commandAvailable, requirement } from '../helpers/requirements.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
let dir: { path: string; dispose(): void };
beforeAll(async () => {
  t = await startTestTwofold();
  dir = makeTempDir('twofold-import-');
});
afterAll(async () => {
  await t.close();
  dir.dispose();
});

const b64 = (bytes: Buffer) => bytes.toString('base64');
const phc64 = (bytes: Buffer) => b64(bytes).replace(/=+$/, '');

const supabaseRuns = requirement('Supabase import test (PostgreSQL + psql)', testDatabaseUrl !== undefined && commandAvailable('psql'), 'set TWOFOLD_TEST_DATABASE_URL and install postgresql-client');

describe.runIf(supabaseRuns)('twofold import --from supabase', () => {
  it('AD-03, AD-30: users and verified TOTP factors (one encrypted by GoTrue) from Supabase\'s auth schema, exported by psql \\copy, sign in with bcrypt passwords and their authenticator', async () => {
    const database = await createPostgresDatabase();
    try {
      const totpSecret = new Secret({ size: 20 }).base32;
      // Hedy's factor was written with GoTrue's database encryption on (AD-30).
      const encryptedTotpSecret = new Secret({ size: 20 }).base32;
      await withClient(database.url, async (client) => {
        // The parts of Supabase's auth schema the export reads (supabase/auth migrations), and users
        // made as Supabase's own seed scripts make them: crypt(password, gen_salt('bf')).
        await client.query(`
          create extension if not exists pgcrypto;
          create schema auth;
          create type auth.factor_type as enum ('totp', 'webauthn', 'phone');
          create type auth.factor_status as enum ('unverified', 'verified');
          create table auth.users (
            instance_id uuid, id uuid primary key, aud varchar(255), role varchar(255), email varchar(255),
            encrypted_password varchar(255), email_confirmed_at timestamptz, phone text unique default null,
            phone_confirmed_at timestamptz, created_at timestamptz, updated_at timestamptz,
            banned_until timestamptz, deleted_at timestamptz, is_anonymous boolean not null default false);
          create table auth.mfa_factors (
            id uuid primary key, user_id uuid not null references auth.users(id) on delete cascade,
            friendly_name text, factor_type auth.factor_type not null, status auth.factor_status not null,
            created_at timestamptz not null, updated_at timestamptz not null, secret text, phone text);
          insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at, phone, phone_confirmed_at, created_at, updated_at) values
            ('11111111-1111-4111-8111-111111111111', 'authenticated', 'authenticated', 'grace@example.com', crypt('grace hopper cobol', gen_salt('bf', 10)), now(), '14155550123', now(), now(), now()),
            ('22222222-2222-4222-8222-222222222222', 'authenticated', 'authenticated', 'linus@example.com', crypt('linus torvalds git', gen_salt('bf', 10)), null, null, null, now(), now()),
            ('33333333-3333-4333-8333-333333333333', 'authenticated', 'authenticated', 'magic@example.com', null, now(), null, null, now(), now()),
            ('88888888-8888-4888-8888-888888888888', 'authenticated', 'authenticated', 'hedy@example.com', crypt('hedy lamarr frequency hopping', gen_salt('bf', 10)), now(), null, null, now() + interval '1 second', now());
          insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at, secret) values
            ('44444444-4444-4444-8444-444444444444', '11111111-1111-4111-8111-111111111111', 'phone app', 'totp', 'verified', now(), now(), '${totpSecret}'),
            ('55555555-5555-4555-8555-555555555555', '22222222-2222-4222-8222-222222222222', 'never confirmed', 'totp', 'unverified', now(), now(), '${new Secret({ size: 20 }).base32}'),
            ('99999999-9999-4999-8999-999999999999', '88888888-8888-4888-8888-888888888888', 'encrypted', 'totp', 'verified', now(), now(), '${encryptLikeGoTrue('99999999-9999-4999-8999-999999999999', encryptedTotpSecret, 'abc', gotrueTestKey)}');
        `);
      });
      const file = join(dir.path, 'supabase-users.csv');
      const copy = `\\copy (select u.id, u.email, u.encrypted_password, u.email_confirmed_at, u.phone, u.phone_confirmed_at, u.created_at, u.banned_until, (select string_agg(f.id || ':' || f.secret, ' ') from auth.mfa_factors f where f.user_id = u.id and f.factor_type = 'totp' and f.status = 'verified') as totp_secrets from auth.users u where u.deleted_at is null order by u.created_at) to '${file}' with (format csv, header)`;
      execFileSync('psql', [database.url, '-v', 'ON_ERROR_STOP=1', '-c', copy], { stdio: 'pipe' });

      const { summary, entries } = await importFile(t, 'supabase', file, { supabaseDecryptionKeys: `abc:${gotrueTestKey}` });
      expect(summary).toMatchObject({ read: 4, imported: 3, skipped: 1, skipped_by_reason: { no_password: 1 } });
      expect(entries.map((entry) => entry.username ?? entry.reason)).toEqual(['grace', 'linus', 'no_password', 'hedy']);
      await signInImported(t, 'hedy', 'hedy lamarr frequency hopping', encryptedTotpSecret);
      const grace = await t.ctx.db.selectFrom('users').selectAll().where('username', '=', 'grace').executeTakeFirstOrThrow();
      expect(grace).toMatchObject({ email: 'grace@example.com', phone: '+14155550123' });
      expect(grace.email_verified_at).not.toBeNull();
      expect(grace.password_hash).toMatch(/^\$2a\$10\$/);

      await signInImported(t, 'grace', 'grace hopper cobol', totpSecret);
      expect(await storedHashOf(t, 'grace')).toMatch(/^\$argon2id\$/);
      // An unconfirmed Supabase factor is not carried: Linus enrolls on his next sign-in.
      const linus = await postJson(t.app, '/v1/login', { username: 'linus', password: 'linus torvalds git' });
      expect(linus.json()).toMatchObject({ next: 'enroll' });
    } finally {
      await database.dispose();
    }
  });
});

describe('twofold import --from auth0', () => {
  it('AD-03: bulk export + password hash export (bcrypt), and the import format\'s custom PBKDF2 hash and TOTP factor, sign in', async () => {
    const totpSecret = new Secret({ size: 20 }).base32;
    const salt = randomBytes(16);
    const pbkdf2 = pbkdf2Sync('barbara liskov clu', salt, 10_000, 64, 'sha512');
    const lines = [
      // The bulk user export joined with the password hash export (Mongo-style _id there).
      { user_id: 'auth0|5f1a', email: 'ken@example.com', email_verified: true, username: 'ken', created_at: '2021-03-04T05:06:07.000Z', passwordHash: await bcryptHash('ken thompson unix', 10) },
      // The bulk import format with a PHC PBKDF2 custom hash and a TOTP enrollment.
      {
        user_id: 'auth0|6a2b',
        email: 'barbara@example.com',
        email_verified: false,
        custom_password_hash: { algorithm: 'pbkdf2', hash: { value: `$pbkdf2-sha512$i=10000,l=64$${phc64(salt)}$${phc64(pbkdf2)}`, encoding: 'utf8' } },
        mfa_factors: [{ totp: { secret: totpSecret } }],
      },
      { user_id: 'google-oauth2|1234', email: 'social@example.com', email_verified: true },
    ];
    const file = join(dir.path, 'auth0.ndjson');
    writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const { summary, entries } = await importFile(t, 'auth0', file);
    expect(summary).toMatchObject({ read: 3, imported: 2, skipped_by_reason: { no_password: 1 } });
    expect(entries.map((entry) => entry.username ?? entry.reason)).toEqual(['ken', 'barbara', 'no_password']);
    const ken = await postJson(t.app, '/v1/login', { username: 'ken', password: 'ken thompson unix' });
    expect(ken.statusCode, ken.body).toBe(200);
    expect(await storedHashOf(t, 'ken')).toMatch(/^\$argon2id\$/);
    expect(await storedHashOf(t, 'barbara')).toMatch(/^\$pbkdf2-sha512\$/);
    await signInImported(t, 'barbara', 'barbara liskov clu', totpSecret);
    expect(await storedHashOf(t, 'barbara')).toMatch(/^\$argon2id\$/);
  });
});

describe('twofold import --from keycloak', () => {
  it('AD-03: a realm export with PBKDF2-SHA256 and argon2 passwords and an OTP credential signs in with the old authenticator entry', async () => {
    const otpText = 'Kc7pQ2rVx9LmN4bT8wYz';
    const salt = randomBytes(16);
    const argonSalt = randomBytes(16);
    const argonRaw = await hashRaw('edsger dijkstra goto', { algorithm: 2, memoryCost: 7168, timeCost: 5, parallelism: 1, salt: argonSalt, outputLen: 32 });
    const realm = {
      id: 'acme',
      realm: 'acme',
      enabled: true,
      users: [
        {
          id: '0f5c3e5c-1d1e-4b5a-9f5e-6b1a2c3d4e5f',
          createdTimestamp: 1_700_000_000_000,
          username: 'alan',
          enabled: true,
          emailVerified: true,
          email: 'alan@example.com',
          credentials: [
            {
              type: 'password',
              userLabel: 'My password',
              createdDate: 1_700_000_000_000,
              secretData: JSON.stringify({ value: b64(pbkdf2Sync('alan turing machine', salt, 27_500, 64, 'sha256')), salt: b64(salt), additionalParameters: {} }),
              credentialData: JSON.stringify({ hashIterations: 27_500, algorithm: 'pbkdf2-sha256', additionalParameters: {} }),
            },
            {
              type: 'otp',
              userLabel: 'Phone',
              secretData: JSON.stringify({ value: otpText }),
              credentialData: JSON.stringify({ subType: 'totp', digits: 6, counter: 0, period: 30, algorithm: 'HmacSHA1' }),
            },
          ],
        },
        {
          id: '1a2b3c4d-0000-4000-8000-000000000001',
          username: 'edsger',
          enabled: true,
          email: 'edsger@example.com',
          credentials: [
            {
              type: 'password',
              secretData: JSON.stringify({ value: b64(argonRaw), salt: b64(argonSalt), additionalParameters: {} }),
              credentialData: JSON.stringify({
                hashIterations: 5,
                algorithm: 'argon2',
                additionalParameters: { hashLength: ['32'], memory: ['7168'], type: ['id'], version: ['1.3'], parallelism: ['1'] },
              }),
            },
          ],
        },
      ],
      clients: [{ clientId: 'after-the-users', secret: 'not a user' }],
    };
    const file = join(dir.path, 'realm.json');
    writeFileSync(file, JSON.stringify(realm, null, 2));
    const { summary } = await importFile(t, 'keycloak', file);
    expect(summary).toMatchObject({ read: 2, imported: 2, skipped: 0 });
    // Keycloak's authenticator entry: base32 of the key text's bytes.
    await signInImported(t, 'alan', 'alan turing machine', Secret.fromUTF8(otpText).base32);
    const edsger = await postJson(t.app, '/v1/login', { username: 'edsger', password: 'edsger dijkstra goto' });
    expect(edsger.statusCode, edsger.body).toBe(200);
    expectProblem(await postJson(t.app, '/v1/login', { username: 'alan', password: 'alan turing' }), 401, 'invalid_credentials');
  });
});

describe('twofold import --from csv', () => {
  it('AD-03: Twofold\'s CSV with a bcrypt hash, quoted fields and a base32 TOTP secret', async () => {
    const totpSecret = new Secret({ size: 20 }).base32;
    const file = join(dir.path, 'users.csv');
    const hash = await bcryptHash('margaret hamilton apollo', 10);
    writeFileSync(
      file,
      [
        // With the byte-order mark a spreadsheet writes.
        '\uFEFFid,username,email,email_verified,phone,password_hash,totp_secret,disabled,created_at',
        `m-1,margaret,"margaret@example.com",true,+14155550124,${hash},${totpSecret},false,2020-01-01T00:00:00Z`,
        `m-2,"quoted, name",q@example.com,false,,${hash},,false,`,
      ].join('\r\n'),
    );
    const { summary, entries } = await importFile(t, 'csv', file);
    expect(summary).toMatchObject({ read: 2, imported: 2 });
    // "quoted, name" is no valid username: one is made from the e-mail address ("q" is too short).
    expect(entries[1]!.username).toMatch(/^q-[0-9a-f]{6}$/);
    await signInImported(t, 'margaret', 'margaret hamilton apollo', totpSecret);
    const stored = await t.ctx.db.selectFrom('users').select(['created_at', 'phone']).where('username', '=', 'margaret').executeTakeFirstOrThrow();
    expect(stored).toEqual({ created_at: Date.UTC(2020, 0, 1), phone: '+14155550124' });
  });
});
