// A rule set indexes its rules by host, because the decision runs on every request of every
// protected app and a file may hold thousands of rules (one per app): only the rules naming the
// request's host, exactly or by a wildcard suffix, are looked at, still in file order so the
// first match wins. For each host named exactly, that list (its wildcard rules merged in) is
// made once, when the file is loaded, so the usual request costs one map lookup.
import type { CompiledRule, Policy, RuleSet } from './rules.js';

export function buildRuleSet(defaultRule: CompiledRule, rules: readonly CompiledRule[]): RuleSet {
  const exact = new Map<string, CompiledRule[]>();
  const rulesByWildcardSuffix = new Map<string, CompiledRule[]>();
  const add = (index: Map<string, CompiledRule[]>, key: string, rule: CompiledRule) => {
    const list = index.get(key);
    if (list === undefined) index.set(key, [rule]);
    else if (list[list.length - 1] !== rule) list.push(rule);
  };
  for (const rule of rules) {
    for (const pattern of rule.hosts) {
      if (pattern.kind === 'exact') add(exact, pattern.host, rule);
      else add(rulesByWildcardSuffix, pattern.suffix, rule);
    }
  }
  const rulesByExactHost = new Map<string, readonly CompiledRule[]>();
  for (const [host, own] of exact) rulesByExactHost.set(host, mergeInFileOrder([own, ...wildcardListsFor(rulesByWildcardSuffix, host)]));
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
export function rulesForHost(ruleSet: RuleSet, host: string): readonly CompiledRule[] {
  const known = ruleSet.rulesByExactHost.get(host);
  if (known !== undefined) return known;
  return mergeInFileOrder(wildcardListsFor(ruleSet.rulesByWildcardSuffix, host));
}

/** The wildcard rules of ".b.example.com", ".example.com", ".com" for "a.b.example.com". */
function wildcardListsFor(bySuffix: ReadonlyMap<string, readonly CompiledRule[]>, host: string): (readonly CompiledRule[])[] {
  const lists: (readonly CompiledRule[])[] = [];
  if (bySuffix.size === 0) return lists;
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
    const list = bySuffix.get(host.slice(dot));
    if (list !== undefined) lists.push(list);
  }
  return lists;
}

function mergeInFileOrder(lists: (readonly CompiledRule[])[]): readonly CompiledRule[] {
  if (lists.length === 0) return [];
  if (lists.length === 1) return lists[0] ?? [];
  return [...new Set(lists.flat())].sort((a, b) => a.index - b.index);
}
