import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxUriLength, normalizeHost, normalizeRequestPath, normalizeRequestTarget, removeDotSegments } from './request-target.js';

describe('normalizeRequestTarget()', () => {
  it('FA-06: the host is lowercased without port or final dot; the method upper-cased; the query dropped', () => {
    expect(normalizeRequestTarget({ method: 'get', host: 'App.Example.COM.:8443', uri: '/A/b?x=1#f' })).toEqual({ method: 'GET', host: 'app.example.com', path: '/A/b' });
    expect(normalizeHost('[0:0::1]:443')).toBe('[::1]');
    expect(normalizeHost('10.0.0.5:80')).toBe('10.0.0.5');
  });

  it.each(['', 'a b.example.com', 'a.example.com, b.example.com', 'a.example.com:80:80', 'a.example.com:http', 'a.example.com/x', 'user@a.example.com', '[::1', '[zz]', 'a..example.com', 'ä.example', 'a.example.com\r\nX-Injected: 1'])(
    'FA-06: refuses the host %j',
    (host) => {
      expect(normalizeHost(host)).toBeUndefined();
      expect(normalizeRequestTarget({ method: 'GET', host, uri: '/' })).toBeUndefined();
    },
  );

  it.each([
    ['/admin/../x', '/x'],
    ['/%61dmin', '/admin'],
    ['/%2e%2e/admin', '/admin'],
    ['/public/%2E%2E/admin/', '/admin/'],
    ['/a/./b/.', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/../../etc', '/etc'],
    ['//admin///x', '/admin/x'],
    ['/a%7eb', '/a~b'],
    ['/a%3bb', '/a;b'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/caf\u00c3\u00a9', '/caf%C3%A9'],
    ['/a b', '/a%20b'],
    ['/100%25', '/100%25'],
    ['/%252e%252e/admin', '/%252e%252e/admin'],
    ['/a%3Fb', '/a%3Fb'],
    ['https://other.example.com/admin?x', '/admin'],
    ['http://other.example.com', '/'],
  ])('FA-06: the path of %j is judged as %j', (uri, path) => {
    expect(normalizeRequestPath(uri)).toBe(path);
  });

  it.each([
    ['an encoded slash', '/admin%2Fusers'],
    ['an encoded slash in lower case', '/public%2f..%2fadmin'],
    ['a backslash', '/public\\..\\admin'],
    ['an encoded backslash', '/public%5C..%5Cadmin'],
    ['CR LF', '/x\r\nX-Remote-User: admin'],
    ['encoded CR LF', '/x%0d%0aSet-Cookie:%20a=b'],
    ['CR LF in the query', '/x?a=\r\nb'],
    ['a NUL', '/admin\u0000.png'],
    ['an encoded NUL', '/admin%00.png'],
    ['a tab', '/a\tb'],
    ['DEL', '/a\u007fb'],
    ['a bad escape', '/a%zz'],
    ['a cut escape', '/a%4'],
    ['a character beyond a byte', '/\u2028'],
    ['the asterisk form', '*'],
    ['a relative path', 'admin'],
    ['another scheme', 'ftp://a/b'],
    ['"//" then ".." (nginx merges first, RFC 3986 does not: two readings)', '/public//../admin'],
    ['a URI over 8 KiB', `/${'a'.repeat(maxUriLength)}`],
  ])('FA-07: refuses %s', (_what, uri) => {
    expect(normalizeRequestPath(uri)).toBeUndefined();
    expect(normalizeRequestTarget({ method: 'GET', host: 'a.example.com', uri })).toBeUndefined();
  });

  it('FA-07: refuses a method that is not a token', () => {
    expect(normalizeRequestTarget({ method: 'GET /x', host: 'a.example.com', uri: '/' })).toBeUndefined();
    expect(normalizeRequestTarget({ method: '', host: 'a.example.com', uri: '/' })).toBeUndefined();
  });

  it('removeDotSegments(): the examples of RFC 3986 §5.2.4', () => {
    expect(removeDotSegments('/a/b/c/./../../g')).toBe('/a/g');
    expect(removeDotSegments('/mid/content=5/../6')).toBe('/mid/6');
  });

  const pathCharacters = fc.constantFrom('/', '.', '..', '%2e', '%2E', 'a', 'B', '%61', '~', '%', '%2F', '\\', '?', ';', ' ', '\r', '%0A', 'é', '//');
  const uris = fc.array(pathCharacters, { maxLength: 24 }).map((parts) => `/${parts.join('')}`);

  it('FA-06: property — a normalized path starts with "/" and never holds a dot segment, "//", a control character or a backslash', () => {
    fc.assert(
      fc.property(uris, (uri) => {
        const path = normalizeRequestPath(uri);
        if (path === undefined) return;
        expect(path.startsWith('/')).toBe(true);
        expect(path.split('/').slice(1)).not.toContain('..');
        expect(path.split('/').slice(1)).not.toContain('.');
        expect(path).not.toContain('//');
        // eslint-disable-next-line no-control-regex
        expect(path).not.toMatch(/[\x00-\x1f\x7f\\]/);
        expect(path).not.toMatch(/%(2[EF]|5C|0[0-9A-F]|1[0-9A-F]|7F|[46][1-9A-F]|[57][0-9A])/i);
      }),
      { numRuns: 2000 },
    );
  });

  it('FA-06: property — normalizing is idempotent (a normalized path is judged as itself)', () => {
    fc.assert(
      fc.property(uris, (uri) => {
        const path = normalizeRequestPath(uri);
        if (path !== undefined) expect(normalizeRequestPath(path)).toBe(path);
      }),
      { numRuns: 2000 },
    );
  });

  // Encoded ones in the query are left alone: a GET form's multi-line field sends %0D%0A there.
  it('FA-07: property — a raw control character anywhere, or an encoded one in the path, is always refused', () => {
    fc.assert(
      fc.property(uris, fc.integer({ min: 0, max: 0x1f }), fc.boolean(), (uri, control, encode) => {
        const character = encode ? `%${control.toString(16).padStart(2, '0')}` : String.fromCharCode(control);
        const path = encode ? uri.split(/[?#]/)[0] : uri;
        expect(normalizeRequestPath(`${path}${character}`)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});
