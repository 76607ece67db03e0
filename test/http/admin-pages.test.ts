// The admin console's pages through app.inject (on SQLite and on PostgreSQL): who gets in (nobody
// signed in → the sign-in page and back; a second factor too old → the account's step-up prompt
// and back; no role → a 403 page), what support may not do, every refusal a page with its
// message (never a 500), and user data and reasons shown as text.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRoleFromCli, revokeRoleFromCli, type AdminRole } from '../../src/admin/index.js';
import { bearer, postJson, registerUser, signUp, totpCode, uniqueUsername, type SignedUp } from '../helpers/flow.js';
import { enrollDestination, uniqueEmail } from '../helpers/otp.js';
import { lastSentCode } from '../helpers/outbox.js';
import { PageBrowser, pageCookies } from '../helpers/page-browser.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  // E-mail codes on, so the step-up prompt's choice can be checked (they are off by default).
  t = await startTestTwofold({ env: { TWOFOLD_FACTORS: 'totp,sms,email,webauthn,recovery' } });
});
afterAll(async () => t?.close());

/** A browser signed in (fresh second factor) as this user, as after the sign-in page. */
async function browserOf(user: SignedUp): Promise<PageBrowser> {
  const browser = new PageBrowser(t);
  await browser.get('/sign-in');
  browser.cookies.set(pageCookies.access, user.accessToken);
  browser.cookies.set(pageCookies.refresh, user.refreshToken);
  return browser;
}

async function userWithRole(role: AdminRole | undefined): Promise<SignedUp> {
  const user = await signUp(t);
  if (role !== undefined) await grantRoleFromCli(t.ctx, user.username, role, 'test');
  // The role is read on every call; the session stays as fresh as signing up made it.
  return user;
}

function expectPage(response: LightMyRequestResponse, status: number, where = ''): void {
  expect(response.statusCode, `${where} ${response.body.slice(0, 400)}`).toBe(status);
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  expect(response.headers['content-security-policy']).toContain("default-src 'none'");
  expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
}

async function lockedAt(userId: string): Promise<unknown> {
  return (await t.ctx.db.selectFrom('users').select('locked_at').where('id', '=', userId).executeTakeFirstOrThrow()).locked_at;
}

describe('AD-01: who gets into the admin console', () => {
  it('nobody signed in is sent to sign in and comes back to the console page that asked', async () => {
    const admin = await userWithRole('admin');
    const browser = new PageBrowser(t);
    const asked = await browser.get('/admin');
    expect(asked.statusCode).toBe(303);
    expect(asked.headers.location).toBe('/sign-in?return_to=%2Fadmin');
    expect((await browser.get(`/admin/users/${admin.userId}`)).headers.location).toBe(`/sign-in?return_to=${encodeURIComponent(`/admin/users/${admin.userId}`)}`);
    expectPage(await browser.get(asked.headers.location as string), 200);
    const password = await browser.post('/sign-in', { username: admin.username, password: admin.password });
    expect(password.headers.location).toBe('/sign-in/verify');
    t.clock.advanceSeconds(30);
    const verified = await browser.post('/sign-in/verify', { code: totpCode(t, admin.secret) });
    expect(verified.statusCode, verified.body.slice(0, 300)).toBe(303);
    expect(verified.headers.location).toBe('/admin');
    expectPage(await browser.get('/admin'), 200);
  });

  it('a second factor older than five minutes goes through the step-up prompt and back to the same page', async () => {
    const admin = await userWithRole('admin');
    const target = await signUp(t);
    const browser = await browserOf(admin);
    const path = `/admin/users/${target.userId}`;
    expectPage(await browser.get(path), 200);
    t.clock.advanceSeconds(301);
    const stale = await browser.get(path);
    expect(stale.statusCode).toBe(303);
    expect(stale.headers.location).toBe(`/account/verify?next=${encodeURIComponent(path)}`);
    const prompt = await browser.get(stale.headers.location as string);
    expectPage(prompt, 200);
    expect(prompt.body).toContain('name="next"');
    // A POST with a stale factor does not act: it takes the same detour.
    const action = await browser.post(`${path}/lock`, { reason: 'stale admin session' });
    expect(action.headers.location).toBe(`/account/verify?next=${encodeURIComponent(path)}`);
    expect(await lockedAt(target.userId)).toBeNull();
    const verified = await browser.post('/account/verify', { code: totpCode(t, admin.secret), next: path });
    expect(verified.statusCode, verified.body.slice(0, 300)).toBe(303);
    expect(verified.headers.location).toBe(path);
    expectPage(await browser.get(path), 200);
    // The search keeps its filters through the detour.
    t.clock.advanceSeconds(301);
    expect((await browser.get('/admin?q=abc&locked=yes')).headers.location).toBe(`/account/verify?next=${encodeURIComponent('/admin?q=abc&locked=yes')}`);
  });

  it('the step-up prompt on the way back to the console offers no e-mail code (requireAdmin takes none: OB-05); elsewhere it still does', async () => {
    const admin = await userWithRole('admin');
    const address = uniqueEmail();
    const enroll = await enrollDestination(t, admin.accessToken, { type: 'email', email: address });
    expect(enroll.statusCode, enroll.body).toBe(201);
    const confirm = await postJson(t.app, `/v1/factors/${enroll.json().factor_id}/verify`, { code: await lastSentCode(t, address) }, bearer(admin.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    const browser = await browserOf(admin);
    t.clock.advanceSeconds(301);
    const forAdmin = await browser.get(`/account/verify?next=${encodeURIComponent('/admin')}`);
    expectPage(forAdmin, 200);
    expect(forAdmin.body).toContain('authenticator app');
    expect(forAdmin.body).not.toContain(`value="${enroll.json().factor_id}"`);
    const forAccount = await browser.get(`/account/verify?next=${encodeURIComponent('/account')}`);
    expectPage(forAccount, 200);
    expect(forAccount.body).toContain(`value="${enroll.json().factor_id}"`);
  });

  it('a signed-in user without an admin role gets a 403 page, not the console', async () => {
    const user = await userWithRole(undefined);
    const page = await (await browserOf(user)).get('/admin');
    expectPage(page, 403);
    expect(page.body).toContain('holds no admin role');
    expect(page.body).not.toContain('role="search"');
  });
});

describe('AD-29: the header links the console only for someone holding an admin role', () => {
  const headerOf = (page: string) => /<header class="site">([\s\S]*?)<\/header>/.exec(page)![1]!;
  const linksAdmin = (page: LightMyRequestResponse) => headerOf(page.body).includes('<a href="/admin">Admin</a>');

  it('support, admin and superadmin see "Admin" beside "Account" on the account pages, and it opens the console', async () => {
    for (const role of ['support', 'admin', 'superadmin'] as const) {
      const browser = await browserOf(await userWithRole(role));
      for (const url of ['/account', '/account/events']) {
        const page = await browser.get(url);
        expectPage(page, 200, `${role} ${url}`);
        expect(linksAdmin(page), `${role} ${url}`).toBe(true);
        expect(headerOf(page.body)).toMatch(/<nav class="row" aria-label="Account"><a href="\/admin">Admin<\/a><a href="\/account">Account<\/a><form method="post" action="\/sign-out">/);
      }
      const console = await browser.get('/admin');
      expectPage(console, 200, role);
      expect(linksAdmin(console), role).toBe(true);
    }
  });

  it('a person without a role sees no link (nor on the console\'s 403 page), and nobody signed in sees none; a revoked role takes it away at the next page', async () => {
    const user = await userWithRole(undefined);
    const browser = await browserOf(user);
    const account = await browser.get('/account');
    expectPage(account, 200);
    expect(headerOf(account.body)).toContain('Sign out');
    expect(linksAdmin(account)).toBe(false);
    expect(account.body).not.toContain('href="/admin"');
    const refused = await browser.get('/admin');
    expectPage(refused, 403);
    expect(linksAdmin(refused)).toBe(false);

    const anonymous = await new PageBrowser(t).get('/sign-in');
    expectPage(anonymous, 200);
    expect(anonymous.body).not.toContain('href="/admin"');

    const former = await userWithRole('support');
    const formerBrowser = await browserOf(former);
    expect(linksAdmin(await formerBrowser.get('/account'))).toBe(true);
    await revokeRoleFromCli(t.ctx, former.userId, 'support', 'test');
    expect(linksAdmin(await formerBrowser.get('/account'))).toBe(false);
  });
});

describe('AD-01: support reads, admins act', () => {
  it('support sees a user without any action; the action page and its POST (with a valid CSRF token) are 403 pages that change nothing', async () => {
    const support = await userWithRole('support');
    const target = await signUp(t);
    const browser = await browserOf(support);
    const page = await browser.get(`/admin/users/${target.userId}`);
    expectPage(page, 200);
    expect(page.body).toContain('data-read-only');
    expect(page.body).not.toContain('data-action=');
    expect(page.body).not.toMatch(/<form[^>]*method="post"[^>]*action="\/admin/);
    expectPage(await browser.get(`/admin/users/${target.userId}/lock`), 403);
    const forced = await browser.post(`/admin/users/${target.userId}/lock`, { reason: 'support tries to act' });
    expectPage(forced, 403);
    expect(forced.body).toContain('support role only reads');
    expect(await lockedAt(target.userId)).toBeNull();
  });

  it('an admin locks and unlocks with a reason; each is one audit event naming admin, target and reason', async () => {
    const admin = await userWithRole('admin');
    const target = await signUp(t);
    const browser = await browserOf(admin);
    const confirm = await browser.get(`/admin/users/${target.userId}/lock`);
    expectPage(confirm, 200);
    expect(confirm.body).toContain('name="reason"');
    expect(confirm.body).toContain(`name="csrf" value="${browser.cookies.get(pageCookies.csrf)}"`);
    const locked = await browser.post(`/admin/users/${target.userId}/lock`, { reason: 'Suspicious sign-ins (ticket 1)' });
    expect(locked.statusCode, locked.body.slice(0, 300)).toBe(303);
    expect(locked.headers.location).toBe(`/admin/users/${target.userId}?done=lock`);
    expect(await lockedAt(target.userId)).not.toBeNull();
    const shown = await browser.get(locked.headers.location as string);
    expect(shown.body).toContain('The account is locked.');
    expect(shown.body).toContain('data-action="unlock"');
    expect((await browser.post(`/admin/users/${target.userId}/unlock`, { reason: 'Checked with the user (ticket 1)' })).statusCode).toBe(303);
    expect(await lockedAt(target.userId)).toBeNull();
    await t.ctx.auditTrail.flush();
    const reasons = t.events.filter((event) => event.userId === target.userId && JSON.stringify(event.details ?? {}).includes('(ticket 1)'));
    expect(reasons.map((event) => event.type)).toHaveLength(2);
    for (const event of reasons) expect(JSON.stringify(event.details)).toContain(admin.userId);
  });
});

describe('AD-01: an admin acting on another admin', () => {
  it('is refused with a 403 page unless a superadmin, and nothing changes', async () => {
    const admin = await userWithRole('admin');
    const other = await userWithRole('admin');
    const browser = await browserOf(admin);
    const refused = await browser.post(`/admin/users/${other.userId}/lock`, { reason: 'an admin against another' });
    expectPage(refused, 403);
    expect(refused.body).toContain('only a superadmin may act on it');
    expect(await lockedAt(other.userId)).toBeNull();
  });
});

describe('errors are pages with their message, user data is text', () => {
  it('a reason too short is said next to the field (400), with nothing done', async () => {
    const admin = await userWithRole('admin');
    const target = await signUp(t);
    const page = await (await browserOf(admin)).post(`/admin/users/${target.userId}/lock`, { reason: ' x ' });
    expectPage(page, 400);
    expect(page.body).toMatch(/<p class="error" id="reason-error">[^<]+<\/p>/);
    expect(page.body).toContain('aria-invalid="true"');
    expect(await lockedAt(target.userId)).toBeNull();
  });

  it.each([
    ['/admin?locked=maybe', 400],
    ['/admin?factor=%3Cscript%3E', 400],
    ['/admin?q=a&q=b', 400],
    ['/admin?after=not-a-cursor', 400],
    ['/admin?phone=call-me', 400],
    ['/admin?created_from=2026-02-30', 400],
    ['/admin?signed_in_to=yesterday', 400],
    [`/admin?q=${'x'.repeat(400)}`, 400],
    ['/admin/users/usr_doesnotexist', 404],
    ['/admin/users/usr_doesnotexist/end-sessions', 404],
  ])('%s → a %i page', async (url, status) => {
    const admin = await userWithRole('admin');
    const page = await (await browserOf(admin)).get(url);
    expectPage(page, status, url);
    expect(page.body).toMatch(/<p class="error" role="alert">[^<]+<\/p>/);
    expect(page.body).not.toContain('<script>');
  });

  it('a reason with markup is shown as text in the user’s events', async () => {
    const admin = await userWithRole('admin');
    const target = await signUp(t);
    const browser = await browserOf(admin);
    expect((await browser.post(`/admin/users/${target.userId}/end-sessions`, { reason: '<script>alert(1)</script> & "quotes"' })).statusCode).toBe(303);
    const page = await browser.get(`/admin/users/${target.userId}`);
    expectPage(page, 200);
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(page.body).not.toContain('<script>alert(1)');
  });

  it('the search pages on: "Next page" carries the cursor and the same filters, and the pages do not overlap', async () => {
    const admin = await userWithRole('admin');
    const prefix = uniqueUsername('paged');
    const ids = new Set<string>();
    for (let index = 0; index < 21; index += 1) ids.add((await registerUser(t, { username: `${prefix}n${index}` })).userId);
    const browser = await browserOf(admin);
    const first = await browser.get(`/admin?q=${prefix}&factor=none`);
    expectPage(first, 200);
    const next = /href="(\/admin\?[^"]+)" data-next-page/.exec(first.body)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeDefined();
    expect(new URLSearchParams(next!.slice('/admin?'.length)).get('q')).toBe(prefix);
    expect(new URLSearchParams(next!.slice('/admin?'.length)).get('factor')).toBe('none');
    const second = await browser.get(next!);
    expectPage(second, 200);
    const shown = (page: LightMyRequestResponse) => [...page.body.matchAll(/data-user-id="([^"]+)"/g)].map((match) => match[1]!);
    expect(shown(first)).toHaveLength(20);
    expect(shown(second)).toHaveLength(1);
    expect(new Set([...shown(first), ...shown(second)])).toEqual(ids);
    expect(second.body).not.toContain('data-next-page');
  });

  it('the search filters by the day of sign-up and of the last sign-in, both ends included, and the next page keeps them', async () => {
    const prefix = uniqueUsername('days');
    const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const early = await registerUser(t, { username: `${prefix}a` });
    const earlyDay = dayOf(t.clock.now());
    t.clock.advanceSeconds(3 * 86_400);
    const late = await signUp(t, { username: `${prefix}b` });
    const lateDay = dayOf(t.clock.now());
    const browser = await browserOf(late);
    await grantRoleFromCli(t.ctx, late.username, 'admin', 'test');
    const shown = (page: LightMyRequestResponse) => [...page.body.matchAll(/data-user-id="([^"]+)"/g)].map((match) => match[1]!);
    const search = async (query: string) => {
      const page = await browser.get(`/admin?q=${prefix}&${query}`);
      expectPage(page, 200, query);
      return shown(page).sort();
    };
    expect(await search(`created_from=${earlyDay}&created_to=${earlyDay}`)).toEqual([early.userId]);
    expect(await search(`created_from=${lateDay}`)).toEqual([late.userId]);
    expect(await search(`created_to=${lateDay}`)).toEqual([early.userId, late.userId].sort());
    // Only the second person ever completed a sign-in (the first registered and stopped there).
    expect(await search(`signed_in_from=${lateDay}&signed_in_to=${lateDay}`)).toEqual([late.userId]);
    expect(await search(`signed_in_to=${earlyDay}`)).toEqual([]);
    const page = await browser.get(`/admin?q=${prefix}&created_from=${earlyDay}`);
    expect(page.body).toContain(`name="created_from" type="date" value="${earlyDay}"`);
  });

  it('the search finds a user by username; filters that match nobody say so', async () => {
    const admin = await userWithRole('admin');
    const target = await signUp(t);
    const browser = await browserOf(admin);
    const found = await browser.get(`/admin?q=${encodeURIComponent(target.username)}`);
    expectPage(found, 200);
    expect(found.body).toContain(`data-user-id="${target.userId}"`);
    const none = await browser.get(`/admin?q=${encodeURIComponent(`${target.username}zzz`)}&factor=none`);
    expect(none.body).toContain('data-no-results');
  });
});
