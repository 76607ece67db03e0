import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acrSatisfies, provenAssuranceLevel } from '../core/tokens/assurance-levels.js';
import { decide, matchRule, type ForwardAuthIdentity } from './decide.js';
import { normalizeRequestTarget, type RequestTarget } from './request-target.js';
import { rulesForHost } from './rule-set.js';
import { parseRulesFile } from './rules-file.js';
import type { Policy, RuleSet } from './rules.js';

function rules(text: string): RuleSet {
  const result = parseRulesFile(text);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.ruleSet;
}

function target(host: string, uri: string, method = 'GET'): RequestTarget {
  const normalized = normalizeRequestTarget({ method, host, uri });
  if (normalized === undefined) throw new Error(`refused: ${method} ${host} ${uri}`);
  return normalized;
}

const now = 1_800_000_000;
const identityAt = (level: 'aal1' | 'aal2' | 'phr', extra: Partial<ForwardAuthIdentity> = {}): ForwardAuthIdentity => ({
  userId: 'u1',
  username: 'alice',
  sessionId: 's1',
  acr: level === 'phr' ? 'aal2' : level,
  // A passkey sign-in (swk) is what makes a session phishing resistant: earned, never asserted.
  amr: level === 'aal1' ? ['pwd'] : level === 'aal2' ? ['pwd', 'otp', 'mfa'] : ['swk', 'mfa'],
  authTime: now - 600,
  secondFactorAt: level === 'aal1' ? undefined : now - 600,
  ...extra,
});

const sample = rules(`
default: two_factor
rules:
  - hosts: [status.example.com]
    paths: ["/health", "/public/**"]
    policy: bypass
  - hosts: ["*.example.com"]
    paths: ["/admin/**"]
    policy: two_factor
    max_age: 300
    users: [alice, bob]
  - hosts: ["*.example.com"]
    paths: ["/files/*.pdf"]
    methods: [DELETE]
    policy: deny
  - hosts: [wiki.example.com]
    policy: one_factor
  - hosts: [vault.example.com]
    policy: phishing_resistant
  - hosts: [gone.example.com, "*.gone.example.com"]
    policy: deny
`);

describe('decide()', () => {
  it('FA-08: hosts, then paths, then methods; first match wins; no match → the default', () => {
    expect(matchRule(sample, target('status.example.com', '/health')).index).toBe(0);
    expect(matchRule(sample, target('status.example.com', '/health/x')).index).toBe(-1);
    expect(matchRule(sample, target('status.example.com', '/public')).index).toBe(0);
    expect(matchRule(sample, target('status.example.com', '/public/a/b.css')).index).toBe(0);
    expect(matchRule(sample, target('status.example.com', '/publicity')).index).toBe(-1);
    // status.example.com is also *.example.com: the earlier bypass rule did not match /admin, the wildcard one does.
    expect(matchRule(sample, target('status.example.com', '/admin/x')).index).toBe(1);
    expect(matchRule(sample, target('a.b.example.com', '/admin')).index).toBe(1);
    expect(matchRule(sample, target('example.com', '/admin')).index).toBe(-1);
    expect(matchRule(sample, target('wiki.example.com', '/files/a.pdf', 'DELETE')).index).toBe(2);
    expect(matchRule(sample, target('wiki.example.com', '/files/a.pdf', 'GET')).index).toBe(3);
    expect(matchRule(sample, target('wiki.example.com', '/files/x/a.pdf', 'DELETE')).index).toBe(3);
    expect(matchRule(sample, target('x.gone.example.com', '/')).index).toBe(5);
    expect(matchRule(sample, target('gone.example.com', '/')).index).toBe(5);
    expect(matchRule(sample, target('elsewhere.org', '/')).index).toBe(-1);
  });

  it('FA-08: a rule earlier in the file wins over a more specific one later', () => {
    const ordered = rules(`
rules:
  - hosts: ["*.example.com"]
    policy: one_factor
  - hosts: [app.example.com]
    paths: ["/admin/**"]
    policy: deny
`);
    expect(decide(ordered, target('app.example.com', '/admin/x'), identityAt('aal1'), now)).toMatchObject({ kind: 'allow', rule: { index: 0 } });
  });

  it('FA-08: GET brings HEAD along; other methods are matched exactly', () => {
    const getOnly = rules('rules:\n  - hosts: [a.example.com]\n    methods: [GET]\n    policy: bypass\n');
    expect(decide(getOnly, target('a.example.com', '/', 'HEAD'), undefined, now).kind).toBe('allow');
    expect(decide(getOnly, target('a.example.com', '/', 'get'), undefined, now).kind).toBe('allow');
    expect(decide(getOnly, target('a.example.com', '/', 'POST'), undefined, now).kind).toBe('sign_in');
  });

  const levels = ['none', 'aal1', 'aal2', 'phr'] as const;
  const expected: Record<Policy, Record<(typeof levels)[number], string>> = {
    bypass: { none: 'allow', aal1: 'allow', aal2: 'allow', phr: 'allow' },
    deny: { none: 'deny', aal1: 'deny', aal2: 'deny', phr: 'deny' },
    one_factor: { none: 'sign_in', aal1: 'allow', aal2: 'allow', phr: 'allow' },
    two_factor: { none: 'sign_in', aal1: 'step_up', aal2: 'allow', phr: 'allow' },
    phishing_resistant: { none: 'sign_in', aal1: 'step_up', aal2: 'step_up', phr: 'allow' },
  };
  const cases = Object.entries(expected).flatMap(([policy, byLevel]) => levels.map((level) => [policy as Policy, level, byLevel[level]] as const));

  it.each(cases)('FA-09: policy %s with a session at %s → %s', (policy, level, kind) => {
    const ruleSet = rules(`default: ${policy}\n`);
    const decision = decide(ruleSet, target('app.example.com', '/'), level === 'none' ? undefined : identityAt(level), now);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'sign_in' || decision.kind === 'step_up') expect(decision.acr).toBe({ one_factor: 'aal1', two_factor: 'aal2', phishing_resistant: 'phr' }[policy as 'one_factor']);
    if (decision.kind === 'deny') expect(decision.reason).toBe('policy_deny');
  });

  it('FA-09: a hardware passkey (phrh) meets phishing_resistant; a passkey answered at aal1 does not meet two_factor', () => {
    const ruleSet = rules('default: phishing_resistant\n');
    expect(decide(ruleSet, target('a.example.com', '/'), identityAt('aal2', { amr: ['hwk', 'mfa'] }), now).kind).toBe('allow');
    expect(decide(rules('default: two_factor\n'), target('a.example.com', '/'), identityAt('aal1', { amr: ['swk'] }), now).kind).toBe('step_up');
    // An acr Twofold does not order is no level at all.
    expect(decide(rules('default: one_factor\n'), target('a.example.com', '/'), identityAt('aal1', { acr: 'urn:other:gold' }), now).kind).toBe('step_up');
  });

  it('FA-10: max_age — a second factor exactly max_age old passes, one second older steps up', () => {
    const admin = target('app.example.com', '/admin/users');
    expect(decide(sample, admin, identityAt('aal2', { secondFactorAt: now - 300 }), now)).toMatchObject({ kind: 'allow', rule: { index: 1 } });
    expect(decide(sample, admin, identityAt('aal2', { secondFactorAt: now - 301 }), now)).toEqual({ kind: 'step_up', rule: expect.objectContaining({ index: 1 }), acr: 'aal2', maxAge: 300 });
    expect(decide(sample, admin, identityAt('aal2', { secondFactorAt: undefined }), now)).toMatchObject({ kind: 'step_up', maxAge: 300 });
    // Without max_age the age of the second factor does not matter.
    expect(decide(sample, target('app.example.com', '/'), identityAt('aal2', { secondFactorAt: now - 86_400 }), now).kind).toBe('allow');
  });

  it('FA-10: a session too weak for the rule steps up with the rule\'s max_age', () => {
    expect(decide(sample, target('app.example.com', '/admin/'), identityAt('aal1'), now)).toMatchObject({ kind: 'step_up', acr: 'aal2', maxAge: 300 });
  });

  it('FA-11: users — someone not listed is denied, before any step-up; without a session, sign-in', () => {
    const admin = target('app.example.com', '/admin');
    expect(decide(sample, admin, identityAt('aal2', { username: 'bob', secondFactorAt: now - 10 }), now).kind).toBe('allow');
    expect(decide(sample, admin, identityAt('aal2', { username: 'mallory' }), now)).toMatchObject({ kind: 'deny', reason: 'user_not_allowed' });
    expect(decide(sample, admin, identityAt('aal1', { username: 'mallory' }), now)).toMatchObject({ kind: 'deny', reason: 'user_not_allowed' });
    expect(decide(sample, admin, undefined, now)).toMatchObject({ kind: 'sign_in', acr: 'aal2' });
  });

  it.each([
    ['/admin/../x', 'judged as /x: the default rule', -1],
    ['/x/../admin', 'judged as /admin', 1],
    ['/%61dmin/users', 'judged as /admin/users', 1],
    ['/ADMIN', 'paths are case-sensitive, as on the server', -1],
    ['//admin//users', 'judged as /admin/users', 1],
    ['/public/..%2F..%2Fadmin', 'refused (%2F)', undefined],
    ['/admin\r\nX-Remote-User: bob', 'refused (CR/LF)', undefined],
  ])('FA-12: a hostile path %j is %s', (uri, _how, ruleIndex) => {
    const normalized = normalizeRequestTarget({ method: 'GET', host: 'app.example.com', uri });
    const decision = decide(sample, normalized, identityAt('aal2', { username: 'mallory' }), now);
    if (ruleIndex === undefined) expect(decision).toEqual({ kind: 'deny', rule: undefined, reason: 'invalid_target' });
    else expect(decision.kind === 'deny' ? decision.rule?.index : decision.rule.index).toBe(ruleIndex);
  });

  it('FA-12: a refused target is denied even under a bypass default', () => {
    expect(decide(rules('default: bypass\n'), undefined, identityAt('phr'), now)).toMatchObject({ kind: 'deny', reason: 'invalid_target' });
  });

  it('FA-12: the host is judged lowercased and without its port', () => {
    expect(decide(sample, normalizeRequestTarget({ method: 'GET', host: 'STATUS.Example.com:443', uri: '/health' }), undefined, now).kind).toBe('allow');
  });

  it('FA-13: with 10,000 rules a decision looks only at the rules for its host, and decides right', () => {
    const lines = ['default: deny', 'rules:'];
    for (let n = 0; n < 10_000; n++) lines.push(`  - {hosts: [app${n}.example.com], paths: ["/admin/**", "/api/*/keys"], policy: ${n % 2 === 0 ? 'two_factor' : 'bypass'}}`);
    lines[lines.length - 1] = '  - {hosts: ["*.example.com"], paths: ["/status"], policy: bypass}';
    const big = rules(`${lines.join('\n')}\n`);
    expect(big.rules).toHaveLength(10_000);
    expect(rulesForHost(big, 'app4242.example.com').map((rule) => rule.index)).toEqual([4242, 9999]);
    expect(rulesForHost(big, 'unknown.example.com').map((rule) => rule.index)).toEqual([9999]);
    expect(rulesForHost(big, 'example.org')).toEqual([]);
    expect(decide(big, target('app4242.example.com', '/admin/x'), undefined, now)).toMatchObject({ kind: 'sign_in', rule: { index: 4242 } });
    expect(decide(big, target('app4243.example.com', '/api/v1/keys'), undefined, now)).toMatchObject({ kind: 'allow', rule: { index: 4243 } });
    expect(decide(big, target('app4243.example.com', '/status'), undefined, now)).toMatchObject({ kind: 'allow', rule: { index: 9999 } });
    expect(decide(big, target('app4243.example.com', '/other'), undefined, now)).toMatchObject({ kind: 'deny', rule: { index: -1 } });
  });

  it('FA-09/FA-10: property — an allow under a session policy always means the proven level meets it and the second factor is young enough', () => {
    const policy = fc.constantFrom('one_factor', 'two_factor', 'phishing_resistant');
    const acr = fc.constantFrom('aal1', 'aal2', 'phr', 'phrh', 'urn:other');
    const amr = fc.subarray(['pwd', 'otp', 'sms', 'swk', 'hwk', 'mfa']);
    const age = fc.option(fc.integer({ min: -10, max: 1000 }), { nil: undefined });
    const maxAge = fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined });
    fc.assert(
      fc.property(policy, acr, amr, age, maxAge, (rulePolicy, sessionAcr, sessionAmr, secondFactorAge, ruleMaxAge) => {
        const file = `rules:\n  - hosts: [a.example.com]\n    policy: ${rulePolicy}\n${ruleMaxAge !== undefined && rulePolicy !== 'one_factor' ? `    max_age: ${ruleMaxAge}\n` : ''}`;
        const identity = identityAt('aal1', { acr: sessionAcr, amr: sessionAmr, secondFactorAt: secondFactorAge === undefined ? undefined : now - secondFactorAge });
        const decision = decide(rules(file), target('a.example.com', '/'), identity, now);
        const wanted = { one_factor: 'aal1', two_factor: 'aal2', phishing_resistant: 'phr' }[rulePolicy];
        const proven = provenAssuranceLevel(identity);
        const meets = proven !== undefined && acrSatisfies(proven, [wanted]);
        const young = ruleMaxAge === undefined || rulePolicy === 'one_factor' || (secondFactorAge !== undefined && secondFactorAge <= ruleMaxAge);
        expect(decision.kind).toBe(meets && young ? 'allow' : 'step_up');
      }),
      { numRuns: 500 },
    );
  });
});
