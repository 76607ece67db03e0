import fc from 'fast-check';
import safeRegex from 'safe-regex2';
import { describe, expect, it } from 'vitest';
import { compileHostPattern, hostPatternMatches } from './host-pattern.js';
import { compilePathGlob, compilePathRegex } from './path-pattern.js';

function glob(source: string): RegExp {
  const result = compilePathGlob(source);
  if (!result.ok) throw new Error(result.reason);
  return result.regex;
}

/** A reference matcher, segment by segment, written without regexes. */
function referenceMatch(pattern: string, path: string): boolean {
  const patternSegments = pattern.slice(1).split('/');
  const pathSegments = path.slice(1).split('/');
  for (const [index, segment] of patternSegments.entries()) {
    if (segment === '**') return index === 0 || pathSegments.length >= index;
    const actual = pathSegments[index];
    if (actual === undefined) return false;
    const star = segment.indexOf('*');
    if (star === -1 ? actual !== segment : actual.length < segment.length - 1 || !actual.startsWith(segment.slice(0, star)) || !actual.endsWith(segment.slice(star + 1)) || actual.includes('/')) return false;
  }
  return pathSegments.length === patternSegments.length;
}

describe('path globs', () => {
  it.each([
    ['/health', ['/health'], ['/health/', '/healthz', '/x/health']],
    ['/public/**', ['/public', '/public/', '/public/a/b/c.css'], ['/publicity', '/', '/x/public/a']],
    ['/**', ['/', '/a', '/a/b/'], []],
    ['/files/*.pdf', ['/files/a.pdf', '/files/.pdf'], ['/files/a/b.pdf', '/files/a.pdf/x', '/files/a.pdfx']],
    ['/api/*/keys', ['/api/v1/keys', '/api//keys'], ['/api/v1/v2/keys', '/api/keys']],
    ['/a.b+(c)', ['/a.b+(c)'], ['/aXb+(c)', '/a.bb(c)']],
    ['/%61dmin', ['/admin'], ['/%61dmin']],
    ['/café', ['/caf%C3%A9'], ['/café']],
    ['/dir/', ['/dir/'], ['/dir', '/dir/x']],
  ])('FA-14: %s matches %j and not %j', (source, matching, other) => {
    const regex = glob(source);
    for (const path of matching) expect(regex.test(path), path).toBe(true);
    for (const path of other) expect(regex.test(path), path).toBe(false);
  });

  it('FA-14: every compiled glob is anchored and passes the same safe-regex2 check as path_regex', () => {
    for (const source of ['/a', '/a/**', '/**', '/*/*/*.png', '/x/*/y/**']) {
      const regex = glob(source);
      expect(regex.source.startsWith('^') && regex.source.endsWith('$')).toBe(true);
      expect(safeRegex(regex)).toBe(true);
    }
  });

  it('FA-14: property — a glob matches exactly what a segment-by-segment matcher matches', () => {
    const segment = fc.constantFrom('a', 'b', 'ab', '', '*', 'a*', '*b', 'a*b', '.x');
    const patterns = fc.tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean()).map(([segments, rest]) => `/${[...segments, ...(rest ? ['**'] : [])].join('/')}`);
    const paths = fc.array(fc.constantFrom('a', 'b', 'ab', 'aab', '', '.x', 'ba'), { minLength: 1, maxLength: 6 }).map((segments) => `/${segments.join('/')}`);
    fc.assert(
      fc.property(patterns, paths, (pattern, path) => {
        const compiled = compilePathGlob(pattern);
        if (!compiled.ok) return;
        expect(compiled.regex.test(path), `${pattern} ${path}`).toBe(referenceMatch(pattern, path));
      }),
      { numRuns: 3000 },
    );
  });

  it('FA-05: path_regex — safe regexes compile; nested repetition, over-long or broken ones are refused', () => {
    expect(compilePathRegex('^/admin/(users|groups)/[0-9]+$')).toMatchObject({ ok: true });
    for (const unsafe of ['^/(a+)+$', '^/(a*)*b', '^/(x+x+)+y', '^/(.*a){12}']) expect(compilePathRegex(unsafe)).toMatchObject({ ok: false, reason: expect.stringContaining('exponential') });
    expect(compilePathRegex('^/.*a.*b.*c$')).toMatchObject({ ok: false, reason: expect.stringContaining('polynomial') });
    expect(compilePathRegex('^/a/.*\\.png$')).toMatchObject({ ok: true });
    expect(compilePathRegex(`^/${'a'.repeat(199)}`)).toMatchObject({ ok: false, reason: expect.stringContaining('200') });
    expect(compilePathRegex('^/[')).toMatchObject({ ok: false, reason: expect.stringContaining('does not compile') });
  });
});

describe('host patterns', () => {
  it('FA-14: exact hosts match themselves only; "*.example.com" matches subdomains one or more labels deep, never example.com', () => {
    const exact = compileHostPattern('App.Example.com');
    const wildcard = compileHostPattern('*.example.com');
    if (!exact.ok || !wildcard.ok) throw new Error('expected both to compile');
    expect(hostPatternMatches(exact.pattern, 'app.example.com')).toBe(true);
    expect(hostPatternMatches(exact.pattern, 'x.app.example.com')).toBe(false);
    expect(hostPatternMatches(wildcard.pattern, 'a.example.com')).toBe(true);
    expect(hostPatternMatches(wildcard.pattern, 'a.b.example.com')).toBe(true);
    expect(hostPatternMatches(wildcard.pattern, 'example.com')).toBe(false);
    expect(hostPatternMatches(wildcard.pattern, 'badexample.com')).toBe(false);
    expect(compileHostPattern('[0:0::1]')).toEqual({ ok: true, pattern: { kind: 'exact', host: '[::1]' } });
  });
});
