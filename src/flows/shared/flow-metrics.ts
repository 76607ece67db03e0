// What the flows report to metrics directly, as they see it: the counters and their label sets.
// The Prometheus implementation (instance/metrics.ts) derives everything else from security events
// and sits above the flows; the flows only know this interface, so it lives beside the FlowContext.

export type ThrottleScope = 'ip' | 'account';
export type ThrottleDecision = 'allowed' | 'delayed' | 'locked';
export type SendChannel = 'sms' | 'email';
/** Which send budget refused: a message's destination, its account, the client's network, everyone's, or a notice's recipient. */
export type SendBudgetScope = 'destination' | 'account' | 'client' | 'global' | 'recipient';
export type RequestBudgetAction = 'register' | 'password_forgot' | 'email_verification' | 'oidc_registration' | 'passkey_sign_in';
export type RequestBudgetScope = 'client' | 'account';

/** What the flows report directly (everything else is derived from security events). */
export interface FlowMetrics {
  countThrottleDecision(scope: ThrottleScope, decision: ThrottleDecision): void;
  /** A message not sent because a send budget was spent (RC-02). */
  countSendRefused(channel: SendChannel, scope: SendBudgetScope): void;
  /** A request refused because its budget was spent (registrations, forgot-password, verification mails). */
  countRequestRefused(action: RequestBudgetAction, scope: RequestBudgetScope): void;
  /** A password step refused before any hashing: the account is waiting or locked (its event is coalesced, this is not). */
  countLoginRefused(reason: 'waiting' | 'locked'): void;
}

/** Metrics off: the flows call this, and nothing happens. */
export const noFlowMetrics: FlowMetrics = { countThrottleDecision() {}, countSendRefused() {}, countRequestRefused() {}, countLoginRefused() {} };
