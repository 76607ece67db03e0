import { describe, expect, it } from 'vitest';
import { adminConsoleReturn, allowedReturnTo, safeLocalPath, signInReturnTarget } from './redirects.js';

describe('safeLocalPath()', () => {
  it.each(['/account', '/enroll/totp', '/account?done=verified'])('keeps the local path %s', (path) => {
    expect(safeLocalPath(path, '/fallback')).toBe(path);
  });

  it.each(['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', 'account', '', '/a b', `/${'a'.repeat(600)}`, 42, undefined])(
    'refuses %j (open redirects, schemes, relative paths)',
    (path) => {
      expect(safeLocalPath(path, '/fallback')).toBe('/fallback');
    },
  );
});

describe('allowedReturnTo()', () => {
  const allowed = ['https://app.example.com', 'http://localhost:5173'];

  it('accepts URLs on an allow-listed origin only', () => {
    expect(allowedReturnTo('https://app.example.com/callback?x=1', allowed)).toBe('https://app.example.com/callback?x=1');
    expect(allowedReturnTo('http://localhost:5173/', allowed)).toBe('http://localhost:5173/');
  });

  it.each([
    'https://app.example.com.evil.example/',
    'https://evil.example/?https://app.example.com',
    'http://app.example.com/',
    'https://app.example.com:8443/',
    'https://user:pass@app.example.com/',
    'javascript:alert(1)',
    '/account',
    'not a url',
  ])('refuses %s', (url) => {
    expect(allowedReturnTo(url, allowed)).toBeUndefined();
  });
});

describe('signInReturnTarget()', () => {
  const on = { allowedRedirectOrigins: ['https://app.example.com'], oidcEnabled: true };

  it('returns to the OpenID Provider’s interaction only when the provider is on', () => {
    expect(signInReturnTarget('/oidc/interaction/abc_DEF-123', on)).toBe('/oidc/interaction/abc_DEF-123');
    expect(signInReturnTarget('/oidc/interaction/abc', { ...on, oidcEnabled: false })).toBeUndefined();
    expect(signInReturnTarget('https://app.example.com/x', on)).toBe('https://app.example.com/x');
  });

  it.each(['/oidc/interaction/', '/oidc/interaction/a/b', '/oidc/interaction/a?x=1', '//evil.example/oidc/interaction/a', '/oidc/auth', '/account', `/oidc/interaction/${'a'.repeat(65)}`, 7])(
    'refuses %j',
    (value) => {
      expect(signInReturnTarget(value, on)).toBeUndefined();
    },
  );
});

describe('signInReturnTarget() with forward-auth', () => {
  const on = { allowedRedirectOrigins: [], oidcEnabled: false, forwardAuthEnabled: true };
  const state = 'S'.repeat(43);
  const handoff = `/v1/forward-auth/sso?rd=${encodeURIComponent('https://app.example.org/x?y=1')}&state=${state}&hop=1`;

  it('FA-57: returns to the forward-auth sign-in, or to the handoff for another domain (which check rd and state again), only when forward-auth is on', () => {
    expect(signInReturnTarget(handoff, on)).toBe(handoff);
    expect(signInReturnTarget(`/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.example.com/')}`, on)).toBeDefined();
    expect(signInReturnTarget(handoff, { ...on, forwardAuthEnabled: false })).toBeUndefined();
  });

  it.each([
    `/v1/forward-auth/sso?rd=${encodeURIComponent('https://app.example.org/')}&state=${state}`,
    `/v1/forward-auth/sso?rd=${encodeURIComponent('https://app.example.org/')}&state=short&hop=1`,
    `/v1/forward-auth/sso?rd=${encodeURIComponent('https://app.example.org/')}&state=${state}&hop=1&next=//evil`,
    `/v1/forward-auth/sso?rd=https://evil.example/&state=${state}&hop=1`,
    `//evil.example/v1/forward-auth/sso?rd=x&state=${state}&hop=1`,
    `/v1/forward-auth/sso/callback?code=x&state=${state}&rd=x`,
  ])('FA-63: refuses %j', (value) => {
    expect(signInReturnTarget(value, on)).toBeUndefined();
  });
});

describe('adminConsoleReturn()', () => {
  it.each(['/admin', '/admin/users/usr_Abc-123'])('keeps the console page %s as a place to return to after signing in', (path) => {
    expect(adminConsoleReturn(path)).toBe(path);
    expect(signInReturnTarget(path, { allowedRedirectOrigins: [], oidcEnabled: false })).toBe(path);
  });

  it.each(['/admin/', '/admin?q=x', '/admin/users/a/b', '/admin/users/', '//admin', '/account', 'https://evil.example/admin', '/admin/users/a%2f..', 7])('refuses %j', (path) => {
    expect(adminConsoleReturn(path)).toBeUndefined();
  });
});
