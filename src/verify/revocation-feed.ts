// Revoked sessions, polled from the issuer's feed (GET /v1/revoked-sessions). An access token
// stays valid by signature until it expires; a logout, a password change or a reused refresh
// token revokes its session at once, and this feed carries that to resource servers within one
// polling interval. The feed only lists sessions whose tokens could still be alive, so this set
// stays small and prunes itself.
//
// One poll reads the whole answer: the feed pages on the strict order (revocation time, session
// id), and a full page carries the cursor of the next (`next_after`), followed at once — so a
// burst of revocations in one millisecond, however large, never freezes the feed (RC-04), and a
// logout behind it still arrives within the interval. An issuer from before the cursor sends no
// `next_after`: then one page per poll, as before. A poll cut short resumes at its cursor.
//
// Until the first answer the verifier cannot know what was revoked, so it refuses to answer
// (503). After that it uses the last answer while polls fail — for at most `maxStalenessMs`, then
// it fails closed (503) until the feed answers again, unless the operator chose `failOpen`.
// Every failure goes to the error hook, and stats() tells when the feed last answered.
import { performance } from 'node:perf_hooks';
import { VerificationError, verifierUnavailable } from './errors.js';
import { fetchJson, type FetchFunction } from './http-json.js';

export interface RevocationFeedOptions {
  url: () => Promise<string>;
  fetch: FetchFunction;
  intervalMs: number;
  timeoutMs: number;
  /** Without a successful poll for this long, requests are refused (503); undefined: never (fail open). */
  maxStalenessMs: number | undefined;
  now: () => number;
  onBackgroundError: (error: VerificationError) => void;
}

export interface RevocationFeedStats {
  /** Polls started (one per interval; a poll may read several pages). */
  polls: number;
  /** Feed requests made (pages). */
  pages: number;
  /** Sessions currently known to be revoked. */
  revokedSessions: number;
  /** When a poll last read the whole feed (the `now` clock, ms); null before the first answer. */
  lastSuccessAt: number | null;
  /** The operator's text of the last failure, cleared by a success. */
  lastError: string | null;
  consecutiveFailures: number;
  /** True while requests are refused because the feed has not answered for maxStalenessMs. */
  failingClosed: boolean;
  /** Whether the issuer pages with a cursor (null until it has answered). */
  issuerPagesWithCursor: boolean | null;
}

/** Re-asks for a little of the past each time: a revocation committed during the previous poll is not missed. */
const overlapMs = 5_000;

interface FeedPage {
  asOf: number;
  sessions: unknown[];
  /** undefined: an issuer from before the cursor; null: the answer is complete. */
  nextAfter: string | null | undefined;
}

export class RevocationFeed {
  private readonly revokedUntil = new Map<string, number>();
  /** `as_of` of the last complete answer: the next poll starts a little before it. */
  private asOf: number | undefined;
  /** Where a poll cut short by a failure continues. */
  private resumeAt: { since: number; after: string } | undefined;
  private usable = false;
  private inFlight: Promise<void> | undefined;
  private firstLoadFailure: { at: number; error: VerificationError } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;
  private consecutiveFailures = 0;
  private failingClosed = false;
  private pagesWithCursor: boolean | null = null;
  /** Polls started, for the verifier's stats. */
  polls = 0;
  private pages = 0;

  constructor(private readonly options: RevocationFeedOptions) {}

  /**
   * True when requests may be answered from the known set: the feed has answered, and not too
   * long ago. A plain field read, because every request checks it (a cached token costs nothing else).
   */
  get isUsable(): boolean {
    return this.usable;
  }

  /** Resolves once the feed has answered (polling now if needed); rejects with a 503 error otherwise. */
  ready(): Promise<void> {
    if (this.usable) return Promise.resolve();
    if (this.failingClosed) {
      // Stale: the poller keeps trying on its interval; requests are refused at once meanwhile
      // rather than each holding a connection for a timeout.
      return Promise.reject(verifierUnavailable(`The revoked-session feed has not answered for over ${this.options.maxStalenessMs} ms; refusing tokens until it does`));
    }
    // While the issuer is unreachable at start, requests fail fast instead of each asking again;
    // the polling timer keeps trying.
    const failure = this.firstLoadFailure;
    if (failure !== undefined && performance.now() - failure.at < Math.min(this.options.intervalMs, 5_000)) return Promise.reject(failure.error);
    return this.poll().finally(() => this.schedule());
  }

  isRevoked(sessionId: string): boolean {
    const until = this.revokedUntil.get(sessionId);
    if (until === undefined) return false;
    if (until > this.options.now()) return true;
    this.revokedUntil.delete(sessionId);
    return false;
  }

  get size(): number {
    return this.revokedUntil.size;
  }

  stats(): RevocationFeedStats {
    return {
      polls: this.polls,
      pages: this.pages,
      revokedSessions: this.revokedUntil.size,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      consecutiveFailures: this.consecutiveFailures,
      failingClosed: this.failingClosed,
      issuerPagesWithCursor: this.pagesWithCursor,
    };
  }

  /** Reads the feed through to its end (single-flight: a poll already running is joined). */
  poll(): Promise<void> {
    this.inFlight ??= this.readThrough().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.staleTimer);
  }

  private async readThrough(): Promise<void> {
    this.polls += 1;
    try {
      const base = await this.options.url();
      let cursor: { since: number; after?: string } | undefined = this.resumeAt ?? (this.asOf === undefined ? undefined : { since: Math.max(0, this.asOf - overlapMs) });
      for (;;) {
        const page = await this.fetchPage(base, cursor);
        this.remember(page.sessions);
        if (typeof page.nextAfter !== 'string') {
          this.pagesWithCursor = page.nextAfter === null;
          this.asOf = page.asOf;
          this.resumeAt = undefined;
          break;
        }
        // A cursor that does not move would loop forever (a broken issuer): give up this poll.
        if (cursor?.after === page.nextAfter && cursor.since === page.asOf) throw verifierUnavailable(`The revoked-session feed at ${base} repeated its cursor`);
        cursor = { since: page.asOf, after: page.nextAfter };
        this.resumeAt = { since: page.asOf, after: page.nextAfter };
      }
    } catch (caught) {
      const error = caught instanceof VerificationError ? caught : verifierUnavailable(`Could not read the revoked-session feed: ${String(caught)}`, caught);
      this.consecutiveFailures += 1;
      this.lastError = error.diagnostic;
      if (this.lastSuccessAt === null) this.firstLoadFailure = { at: performance.now(), error };
      throw error;
    }
    this.markFresh();
  }

  private async fetchPage(base: string, cursor: { since: number; after?: string } | undefined): Promise<FeedPage> {
    this.pages += 1;
    const url = new URL(base);
    if (cursor !== undefined) url.searchParams.set('since', String(cursor.since));
    if (cursor?.after !== undefined) url.searchParams.set('after', cursor.after);
    const answer = await fetchJson(this.options.fetch, url.toString(), this.options.timeoutMs, 'the revoked-session feed');
    const asOf = answer['as_of'];
    const sessions = answer['sessions'];
    const nextAfter = answer['next_after'];
    if (typeof asOf !== 'number' || !Number.isSafeInteger(asOf) || !Array.isArray(sessions) || (nextAfter !== undefined && nextAfter !== null && typeof nextAfter !== 'string')) {
      throw verifierUnavailable(`The revoked-session feed at ${base} answered in an unexpected shape`);
    }
    return { asOf, sessions, nextAfter: nextAfter as string | null | undefined };
  }

  private remember(sessions: unknown[]): void {
    for (const entry of sessions) {
      const { sid, until } = (entry ?? {}) as Record<string, unknown>;
      if (typeof sid === 'string' && typeof until === 'number') this.revokedUntil.set(sid, until);
    }
    const now = this.options.now();
    for (const [sid, until] of this.revokedUntil) if (until <= now) this.revokedUntil.delete(sid);
  }

  private markFresh(): void {
    this.lastSuccessAt = this.options.now();
    this.lastError = null;
    this.consecutiveFailures = 0;
    this.firstLoadFailure = undefined;
    this.failingClosed = false;
    this.usable = true;
    const maxStalenessMs = this.options.maxStalenessMs;
    if (maxStalenessMs === undefined || this.closed) return;
    // A timer, not a clock read per request: the request path stays one field read.
    clearTimeout(this.staleTimer);
    this.staleTimer = setTimeout(() => {
      this.usable = false;
      this.failingClosed = true;
      this.options.onBackgroundError(
        verifierUnavailable(`The revoked-session feed has not answered for ${maxStalenessMs} ms (last error: ${this.lastError ?? 'none'}); refusing tokens until it does`),
      );
    }, maxStalenessMs).unref();
  }

  private schedule(): void {
    if (this.closed || this.timer !== undefined) return;
    const tick = (): void => {
      this.poll()
        .catch(this.options.onBackgroundError)
        .finally(() => {
          if (!this.closed) this.timer = setTimeout(tick, this.options.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.options.intervalMs).unref();
  }
}
