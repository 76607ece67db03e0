// Runs an import the way `twofold import` does (same reader, same pipeline) against a test
// Twofold, and signs an imported person in with their old password and authenticator entry.
import { expect } from 'vitest';
import { TOTP } from 'otpauth';
import type { ImportSource } from '../../src/admin/import/import-record.js';
import { importUsers, type ImportReportEntry, type ImportSummary } from '../../src/admin/import/import-users.js';
import { readSourceRecords } from '../../src/admin/import/read-source.js';
import { parseSupabaseDecryptionKeys } from '../../src/admin/import/sources/supabase-encryption.js';
import { bearer, postJson } from './flow.js';
import type { TestTwofold } from './twofold.js';

export async function importFile(
  t: TestTwofold,
  source: ImportSource,
  file: string,
  options: { dryRun?: boolean; betterAuthSecret?: string; supabaseDecryptionKeys?: string } = {},
): Promise<{ summary: ImportSummary; entries: ImportReportEntry[] }> {
  const entries: ImportReportEntry[] = [];
  const supabaseDecryptionKeys = options.supabaseDecryptionKeys === undefined ? undefined : parseSupabaseDecryptionKeys(options.supabaseDecryptionKeys);
  const records = readSourceRecords(source, file, { betterAuthSecret: options.betterAuthSecret, supabaseDecryptionKeys, now: t.clock.now() });
  const summary = await importUsers(t.ctx, records, { source, dryRun: options.dryRun ?? false, onEntry: (entry) => void entries.push(entry) });
  return { summary, entries };
}

/** Password, then the code the person's existing authenticator entry shows (base32 secret); returns the access token. */
export async function signInImported(t: TestTwofold, username: string, password: string, secretBase32: string): Promise<string> {
  t.clock.advanceSeconds(30);
  const login = await postJson(t.app, '/v1/login', { username, password });
  expect(login.statusCode, login.body).toBe(200);
  expect(login.json().next).toBe('verify');
  const code = new TOTP({ secret: secretBase32, algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: t.clock.now() });
  const verified = await postJson(t.app, '/v1/mfa/verify', { code }, bearer(login.json().mfa_token));
  expect(verified.statusCode, verified.body).toBe(200);
  return verified.json().access_token as string;
}

export async function storedHashOf(t: TestTwofold, username: string): Promise<string> {
  return (await t.ctx.db.selectFrom('users').select('password_hash').where('username', '=', username).executeTakeFirstOrThrow()).password_hash;
}
