// Reading a forward-auth rules file (YAML, docs/forward-auth-rules.md) into a RuleSet. A file is
// written by hand and reloaded while the server runs, so a mistake must be refused as a whole —
// never half-applied — and named where it is: every error carries the line and column (1-based)
// and a reason. Strict on purpose: an unknown key is refused (a misspelt `max_agee` silently
// ignored would leave a path unguarded), so is a wrong type, a duplicate key, an anchor or alias,
// a second document. Bounded, since the file is read on every change: ≤ 1 MiB, ≤ 10,000 rules,
// patterns ≤ 200 characters, nesting a few levels deep (yaml-nesting.ts), and regexes that
// cannot backtrack for long (path-pattern.ts).
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { normalizeUsername } from '../core/identity/username.js';
import { compileHostPattern } from './host-pattern.js';
import { compilePathGlob, compilePathRegex } from './path-pattern.js';
import { buildRuleSet } from './rule-set.js';
import { findExcessiveNesting } from './yaml-nesting.js';
import { isPolicy, policies, type CompiledRule, type Policy, type RuleSet } from './rules.js';

export const maxRulesFileBytes = 1024 * 1024;
export const maxRules = 10_000;

/** Methods a rule may name. GET brings HEAD along: servers answer HEAD with their GET handler. */
export const ruleMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH'] as const;

export interface RulesFileError {
  line: number;
  column: number;
  reason: string;
}

export type RulesFileResult = { ok: true; ruleSet: RuleSet } | { ok: false; errors: RulesFileError[] };

const topLevelKeys = ['default', 'rules'];
const ruleKeys = ['hosts', 'paths', 'path_regex', 'methods', 'users', 'policy', 'max_age'];
// Beyond this many, further errors are noise: the first ones are what to fix.
const maxErrorsReported = 50;

export function parseRulesFile(text: string): RulesFileResult {
  if (Buffer.byteLength(text, 'utf8') > maxRulesFileBytes) return { ok: false, errors: [{ line: 1, column: 1, reason: `the file is over ${maxRulesFileBytes} bytes (1 MiB)` }] };
  const nesting = findExcessiveNesting(text);
  if (nesting !== undefined) return { ok: false, errors: [nesting] };
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, strict: true, merge: false, schema: 'core' });
  const errors: RulesFileError[] = [];
  const at = (offset: number, reason: string) => {
    const { line, col } = lineCounter.linePos(offset);
    errors.push({ line, column: col, reason });
  };
  const atNode = (node: Node | null | undefined, fallbackOffset: number, reason: string) => at(node?.range?.[0] ?? fallbackOffset, reason);
  for (const problem of [...document.errors, ...document.warnings]) at(problem.pos[0], problem.message.split('\n')[0] ?? problem.message);
  if (errors.length > 0) return { ok: false, errors: sortedErrors(errors) };

  const root = document.contents;
  if (root === null || (isScalar(root) && root.value === null)) {
    // An empty file is refused rather than read as "no rules": an editor saving it shows it empty for a moment.
    return { ok: false, errors: [{ line: 1, column: 1, reason: 'the file is empty: expected `rules:` (and optionally `default:`)' }] };
  }
  if (!isMap(root)) return { ok: false, errors: [positioned(lineCounter, root.range?.[0] ?? 0, 'expected a mapping with `rules:` (and optionally `default:`)')] };

  let defaultPolicy: Policy = 'two_factor';
  let defaultLine = 0;
  const rules: CompiledRule[] = [];
  reportDuplicateKeys(root, atNode);
  for (const pair of root.items) {
    const key = keyOf(pair);
    if (key === undefined || !topLevelKeys.includes(key)) {
      atNode(pair.key as Node, 0, `unknown key ${JSON.stringify(key ?? String(pair.key))}: expected ${topLevelKeys.join(' or ')}`);
      continue;
    }
    const value = pair.value as Node | null;
    if (key === 'default') {
      const policy = readPolicy(value, (reason) => atNode(value, keyOffset(pair), `default: ${reason}`));
      if (policy !== undefined) defaultPolicy = policy;
      defaultLine = lineCounter.linePos(keyOffset(pair)).line;
      continue;
    }
    if (!isSeq(value)) {
      atNode(value, keyOffset(pair), 'rules: expected a list of rules ("- hosts: …")');
      continue;
    }
    for (const [index, item] of value.items.entries()) {
      if (index >= maxRules) {
        atNode(item as Node, keyOffset(pair), `more than ${maxRules} rules`);
        break;
      }
      const rule = readRule(item as Node | null, index, (node, reason) => atNode(node, (item as Node | null)?.range?.[0] ?? keyOffset(pair), `rule ${index + 1}: ${reason}`), lineCounter);
      if (rule !== undefined) rules.push(rule);
      if (errors.length >= maxErrorsReported) break;
    }
  }
  if (errors.length > 0) return { ok: false, errors: sortedErrors(errors).slice(0, maxErrorsReported) };
  return { ok: true, ruleSet: buildRuleSet({ index: -1, line: defaultLine, policy: defaultPolicy, hosts: [] }, rules) };
}

type Report = (node: Node | null | undefined, reason: string) => void;

function readRule(node: Node | null, index: number, report: Report, lineCounter: LineCounter): CompiledRule | undefined {
  if (!isMap(node)) {
    report(node, 'expected a mapping (hosts, paths, policy, …)');
    return undefined;
  }
  const fields = new Map<string, Node | null>();
  let valid = true;
  reportDuplicateKeys(node, (at, _offset, reason) => {
    report(at, reason);
    valid = false;
  });
  for (const pair of node.items) {
    const key = keyOf(pair);
    if (key === undefined || !ruleKeys.includes(key)) {
      report(pair.key as Node, `unknown key ${JSON.stringify(key ?? String(pair.key))}: expected one of ${ruleKeys.join(', ')}`);
      valid = false;
      continue;
    }
    fields.set(key, pair.value as Node | null);
  }
  const refuse: Report = (at, reason) => {
    report(at, reason);
    valid = false;
  };

  const policyNode = fields.get('policy');
  const policy = policyNode === undefined ? undefined : readPolicy(policyNode, (reason) => refuse(policyNode, `policy: ${reason}`));
  if (!fields.has('policy')) refuse(node, `policy is required (${policies.join(', ')})`);

  const hostsNode = fields.get('hosts');
  const hosts = hostsNode === undefined ? undefined : readList(hostsNode, 'hosts', refuse, (text, at) => {
    const compiled = compileHostPattern(text);
    if (!compiled.ok) refuse(at, compiled.reason);
    return compiled.ok ? compiled.pattern : undefined;
  });
  if (!fields.has('hosts')) refuse(node, 'hosts is required (["app.example.com"] or ["*.example.com"])');

  const pathsNode = fields.get('paths');
  const regexNode = fields.get('path_regex');
  if (pathsNode !== undefined && regexNode !== undefined) refuse(regexNode, 'use paths or path_regex, not both');
  let paths: RegExp[] | undefined;
  if (pathsNode !== undefined) {
    paths = readList(pathsNode, 'paths', refuse, (text, at) => {
      const compiled = compilePathGlob(text);
      if (!compiled.ok) refuse(at, compiled.reason);
      return compiled.ok ? compiled.regex : undefined;
    });
  } else if (regexNode !== undefined) {
    const source = readString(regexNode, (reason) => refuse(regexNode, `path_regex: ${reason}`));
    const compiled = source === undefined ? undefined : compilePathRegex(source);
    if (compiled?.ok === false) refuse(regexNode, compiled.reason);
    paths = compiled?.ok === true ? [compiled.regex] : undefined;
  }

  const methodsNode = fields.get('methods');
  const methods = methodsNode === undefined ? undefined : readList(methodsNode, 'methods', refuse, (text, at) => readMethod(text, at, refuse));

  const usersNode = fields.get('users');
  const users = usersNode === undefined ? undefined : readList(usersNode, 'users', refuse, (text, at) => {
    const check = normalizeUsername(text);
    if (!check.ok) refuse(at, `users: "${text}" is not a username: ${check.message}`);
    return check.ok ? check.username : undefined;
  });

  const maxAgeNode = fields.get('max_age');
  const maxAgeSeconds = maxAgeNode === undefined ? undefined : readMaxAge(maxAgeNode, refuse);

  // Keys that would mean nothing under the rule's policy are mistakes, not options to ignore.
  if (policy === 'bypass' || policy === 'deny') {
    if (usersNode !== undefined) refuse(usersNode, `users: a ${policy} rule looks at no session (list users on a one_factor, two_factor or phishing_resistant rule)`);
    if (maxAgeNode !== undefined) refuse(maxAgeNode, `max_age: a ${policy} rule looks at no session`);
  }
  if (policy === 'one_factor' && maxAgeNode !== undefined) refuse(maxAgeNode, 'max_age counts from the last second factor, which one_factor does not ask for: use two_factor or phishing_resistant');

  if (!valid || policy === undefined || hosts === undefined) return undefined;
  const rule: CompiledRule = { index, line: lineCounter.linePos(node.range?.[0] ?? 0).line, policy, hosts };
  if (paths !== undefined) rule.paths = paths;
  if (methods !== undefined) rule.methods = new Set(methods.includes('GET') ? [...methods, 'HEAD'] : methods);
  if (users !== undefined) rule.users = new Set(users);
  if (maxAgeSeconds !== undefined) rule.maxAgeSeconds = maxAgeSeconds;
  return rule;
}

/** A non-empty YAML list of strings, each turned into T by `read` (undefined = refused there). */
function readList<T>(node: Node | null, key: string, refuse: Report, read: (text: string, at: Node) => T | undefined): T[] | undefined {
  if (!isSeq(node)) {
    refuse(node, `${key}: expected a list, such as [a, b]`);
    return undefined;
  }
  if (node.items.length === 0) {
    refuse(node, `${key}: an empty list would match nothing (leave the key out to match everything)`);
    return undefined;
  }
  const values: T[] = [];
  let valid = true;
  for (const item of node.items as (Node | null)[]) {
    const text = readString(item, (reason) => refuse(item, `${key}: ${reason}`));
    const value = text === undefined || item === null ? undefined : read(text, item);
    if (value === undefined) valid = false;
    else values.push(value);
  }
  return valid ? values : undefined;
}

function readString(node: Node | null, refuse: (reason: string) => void): string | undefined {
  if (isAlias(node)) {
    refuse('anchors and aliases are not used in a rules file');
    return undefined;
  }
  if (!isScalar(node) || typeof node.value !== 'string') {
    refuse('expected a string');
    return undefined;
  }
  return node.value;
}

function readPolicy(node: Node | null, refuse: (reason: string) => void): Policy | undefined {
  const text = readString(node, refuse);
  if (text === undefined) return undefined;
  if (!isPolicy(text)) {
    refuse(`"${text}" is not a policy: expected ${policies.join(', ')}`);
    return undefined;
  }
  return text;
}

function readMethod(text: string, at: Node, refuse: Report): string | undefined {
  const method = text.toUpperCase();
  if (!(ruleMethods as readonly string[]).includes(method)) {
    refuse(at, `methods: "${text}" is not one of ${ruleMethods.join(', ')}`);
    return undefined;
  }
  return method;
}

function readMaxAge(node: Node | null, refuse: Report): number | undefined {
  // Plain decimal digits only: "300", not "300.0", "0x12c" or "5m" (YAML would read some as numbers).
  const source = isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
  if (!isScalar(node) || typeof node.value !== 'number' || source === undefined || !/^[0-9]+$/.test(source) || !Number.isSafeInteger(node.value) || node.value <= 0) {
    refuse(node, 'max_age: expected a positive whole number of seconds, such as 300');
    return undefined;
  }
  return node.value;
}

/**
 * The yaml package's own unique-key check compares each key with every earlier one: a file of
 * 100,000 keys would take minutes. A set does it in one pass.
 */
function reportDuplicateKeys(map: YAMLMap, report: (node: Node | null | undefined, fallbackOffset: number, reason: string) => void): void {
  const seen = new Set<string>();
  for (const pair of map.items) {
    const key = keyOf(pair) ?? String(pair.key);
    if (seen.has(key)) report(pair.key as Node, 0, `the key ${JSON.stringify(key)} is there twice (map keys must be unique)`);
    seen.add(key);
  }
}

function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) && typeof pair.key.value === 'string' ? pair.key.value : undefined;
}

function keyOffset(pair: Pair): number {
  return (pair.key as Node | null)?.range?.[0] ?? 0;
}

function positioned(lineCounter: LineCounter, offset: number, reason: string): RulesFileError {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col, reason };
}

function sortedErrors(errors: RulesFileError[]): RulesFileError[] {
  return [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
}
