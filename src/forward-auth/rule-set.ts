// A rule set indexes its rules by host, because the decision runs on every request of every
// protected app and a file may hold thousands of rules (one per app): only the rules naming the
// request's host, exactly or by a wildcard suffix, are looked at, still in file order so the
// first match wins.
import type { CompiledRule, Policy, RuleSet } from './rules.js';

export function buildRuleSet(defaultRule: CompiledRule, rules: readonly CompiledRule[]): RuleSet {
  const rulesByExactHost = new Map<string, number[]>();
  const rulesByWildcardSuffix = new Map<string, number[]>();
  const add = (index: Map<string, number[]>, key: string, ruleIndex: number) => {
    const list = index.get(key);
    if (list === undefined) index.set(key, [ruleIndex]);
    else if (list[list.length - 1] !== ruleIndex) list.push(ruleIndex);
  };
  for (const rule of rules) {
    for (const pattern of rule.hosts) {
      if (pattern.kind === 'exact') add(rulesByExactHost, pattern.host, rule.index);
      else add(rulesByWildcardSuffix, pattern.suffix, rule.index);
    }
  }
  return { defaultRule, rules, rulesByExactHost, rulesByWildcardSuffix };
}

/** The rule set of a deployment without a rules file: two factors for everything. */
export function defaultRuleSet(policy: Policy = 'two_factor'): RuleSet {
  return buildRuleSet({ index: -1, line: 0, policy, hosts: [] }, []);
}

/**
 * The rules that may apply to `host` (normalized), in file order: those naming it exactly, and
 * those with a wildcard on one of its parent domains. Their number, not the file's, bounds the
 * work of a decision.
 */
export function rulesForHost(ruleSet: RuleSet, host: string): CompiledRule[] {
  const lists: (readonly number[])[] = [];
  const exact = ruleSet.rulesByExactHost.get(host);
  if (exact !== undefined) lists.push(exact);
  if (ruleSet.rulesByWildcardSuffix.size > 0) {
    // ".b.example.com", ".example.com", ".com" for "a.b.example.com".
    for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const list = ruleSet.rulesByWildcardSuffix.get(host.slice(dot));
      if (list !== undefined) lists.push(list);
    }
  }
  const indexes = lists.length === 1 ? (lists[0] ?? []) : [...new Set(lists.flat())].sort((a, b) => a - b);
  return indexes.map((index) => ruleSet.rules[index]).filter((rule): rule is CompiledRule => rule !== undefined);
}
