// A real Better Auth (from npm) on SQLite or PostgreSQL, driven through its own server API: people
// sign up with e-mail and password and enroll TOTP with the twoFactor plugin exactly as its
// endpoints do it. The database it leaves (the SQLite file, or the PostgreSQL database's URL) is
// what `twofold import --from better-auth` reads.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { twoFactor } from 'better-auth/plugins/two-factor';
import type { LightMyRequestResponse } from 'fastify';
import { TOTP, URI } from 'otpauth';
import { expect } from 'vitest';
import { bearer, postJson } from './flow.js';
import type { TestTwofold } from './twofold.js';

export interface BetterAuthPerson {
  email: string;
  password: string;
  name: string;
  /** Enroll TOTP; 'unconfirmed' starts enrollment without ever confirming a code. */
  totp?: 'confirmed' | 'unconfirmed';
}

export interface BetterAuthExport {
  /** The SQLite file, or the PostgreSQL URL. */
  file: string;
  secret: string;
  /** The authenticator-app entry each TOTP person scanned (from Better Auth's own totpURI). */
  authenticators: Map<string, TOTP>;
}

function openDatabase(location: string): Database.Database | pg.Pool | mysql.Pool {
  if (location.startsWith('postgres://')) return new pg.Pool({ connectionString: location, max: 2 });
  if (location.startsWith('mysql://')) return mysql.createPool({ uri: location, connectionLimit: 2, timezone: 'Z' });
  return new Database(location);
}

/** On SQLite in `dir`, or in the PostgreSQL or MySQL database at `databaseUrl`. */
export async function makeBetterAuthExport(dir: string, people: BetterAuthPerson[], options: { databaseUrl?: string } = {}): Promise<BetterAuthExport> {
  const file = options.databaseUrl ?? join(dir, 'better-auth.db');
  const secret = 'better-auth-secret-for-the-import-test-0123456789';
  const db = openDatabase(file);
  const auth = betterAuth({ database: db, secret, baseURL: 'http://localhost:3000', emailAndPassword: { enabled: true }, plugins: [twoFactor()], logger: { disabled: true } });
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  const authenticators = new Map<string, TOTP>();
  for (const person of people) {
    const signedUp = await auth.api.signUpEmail({ body: { email: person.email, password: person.password, name: person.name }, returnHeaders: true });
    const cookie = signedUp.headers.get('set-cookie')?.split(';')[0];
    if (cookie === undefined) throw new Error('Better Auth set no session cookie');
    if (person.totp === undefined) continue;
    const headers = new Headers({ cookie });
    const enabled = await auth.api.enableTwoFactor({ body: { password: person.password }, headers });
    if (!('totpURI' in enabled)) throw new Error('Better Auth enabled no TOTP');
    const totp = URI.parse(enabled.totpURI);
    if (!(totp instanceof TOTP)) throw new Error('Better Auth gave no TOTP URI');
    if (person.totp === 'confirmed') {
      await auth.api.verifyTOTP({ body: { code: totp.generate() }, headers });
      authenticators.set(person.email, totp);
    }
  }
  if (db instanceof Database) db.close();
  else await db.end();
  return { file, secret, authenticators };
}

/** An imported Better Auth person signs in to Twofold: their old password, then a code from the authenticator entry they had. */
export async function signInAsImported(t: TestTwofold, exported: BetterAuthExport, person: { email: string; password: string }, username: string): Promise<LightMyRequestResponse> {
  const login = await postJson(t.app, '/v1/login', { username, password: person.password });
  expect(login.statusCode, login.body).toBe(200);
  expect(login.json()).toMatchObject({ next: 'verify', factors: [{ type: 'totp' }] });
  const code = exported.authenticators.get(person.email)!.generate({ timestamp: t.clock.now() });
  const verified = await postJson(t.app, '/v1/mfa/verify', { code }, bearer(login.json().mfa_token));
  expect(verified.statusCode, verified.body).toBe(200);
  return verified;
}
