// The two ways a rule names paths. `paths` globs: "*" is any part of one segment (no "/"), "**"
// a whole last segment meaning "this folder and everything below" ("/admin/**" matches /admin,
// /admin/ and /admin/x/y — a rule guarding a folder guards its bare name too). Globs compile to
// anchored regexes that run in linear time on any path: each "*" is "[^/]*" with at most one per
// segment, followed by "/" or the end, so it has one place to stop; "**" only at the end. Every
// other character is escaped. `path_regex` is for what globs cannot say; a regex an attacker's
// path could make backtrack for seconds on every request (a "catastrophic" one such as
// "(a+)+$") is refused when the file is loaded, as judged by safe-regex2 (what Fastify's router
// uses for its own route regexes), along with one over 200 characters or one that does not compile.
import safeRegex from 'safe-regex2';
import { maxPatternLength } from './host-pattern.js';
import { canonicalPathEncoding, utf8ByteString } from './path-encoding.js';

export type PathPatternResult = { ok: true; regex: RegExp } | { ok: false; reason: string };

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

export function compilePathGlob(source: string): PathPatternResult {
  const refuse = (why: string): PathPatternResult => ({ ok: false, reason: `path "${source}": ${why}` });
  if (source.length > maxPatternLength) return refuse(`a pattern has at most ${maxPatternLength} characters`);
  if (!source.startsWith('/')) return refuse('a path pattern starts with "/"');
  if (/[?#]/.test(source)) return refuse('the query is not part of the path ("?" and "#" never appear in it)');
  const segments = source.slice(1).split('/');
  let pattern = '^';
  for (const [position, segment] of segments.entries()) {
    const last = position === segments.length - 1;
    if (segment === '**') {
      if (!last) return refuse('"**" is allowed only as the last segment ("/folder/**")');
      // "/**" alone is every path; "/admin/**" is /admin itself and everything below it (written
      // as an alternation rather than "(…)?", which safe-regex2 would count as a nested repetition).
      pattern += position === 0 ? '/[^]*' : '(?:/[^]*|)';
      break;
    }
    if (segment.includes('**')) return refuse('"**" is a whole segment ("/folder/**")');
    if (segment === '' && !last) return refuse('"//" never appears in a normalized path');
    if (segment === '.' || segment === '..') return refuse('"." and ".." segments never appear in a normalized path');
    const parts = segment.split('*');
    if (parts.length > 2) return refuse('at most one "*" per segment (use path_regex for more)');
    const literals = parts.map((part) => canonicalPathEncoding(utf8ByteString(part)));
    if (literals.some((literal) => literal === undefined)) return refuse('control characters, backslashes, "%2F" and bad "%" escapes cannot match any path');
    pattern += `/${literals.map((literal) => escapeRegex(literal ?? '')).join('[^/]*')}`;
  }
  return { ok: true, regex: new RegExp(`${pattern}$`) };
}

// An unescaped "." followed by *, + or {n,}.
const unboundedDotRepetition = /(?<!\\)\.(?:[*+]|\{\d+,\})/g;

export function compilePathRegex(source: string): PathPatternResult {
  const refuse = (why: string): PathPatternResult => ({ ok: false, reason: `path_regex: ${why}` });
  if (source.length > maxPatternLength) return refuse(`at most ${maxPatternLength} characters`);
  // An unanchored regex matches anywhere: "/health" would also bypass "/admin/x/health".
  if (!source.startsWith('^')) return refuse('starts with "^" (it is matched against the whole path, which starts with "/")');
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch (error) {
    return refuse(`does not compile: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!safeRegex(regex)) return refuse('can take exponential time on some paths (nested or overlapping repetition such as "(a+)+"); rewrite it without a repeated group that repeats');
  // safe-regex2 measures nesting only: "^/.*a.*b.*c$" nests nothing yet takes n⁴ steps on a long
  // path that almost matches. Two unbounded "." repetitions are what such patterns need.
  if ((source.match(unboundedDotRepetition) ?? []).length > 1) return refuse('more than one ".*" (or ".+") can take polynomial time on long paths; use [^/]* within a segment');
  return { ok: true, regex };
}
