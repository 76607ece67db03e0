// Prometheus metrics of one Twofold instance (GET /metrics, off unless TWOFOLD_METRICS or
// TWOFOLD_METRICS_TOKEN is set). Each instance has its own Registry — never prom-client's global
// one — so two instances in one process (tests, an app embedding two) neither share nor collide.
// - Authentication outcomes come from the security events every flow already records (one more
//   sink beside the log, the audit trail and notifications), not from calls spread through flows.
// - What the flows count directly (throttle decisions, refused sends and requests) goes through the
//   FlowMetrics interface (shared/flow-metrics.ts), counted where it is decided (the budgets);
//   the password-hash queue is read at scrape time and timed by the hasher's observer; HTTP latency
//   by src/http/metrics.ts.
// - Every label value comes from a fixed set (route patterns, event types, proof kinds), never
//   from a request: no username, id or IP can become a series, and cardinality stays bounded.
// - Node's default metrics (CPU, memory, event-loop lag, GC) are collected once per process and
//   registered into each instance's registry: they describe the process, and collecting them per
//   instance would leave one GC observer and one event-loop monitor behind for every instance.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkLimiter } from '../../core/concurrency/work-limiter.js';
import type { PasswordHashObserver, PasswordHashOperation } from '../../core/password/hasher.js';
import { amrFor, type AuthMethod } from '../../core/tokens/authentication-methods.js';
import type { ProofKind } from '../sessions/second-factor.js';
import type { MemoryStore } from '../../store/kv/memory.js';
import type { SecurityEvent, SecurityEventSink } from '../shared/security-events.js';
import type { FlowMetrics, RequestBudgetAction, RequestBudgetScope, SendBudgetScope, SendChannel, ThrottleDecision, ThrottleScope } from '../shared/flow-metrics.js';

const sendChannels: readonly SendChannel[] = ['sms', 'email'];
const sendScopes: readonly SendBudgetScope[] = ['destination', 'account', 'client', 'global', 'recipient'];
const requestBudgets: ReadonlyArray<[RequestBudgetAction, RequestBudgetScope]> = [
  ['register', 'client'],
  ['password_forgot', 'client'],
  ['password_forgot', 'account'],
  ['email_verification', 'account'],
  ['oidc_registration', 'client'],
  ['passkey_sign_in', 'client'],
];

export type HttpRequestLabel = 'method' | 'route' | 'status_class';

export interface TwofoldMetrics extends FlowMetrics {
  /** This instance's registry: what GET /metrics serves (a host app may merge it into its own). */
  readonly registry: Registry;
  /** The security-event sink that counts authentication outcomes. */
  readonly events: SecurityEventSink;
  /** Timing of the password hasher (queue wait and argon2id compute). */
  readonly passwordHashes: PasswordHashObserver;
  /** Observed by the HTTP layer with label objects it caches per route (src/http/metrics.ts). */
  readonly httpRequestDuration: Histogram<HttpRequestLabel>;
}

type LoginOutcome = 'ok' | 'failed' | 'throttled' | 'locked';
type SecondFactorOutcome = 'ok' | 'wrong_code' | 'malformed' | 'replay';
type MethodLabel = ProofKind | 'unknown';

const proofKinds: ReadonlySet<string> = new Set<ProofKind>(['totp', 'sms', 'email', 'webauthn', 'recovery_code', 'trusted_device']);

const methodOfAuthMethod: Record<AuthMethod, ProofKind> = {
  totp: 'totp',
  sms: 'sms',
  email: 'email',
  webauthn_hardware: 'webauthn',
  webauthn_software: 'webauthn',
  recovery_code: 'recovery_code',
  trusted_device: 'trusted_device',
};

/**
 * `login.completed` and `step_up.completed` carry the session's `amr` ("pwd otp mfa"); one amr per
 * method — after a password, or a passkey alone ("swk mfa", or "swk" without UV).
 */
const methodByAmr: ReadonlyMap<string, ProofKind> = new Map(
  (Object.entries(methodOfAuthMethod) as Array<[AuthMethod, ProofKind]>).flatMap(([method, kind]) => [
    [amrFor(method).join(' '), kind],
    [amrFor(method, { withPassword: false, userVerified: true }).join(' '), kind],
    [amrFor(method, { withPassword: false, userVerified: false }).join(' '), kind],
  ]),
);

const throttleDecisions: ReadonlyArray<[ThrottleScope, ThrottleDecision]> = [
  ['ip', 'allowed'],
  ['ip', 'delayed'],
  ['account', 'allowed'],
  ['account', 'delayed'],
  ['account', 'locked'],
];

/** Request durations from ~1 ms (a cached token check) to 10 s (a slow SMS provider). */
const httpDurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** argon2id at OWASP parameters takes ≈15 ms on a fast core; cheaper test parameters ≈1 ms. */
const hashDurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1];
const hashWaitBuckets = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

let processRegistry: Registry | undefined;

/** Node's default metrics, collected once per process (see the file comment). */
function nodeProcessMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export interface MetricsOptions {
  hashLimiter: WorkLimiter;
  hashConcurrency: number;
  hashQueueLimit: number;
  /** The in-process KeyValueStore, when there is no Redis: its size and evictions are reported. */
  memoryStore?: Pick<MemoryStore, 'stats'> | undefined;
}

export function createTwofoldMetrics(options: MetricsOptions): TwofoldMetrics {
  const registry = new Registry();
  const shared = nodeProcessMetrics();
  for (const { name } of shared.getMetricsAsArray()) {
    const metric = shared.getSingleMetric(name);
    if (metric !== undefined) registry.registerMetric(metric);
  }
  const registers = [registry];

  const logins = new Counter({
    name: 'twofold_logins_total',
    help: 'Password steps of a sign-in by outcome: ok (mfa_token issued), failed (unknown user, wrong password or disabled account, alike), throttled, locked.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const secondFactors = new Counter({
    name: 'twofold_second_factor_verifications_total',
    help: 'Second-factor proofs by method and outcome: ok (sign-in or step-up completed), wrong_code, malformed, replay.',
    labelNames: ['method', 'outcome'] as const,
    registers,
  });
  const securityEvents = new Counter({
    name: 'twofold_security_events_total',
    help: 'Security events recorded (the audit trail), by type.',
    labelNames: ['type'] as const,
    registers,
  });
  const throttle = new Counter({
    name: 'twofold_throttle_decisions_total',
    help: 'Throttle checks before a password or second-factor attempt, by scope (ip, account) and decision (allowed, delayed, locked).',
    labelNames: ['scope', 'decision'] as const,
    registers,
  });
  const sendRefusals = new Counter({
    name: 'twofold_send_budget_refusals_total',
    help: 'SMS and e-mail messages not sent because a budget was spent, by channel and scope (destination, account, client network, global, a notice\'s recipient).',
    labelNames: ['channel', 'scope'] as const,
    registers,
  });
  const requestRefusals = new Counter({
    name: 'twofold_request_budget_refusals_total',
    help: 'Requests refused (429) because their budget was spent, by action (register, password_forgot, email_verification) and scope (client network, account).',
    labelNames: ['action', 'scope'] as const,
    registers,
  });
  const hashDuration = new Histogram({
    name: 'twofold_password_hash_duration_seconds',
    help: 'Time computing one argon2id hash or verify, by operation (without the wait for a slot).',
    labelNames: ['operation'] as const,
    buckets: hashDurationBuckets,
    registers,
  });
  const hashWait = new Histogram({
    name: 'twofold_password_hash_wait_seconds',
    help: 'Time a hash or verify waited for one of the TWOFOLD_HASH_CONCURRENCY slots, by operation.',
    labelNames: ['operation'] as const,
    buckets: hashWaitBuckets,
    registers,
  });
  const hashRefused = new Counter({
    name: 'twofold_password_hash_refused_total',
    help: 'Hashes refused because TWOFOLD_HASH_QUEUE_LIMIT were already waiting (answered 503 server_busy), by operation.',
    labelNames: ['operation'] as const,
    registers,
  });
  const { hashLimiter } = options;
  new Gauge({
    name: 'twofold_password_hash_queue_depth',
    help: 'Password hashes now computing (state="in_flight") and waiting for a slot (state="queued").',
    labelNames: ['state'] as const,
    registers,
    // Read at scrape time: the hash path itself pays nothing for this gauge.
    collect() {
      this.set({ state: 'in_flight' }, hashLimiter.inFlight);
      this.set({ state: 'queued' }, hashLimiter.queued);
    },
  });
  const hashCapacity = new Gauge({
    name: 'twofold_password_hash_queue_capacity',
    help: 'Limits of the password-hash queue: TWOFOLD_HASH_CONCURRENCY (state="in_flight") and TWOFOLD_HASH_QUEUE_LIMIT (state="queued").',
    labelNames: ['state'] as const,
    registers,
  });
  hashCapacity.set({ state: 'in_flight' }, options.hashConcurrency);
  hashCapacity.set({ state: 'queued' }, options.hashQueueLimit);
  const { memoryStore } = options;
  if (memoryStore !== undefined) {
    new Gauge({
      name: 'twofold_memory_store_keys',
      help: 'Keys in the in-process store (state="held"), of which locks and waits kept until they expire (state="kept_until_expiry"), and its bound TWOFOLD_MEMORY_STORE_MAX_KEYS (state="max").',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const stats = memoryStore.stats();
        this.set({ state: 'held' }, stats.keys);
        this.set({ state: 'kept_until_expiry' }, stats.keptUntilExpiry);
        this.set({ state: 'max' }, stats.maxKeys);
      },
    });
    let evictionsReported = 0;
    new Counter({
      name: 'twofold_memory_store_evictions_total',
      help: 'Live keys the in-process store forgot before they expired, to stay within TWOFOLD_MEMORY_STORE_MAX_KEYS (the least recently used; never a lock or a wait).',
      registers,
      collect() {
        const { evicted } = memoryStore.stats();
        this.inc(evicted - evictionsReported);
        evictionsReported = evicted;
      },
    });
  }
  const httpRequestDuration = new Histogram({
    name: 'twofold_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern ("unmatched" for unknown paths) and status class.',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: httpDurationBuckets,
    registers,
  });

  // Known series start at 0, so rate() and absent-series alerts work from the first scrape.
  const loginLabels: Record<LoginOutcome, { outcome: LoginOutcome }> = {
    ok: { outcome: 'ok' },
    failed: { outcome: 'failed' },
    throttled: { outcome: 'throttled' },
    locked: { outcome: 'locked' },
  };
  for (const labels of Object.values(loginLabels)) logins.inc(labels, 0);
  const throttleLabels: Record<ThrottleScope, Partial<Record<ThrottleDecision, { scope: ThrottleScope; decision: ThrottleDecision }>>> = { ip: {}, account: {} };
  for (const [scope, decision] of throttleDecisions) {
    const labels = { scope, decision };
    throttleLabels[scope][decision] = labels;
    throttle.inc(labels, 0);
  }
  const sendRefusalLabels = new Map<string, { channel: SendChannel; scope: SendBudgetScope }>();
  for (const channel of sendChannels) {
    for (const scope of sendScopes) {
      const labels = { channel, scope };
      sendRefusalLabels.set(`${channel}:${scope}`, labels);
      sendRefusals.inc(labels, 0);
    }
  }
  const requestRefusalLabels = new Map<string, { action: RequestBudgetAction; scope: RequestBudgetScope }>();
  for (const [action, scope] of requestBudgets) {
    const labels = { action, scope };
    requestRefusalLabels.set(`${action}:${scope}`, labels);
    requestRefusals.inc(labels, 0);
  }
  const operationLabels: Record<PasswordHashOperation, { operation: PasswordHashOperation }> = { hash: { operation: 'hash' }, verify: { operation: 'verify' } };
  for (const labels of Object.values(operationLabels)) hashRefused.inc(labels, 0);

  const countSecondFactor = (method: MethodLabel, outcome: SecondFactorOutcome): void => secondFactors.inc({ method, outcome });

  const events: SecurityEventSink = {
    record(event) {
      securityEvents.inc({ type: event.type });
      switch (event.type) {
        case 'login.password_verified':
          return logins.inc(loginLabels.ok);
        case 'login.password_failed':
          // One outcome for unknown user, wrong password and disabled: the series must not tell
          // apart what the API itself does not (LG-01..03).
          return logins.inc(loginLabels.failed);
        case 'login.completed':
        case 'step_up.completed':
          return countSecondFactor(methodByAmr.get(String(event.details?.['amr'])) ?? 'unknown', 'ok');
        case 'mfa.failed':
          return countSecondFactor(failedMethodOf(event), event.details?.['reason'] === 'malformed' ? 'malformed' : 'wrong_code');
        case 'mfa.replay_rejected':
          return countSecondFactor(failedMethodOf(event), 'replay');
        default:
          return undefined;
      }
    },
  };

  return {
    registry,
    events,
    httpRequestDuration,
    passwordHashes: {
      observe(operation, waitSeconds, computeSeconds) {
        hashWait.observe(operationLabels[operation], waitSeconds);
        hashDuration.observe(operationLabels[operation], computeSeconds);
      },
      refused(operation) {
        hashRefused.inc(operationLabels[operation]);
      },
    },
    countThrottleDecision(scope, decision) {
      const labels = throttleLabels[scope][decision];
      if (labels !== undefined) throttle.inc(labels);
    },
    countSendRefused(channel, scope) {
      const labels = sendRefusalLabels.get(`${channel}:${scope}`);
      if (labels !== undefined) sendRefusals.inc(labels);
    },
    countRequestRefused(action, scope) {
      const labels = requestRefusalLabels.get(`${action}:${scope}`);
      if (labels !== undefined) requestRefusals.inc(labels);
    },
    countLoginRefused(reason) {
      logins.inc(reason === 'locked' ? loginLabels.locked : loginLabels.throttled);
    },
  };
}

/** The proof kind a failure event names (only values of the fixed set become a label). */
function failedMethodOf(event: SecurityEvent): MethodLabel {
  const method = event.details?.['method'];
  return typeof method === 'string' && proofKinds.has(method) ? (method as ProofKind) : 'unknown';
}
