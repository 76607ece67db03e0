import { describe, expect, it } from 'vitest';
import { maxRules, maxRulesFileBytes, parseRulesFile, type RulesFileError } from './rules-file.js';
import type { RuleSet } from './rules.js';

function parsed(text: string): RuleSet {
  const result = parseRulesFile(text);
  if (!result.ok) throw new Error(`expected the file to parse: ${JSON.stringify(result.errors)}`);
  return result.ruleSet;
}

function errorsOf(text: string): RulesFileError[] {
  const result = parseRulesFile(text);
  if (result.ok) throw new Error('expected the file to be refused');
  return result.errors;
}

const lines = (...textLines: string[]) => `${textLines.join('\n')}\n`;

describe('parseRulesFile()', () => {
  it('FA-03: reads every key of a rule and the default policy', () => {
    const ruleSet = parsed(
      lines(
        '# a comment',
        'default: one_factor',
        'rules:',
        '  - hosts: [status.example.com]',
        '    paths: ["/health", "/public/**"]',
        '    policy: bypass',
        '  - hosts: ["*.Example.COM"]',
        '    path_regex: "^/admin/(users|groups)/[0-9]+$"',
        '    policy: two_factor',
        '    max_age: 300',
        '    users: [Alice, bob]',
        '    methods: [get, POST]',
      ),
    );
    expect(ruleSet.defaultRule).toMatchObject({ index: -1, line: 2, policy: 'one_factor', hosts: [] });
    expect(ruleSet.rules).toHaveLength(2);
    const [first, second] = ruleSet.rules;
    expect(first).toMatchObject({ index: 0, line: 4, policy: 'bypass', hosts: [{ kind: 'exact', host: 'status.example.com' }] });
    expect(first?.paths?.map(String)).toEqual(['/^\\/health$/', '/^\\/public(?:\\/[^]*|)$/']);
    expect(first?.methods).toBeUndefined();
    expect(second).toMatchObject({ index: 1, line: 7, policy: 'two_factor', hosts: [{ kind: 'wildcard', suffix: '.example.com' }], maxAgeSeconds: 300 });
    expect(second?.paths?.map((regex) => regex.source)).toEqual(['^\\/admin\\/(users|groups)\\/[0-9]+$']);
    expect([...(second?.users ?? [])]).toEqual(['alice', 'bob']);
    // GET brings HEAD along: servers answer HEAD with their GET handler.
    expect([...(second?.methods ?? [])].sort()).toEqual(['GET', 'HEAD', 'POST']);
  });

  it('FA-03: without `default` the default policy is two_factor; `rules` may be left out', () => {
    expect(parsed('rules: []\n').defaultRule.policy).toBe('two_factor');
    expect(parsed('default: deny\n')).toMatchObject({ defaultRule: { policy: 'deny' }, rules: [] });
  });

  it.each([
    ['an unknown top-level key', lines('default: deny', 'rulez: []'), { line: 2, column: 1, reason: expect.stringContaining('unknown key "rulez"') }],
    ['an unknown rule key (a misspelt max_age)', lines('rules:', '  - hosts: [a.example.com]', '    policy: two_factor', '    max_agee: 30'), { line: 4, column: 5, reason: expect.stringMatching(/^rule 1: unknown key "max_agee"/) }],
    ['a policy that does not exist', lines('rules:', '  - hosts: [a.example.com]', '    policy: two_factors'), { line: 3, column: 13, reason: expect.stringContaining('"two_factors" is not a policy') }],
    ['a default policy that does not exist', lines('default: allow'), { line: 1, column: 10, reason: expect.stringContaining('default: "allow" is not a policy') }],
    ['a missing policy', lines('rules:', '  - hosts: [a.example.com]'), { line: 2, column: 5, reason: expect.stringContaining('policy is required') }],
    ['a missing hosts', lines('rules:', '  - policy: deny'), { line: 2, column: 5, reason: expect.stringContaining('hosts is required') }],
    ['hosts as a string, not a list', lines('rules:', '  - hosts: a.example.com', '    policy: deny'), { line: 2, column: 12, reason: expect.stringContaining('hosts: expected a list') }],
    ['an empty hosts list', lines('rules:', '  - hosts: []', '    policy: deny'), { line: 2, column: 12, reason: expect.stringContaining('empty list') }],
    ['a number among the hosts', lines('rules:', '  - hosts: [a.example.com, 42]', '    policy: deny'), { line: 2, column: 28, reason: expect.stringContaining('hosts: expected a string') }],
    ['a host with a port', lines('rules:', '  - hosts: ["a.example.com:8443"]', '    policy: deny'), { line: 2, column: 13, reason: expect.stringContaining('no scheme, port or path') }],
    ['a star inside a host', lines('rules:', '  - hosts: ["a*.example.com"]', '    policy: deny'), { line: 2, column: 13, reason: expect.stringContaining('only as the whole first label') }],
    ['a non-ASCII host', lines('rules:', '  - hosts: ["bücher.example"]', '    policy: deny'), { line: 2, column: 13, reason: expect.stringContaining('xn--') }],
    ['a path without its leading slash', lines('rules:', '  - hosts: [a.example.com]', '    paths: ["admin/**"]', '    policy: deny'), { line: 3, column: 13, reason: expect.stringContaining('starts with "/"') }],
    ['"**" in the middle of a glob', lines('rules:', '  - hosts: [a.example.com]', '    paths: ["/a/**/b"]', '    policy: deny'), { line: 3, column: 13, reason: expect.stringContaining('only as the last segment') }],
    ['two stars in one segment', lines('rules:', '  - hosts: [a.example.com]', '    paths: ["/a/*.min.*"]', '    policy: deny'), { line: 3, column: 13, reason: expect.stringContaining('at most one "*" per segment') }],
    ['a dot segment in a glob', lines('rules:', '  - hosts: [a.example.com]', '    paths: ["/a/../b"]', '    policy: deny'), { line: 3, column: 13, reason: expect.stringContaining('".." segments') }],
    ['an encoded slash in a glob', lines('rules:', '  - hosts: [a.example.com]', '    paths: ["/a%2Fb"]', '    policy: deny'), { line: 3, column: 13, reason: expect.stringContaining('%2F') }],
    ['a query in a glob', lines('rules:', '  - hosts: [a.example.com]', '    paths: ["/a?x=1"]', '    policy: deny'), { line: 3, column: 13, reason: expect.stringContaining('query') }],
    ['paths and path_regex together', lines('rules:', '  - hosts: [a.example.com]', '    paths: ["/a"]', '    path_regex: "^/a"', '    policy: deny'), { line: 4, column: 17, reason: expect.stringContaining('not both') }],
    ['an unanchored path_regex', lines('rules:', '  - hosts: [a.example.com]', '    path_regex: "/health"', '    policy: bypass'), { line: 3, column: 17, reason: expect.stringContaining('starts with "^"') }],
    ['a path_regex that does not compile', lines('rules:', '  - hosts: [a.example.com]', '    path_regex: "^/(a"', '    policy: deny'), { line: 3, column: 17, reason: expect.stringContaining('does not compile') }],
    ['an unknown method', lines('rules:', '  - hosts: [a.example.com]', '    methods: [GET, FETCH]', '    policy: deny'), { line: 3, column: 20, reason: expect.stringContaining('"FETCH" is not one of') }],
    ['a username that cannot be one', lines('rules:', '  - hosts: [a.example.com]', '    users: ["a b"]', '    policy: two_factor'), { line: 3, column: 13, reason: expect.stringContaining('"a b" is not a username') }],
    ['users on a bypass rule', lines('rules:', '  - hosts: [a.example.com]', '    users: [alice]', '    policy: bypass'), { line: 3, column: 12, reason: expect.stringContaining('a bypass rule looks at no session') }],
    ['max_age on a one_factor rule', lines('rules:', '  - hosts: [a.example.com]', '    policy: one_factor', '    max_age: 60'), { line: 4, column: 14, reason: expect.stringContaining('use two_factor') }],
    ['max_age of zero', lines('rules:', '  - hosts: [a.example.com]', '    policy: two_factor', '    max_age: 0'), { line: 4, column: 14, reason: expect.stringContaining('positive whole number') }],
    ['max_age as a string', lines('rules:', '  - hosts: [a.example.com]', '    policy: two_factor', '    max_age: "300"'), { line: 4, column: 14, reason: expect.stringContaining('positive whole number') }],
    ['max_age with a unit', lines('rules:', '  - hosts: [a.example.com]', '    policy: two_factor', '    max_age: 5m'), { line: 4, column: 14, reason: expect.stringContaining('positive whole number') }],
    ['max_age as a fraction', lines('rules:', '  - hosts: [a.example.com]', '    policy: two_factor', '    max_age: 300.5'), { line: 4, column: 14, reason: expect.stringContaining('positive whole number') }],
    ['max_age in hexadecimal', lines('rules:', '  - hosts: [a.example.com]', '    policy: two_factor', '    max_age: 0x12c'), { line: 4, column: 14, reason: expect.stringContaining('positive whole number') }],
    ['a rule that is not a mapping', lines('rules:', '  - just a string'), { line: 2, column: 5, reason: expect.stringContaining('expected a mapping') }],
    ['rules that are not a list', lines('rules:', '  hosts: [a.example.com]'), { line: 2, column: 3, reason: expect.stringContaining('expected a list of rules') }],
    ['a duplicate key', lines('rules:', '  - hosts: [a.example.com]', '    policy: bypass', '    policy: deny'), { line: 4, column: 5, reason: expect.stringContaining('unique') }],
    ['a YAML syntax error', lines('rules:', '  - hosts: [a.example.com', '    policy: deny'), { line: expect.any(Number), column: expect.any(Number), reason: expect.any(String) }],
    ['a second document', lines('default: deny', '---', 'default: bypass'), { line: expect.any(Number), column: expect.any(Number), reason: expect.stringContaining('document') }],
    ['an alias', lines('rules:', '  - hosts: &h [a.example.com]', '    policy: deny', '  - hosts: *h', '    policy: deny'), { line: 4, column: 12, reason: expect.stringContaining('expected a list') }],
    ['a file that is not a mapping', lines('- a', '- b'), { line: 1, column: 1, reason: expect.stringContaining('expected a mapping') }],
  ])('FA-04: refuses %s with its line, column and reason', (_what, text, expected) => {
    const errors = errorsOf(text);
    expect(errors[0]).toEqual(expected);
  });

  it('FA-04: an empty file (or only comments) is refused, not read as "no rules"', () => {
    expect(errorsOf('')).toEqual([{ line: 1, column: 1, reason: expect.stringContaining('empty') }]);
    expect(errorsOf('# nothing yet\n')[0]?.reason).toContain('empty');
  });

  it('FA-04: every mistake of a file is reported, in file order', () => {
    const errors = errorsOf(lines('rules:', '  - hosts: [a.example.com]', '    policy: nope', '  - hosts: ["b.example.com:80"]', '    policy: deny', 'extra: 1'));
    expect(errors.map(({ line, column }) => [line, column])).toEqual([
      [3, 13],
      [4, 13],
      [6, 1],
    ]);
  });

  it('FA-05: a catastrophic path_regex such as (a+)+$ is refused with its line', () => {
    const errors = errorsOf(lines('rules:', '  - hosts: [a.example.com]', '    policy: two_factor', '  - hosts: [b.example.com]', '    path_regex: "^/(a+)+$"', '    policy: deny'));
    expect(errors).toEqual([{ line: 5, column: 17, reason: expect.stringMatching(/^rule 2: path_regex: can take exponential time/) }]);
  });

  it('FA-05: a path_regex over 200 characters is refused', () => {
    const errors = errorsOf(lines('rules:', '  - hosts: [a.example.com]', `    path_regex: "^/${'a'.repeat(200)}"`, '    policy: deny'));
    expect(errors[0]).toMatchObject({ line: 3, reason: expect.stringContaining('at most 200 characters') });
  });

  it('FA-05: a file over 1 MiB is refused before it is parsed', () => {
    const text = `# ${'x'.repeat(maxRulesFileBytes)}\n`;
    expect(errorsOf(text)).toEqual([{ line: 1, column: 1, reason: expect.stringContaining('1 MiB') }]);
  });

  it.each([
    ['400,000 "["', '['.repeat(400_000), { line: 1, column: 17 }],
    ['"[" over many lines after a comment and a quoted "]"', `# ]]]]\nrules: ["]]]]", ${'[\n'.repeat(20)}`, { line: 17, column: 1 }],
    ['300,000 nested "- "', '- '.repeat(300_000), { line: 1, column: 1 }],
    ['ever deeper indentation', Array.from({ length: 100 }, (_, depth) => `${' '.repeat(depth * 2)}- a:`).join('\n'), { line: 33, column: 1 }],
  ])('FA-05: a file nested too deeply (%s) is refused before the YAML parser sees it', (_what, text, position) => {
    expect(errorsOf(text)).toEqual([{ ...position, reason: expect.stringContaining('nested too deeply') }]);
  });

  it('FA-05: a flood of stray "]" or "}" is refused before the YAML parser builds an error for each', () => {
    expect(errorsOf('}'.repeat(1_000_000))).toEqual([{ line: 1, column: 101, reason: expect.stringContaining('closing nothing') }]);
  });

  it('FA-04: duplicate keys are found in one pass, in the file and in a rule', () => {
    expect(errorsOf(lines('default: deny', 'default: bypass'))).toEqual([{ line: 2, column: 1, reason: expect.stringContaining('"default" is there twice') }]);
  });

  it('FA-05: quotes and comments holding brackets do not count as nesting', () => {
    const text = lines('# [[[[[[[[[[[[[[[[[[[[', 'rules:', `  - hosts: ["a.example.com"] # {{{{{{{{{{{{{{{{{{{{`, `    path_regex: "^/[[[[[[[[[[[[[[[[[[a]]]]]]]]]]]]]]]]]]$"`, "    policy: 'deny'");
    expect(parseRulesFile(text)).toMatchObject({ ok: true });
  });

  it('FA-05: more than 10,000 rules are refused at the first one too many', () => {
    const rule = '  - {hosts: [a.example.com], policy: deny}';
    const text = lines('rules:', ...Array.from({ length: maxRules + 1 }, () => rule));
    expect(errorsOf(text)).toEqual([{ line: maxRules + 2, column: 5, reason: expect.stringContaining('more than 10000 rules') }]);
    expect(parseRulesFile(lines('rules:', ...Array.from({ length: maxRules }, () => rule))).ok).toBe(true);
  });
});
