// Forward-auth: reverse proxies (nginx auth_request, Caddy forward_auth, Traefik
// ForwardAuth, HAProxy) ask Twofold whether a request may reach the app behind them. Here: the
// rules file (hosts, paths, methods, users → a policy), the normalization of the request the
// proxy asks about, and the pure decision; the HTTP endpoint builds on these. Stored: nothing —
// the rules live in memory, re-read from their file. Threats handled: path tricks that make the
// rules see another path than the app (dot segments, escapes, encoded slashes, "//"), header
// injection through the original URI, a rules file with a catastrophic regex, a bad reload
// opening everything (the previous rules stay), unbounded files (see docs/forward-auth-rules.md).
export { decide, matchRule, policyAssurance, type DenyReason, type ForwardAuthDecision, type ForwardAuthIdentity } from './decide.js';
export { loadRulesFile } from './load-rules-file.js';
export { maxUriLength, normalizeHost, normalizeMethod, normalizeRequestPath, normalizeRequestTarget, type RequestTarget } from './request-target.js';
export { defaultRuleSet, rulesForHost } from './rule-set.js';
export { maxRules, maxRulesFileBytes, parseRulesFile, ruleMethods, type RulesFileError, type RulesFileResult } from './rules-file.js';
export { createRulesSource, RulesFileRefusedError, type ReloadResult, type RulesSource, type RulesSourceOptions, type RulesSourceProblem } from './rules-source.js';
export { isPolicy, policies, type CompiledRule, type Policy, type RuleSet } from './rules.js';
