// Bounds expensive work (argon2id: ~19 MiB and one libuv thread per hash). At most `maxInFlight`
// run at once and `maxQueued` wait; anything beyond is refused at once, so a login flood costs
// bounded memory and leaves threadpool threads for everything else (WebCrypto, which jose uses,
// verifies there too: with 8 hashes in flight a jose verify waited ≈44 ms instead of ≈0.6 ms). The caller turns a refusal into 503 server_busy with Retry-After.

export class WorkLimiterFullError extends Error {
  override readonly name = 'WorkLimiterFullError';
}

export interface WorkLimiter {
  run<T>(work: () => Promise<T>): Promise<T>;
  readonly inFlight: number;
  readonly queued: number;
}

export function createWorkLimiter(options: { maxInFlight: number; maxQueued: number }): WorkLimiter {
  const { maxInFlight, maxQueued } = options;
  if (!(maxInFlight >= 1)) throw new RangeError('maxInFlight must be at least 1');
  let inFlight = 0;
  const waiting: Array<() => void> = [];

  const release = (): void => {
    const next = waiting.shift();
    if (next === undefined) inFlight -= 1;
    else next(); // hand the slot straight to the next waiter: inFlight stays the same
  };

  return {
    get inFlight() {
      return inFlight;
    },
    get queued() {
      return waiting.length;
    },
    async run(work) {
      if (inFlight < maxInFlight) {
        inFlight += 1;
      } else if (waiting.length < maxQueued) {
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        throw new WorkLimiterFullError(`work limiter full: ${inFlight} running, ${waiting.length} queued`);
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
