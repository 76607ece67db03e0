// The forward-auth decision: for the request a proxy asks about and the person's session (if
// any), allow, send to sign-in, send to a step-up, or deny. Pure — the rules, the request, the
// identity and the clock are passed in — so it is tested exhaustively here and the HTTP endpoint
// only maps the answer to a status. First match wins: a rule applies when one of its hosts
// matches, then one of its paths (or its path_regex), then its methods; no match → `default`.
// Assurance is earned, never asserted: the level a session proves is read from what the server
// verified (its acr and amr, core/tokens/assurance-levels.ts), as everywhere else in Twofold.
import { acrSatisfies, provenAssuranceLevel, type AssuranceLevel } from '../core/tokens/assurance-levels.js';
import { hostPatternMatches } from './host-pattern.js';
import type { RequestTarget } from './request-target.js';
import { rulesForHost } from './rule-set.js';
import type { CompiledRule, Policy, RuleSet } from './rules.js';

export interface ForwardAuthIdentity {
  userId: string;
  /** Normalized, as stored (core/identity/username.ts). */
  username: string;
  sessionId: string;
  acr: string;
  amr: readonly string[];
  /** When the session signed in, in seconds since the epoch. */
  authTime: number;
  /** When the last second factor (sign-in or step-up) was proven, in seconds; undefined if never. */
  secondFactorAt: number | undefined;
}

export type ForwardAuthDecision =
  | { kind: 'allow'; rule: CompiledRule }
  | { kind: 'sign_in'; rule: CompiledRule; acr: AssuranceLevel }
  | { kind: 'step_up'; rule: CompiledRule; acr: AssuranceLevel; maxAge: number | undefined }
  | { kind: 'deny'; rule: CompiledRule | undefined; reason: DenyReason };

/** `invalid_target`: the request was refused by normalization (request-target.ts). */
export type DenyReason = 'policy_deny' | 'user_not_allowed' | 'invalid_target';

/** The level each session-checking policy asks for. */
export const policyAssurance: Readonly<Record<Exclude<Policy, 'bypass' | 'deny'>, AssuranceLevel>> = {
  one_factor: 'aal1',
  two_factor: 'aal2',
  phishing_resistant: 'phr',
};

/** The first rule that applies to the request, or the default rule. */
export function matchRule(ruleSet: RuleSet, target: RequestTarget): CompiledRule {
  for (const rule of rulesForHost(ruleSet, target.host)) {
    if (ruleApplies(rule, target)) return rule;
  }
  return ruleSet.defaultRule;
}

function ruleApplies(rule: CompiledRule, target: RequestTarget): boolean {
  // rulesForHost already chose by host; checked again so the rule alone says what it matches.
  if (!rule.hosts.some((pattern) => hostPatternMatches(pattern, target.host))) return false;
  if (rule.paths !== undefined && !rule.paths.some((regex) => regex.test(target.path))) return false;
  return rule.methods === undefined || rule.methods.has(target.method);
}

/**
 * `target` undefined is a request normalization refused: denied. `identity` undefined is no
 * (valid) session. `nowSeconds` is the clock, in seconds since the epoch.
 */
export function decide(ruleSet: RuleSet, target: RequestTarget | undefined, identity: ForwardAuthIdentity | undefined, nowSeconds: number): ForwardAuthDecision {
  if (target === undefined) return { kind: 'deny', rule: undefined, reason: 'invalid_target' };
  const rule = matchRule(ruleSet, target);
  if (rule.policy === 'bypass') return { kind: 'allow', rule };
  if (rule.policy === 'deny') return { kind: 'deny', rule, reason: 'policy_deny' };
  const acr = policyAssurance[rule.policy];
  if (identity === undefined) return { kind: 'sign_in', rule, acr };
  // Someone not on the list is refused before any step-up: a stronger factor would not let them in.
  if (rule.users !== undefined && !rule.users.has(identity.username)) return { kind: 'deny', rule, reason: 'user_not_allowed' };
  const proven = provenAssuranceLevel(identity);
  const maxAge = rule.maxAgeSeconds;
  if (proven === undefined || !acrSatisfies(proven, [acr])) return { kind: 'step_up', rule, acr, maxAge };
  if (maxAge !== undefined && (identity.secondFactorAt === undefined || nowSeconds - identity.secondFactorAt > maxAge)) return { kind: 'step_up', rule, acr, maxAge };
  return { kind: 'allow', rule };
}
