// The compiled form of a forward-auth rules file: what decide() reads on every request of every
// protected app. Everything that can be worked out once — lowercased hosts, glob regexes, method
// and user sets, an index of rules by host — is worked out when the file is loaded, so a decision
// is a few map lookups and anchored, linear-time regex tests.
import type { HostPattern } from './host-pattern.js';

/** What a rule demands, weakest to strongest but for `deny`; see docs/forward-auth-rules.md. */
export const policies = ['bypass', 'deny', 'one_factor', 'two_factor', 'phishing_resistant'] as const;

export type Policy = (typeof policies)[number];

export function isPolicy(value: string): value is Policy {
  return (policies as readonly string[]).includes(value);
}

export interface CompiledRule {
  /** The rule's place in the file, from 0 (first match wins); -1 for the `default` policy. */
  index: number;
  /** Where the rule starts in the file (1-based), for logs; 0 when there is no file. */
  line: number;
  policy: Policy;
  /** Empty only for the default rule, which matches everything. */
  hosts: readonly HostPattern[];
  /** Compiled `paths` globs or `path_regex` (at most one of the two); undefined = every path. */
  paths?: readonly RegExp[];
  /** Upper-case method names; undefined = every method. `GET` brings `HEAD` along. */
  methods?: ReadonlySet<string>;
  /** Normalized usernames allowed; undefined = anyone the policy admits. */
  users?: ReadonlySet<string>;
  /** How old the last second factor may be, in seconds; undefined = any age. */
  maxAgeSeconds?: number;
}

export interface RuleSet {
  defaultRule: CompiledRule;
  rules: readonly CompiledRule[];
  /** For each host named exactly: every rule that may apply to it (wildcards too), in file order. */
  rulesByExactHost: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Rules by wildcard suffix (".example.com" for "*.example.com"), in file order. */
  rulesByWildcardSuffix: ReadonlyMap<string, readonly CompiledRule[]>;
}
