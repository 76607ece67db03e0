// Revoked sessions, polled from the issuer's feed (GET /v1/revoked-sessions?since=…). An access
// token stays valid by signature until it expires; a logout, a password change or a reused
// refresh token revokes its session at once, and this feed carries that to resource servers
// within one polling interval. The feed only lists sessions whose tokens could still be alive,
// so this set stays small and prunes itself.
//
// Until the first answer arrives the verifier cannot know what was revoked, so it refuses to
// answer (503); after that a failed poll keeps the last known set and is reported, not fatal.
import { VerificationError } from './errors.js';
import { fetchJson, type FetchFunction } from './http-json.js';

export interface RevocationFeedOptions {
  url: () => Promise<string>;
  fetch: FetchFunction;
  intervalMs: number;
  timeoutMs: number;
  now: () => number;
  onBackgroundError: (error: unknown) => void;
}

/** Re-asks for a little of the past each time: a revocation committed during the previous poll is not missed. */
const overlapMs = 5_000;

export class RevocationFeed {
  private readonly revokedUntil = new Map<string, number>();
  private asOf: number | undefined;
  private firstLoad: Promise<void> | undefined;
  private firstLoadFailure: { at: number; error: unknown } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Feed requests made, for the verifier's stats. */
  polls = 0;

  constructor(private readonly options: RevocationFeedOptions) {}

  /** Resolves after the first successful poll; starts polling on first use. */
  ready(): Promise<void> {
    if (this.asOf !== undefined) return Promise.resolve();
    // While the issuer is unreachable, requests fail fast instead of each asking again; the
    // polling timer keeps trying.
    const failure = this.firstLoadFailure;
    if (failure !== undefined && this.options.now() - failure.at < Math.min(this.options.intervalMs, 5_000)) return Promise.reject(failure.error);
    this.firstLoad ??= this.poll()
      .catch((error: unknown) => {
        this.firstLoadFailure = { at: this.options.now(), error };
        throw error;
      })
      .finally(() => {
        this.firstLoad = undefined;
        this.schedule();
      });
    return this.firstLoad;
  }

  /** True once the feed has answered; until then ready() must be awaited. */
  get isReady(): boolean {
    return this.asOf !== undefined;
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

  async poll(): Promise<void> {
    this.polls += 1;
    const base = await this.options.url();
    const url = new URL(base);
    if (this.asOf !== undefined) url.searchParams.set('since', String(Math.max(0, this.asOf - overlapMs)));
    const answer = await fetchJson(this.options.fetch, url.toString(), this.options.timeoutMs, 'the revoked-session feed');
    const asOf = answer['as_of'];
    const sessions = answer['sessions'];
    if (typeof asOf !== 'number' || !Array.isArray(sessions)) {
      throw new VerificationError('verifier_unavailable', `The revoked-session feed at ${base} answered in an unexpected shape`);
    }
    for (const entry of sessions as unknown[]) {
      const { sid, until } = (entry ?? {}) as Record<string, unknown>;
      if (typeof sid === 'string' && typeof until === 'number') this.revokedUntil.set(sid, until);
    }
    const now = this.options.now();
    for (const [sid, until] of this.revokedUntil) if (until <= now) this.revokedUntil.delete(sid);
    this.asOf = asOf;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
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
