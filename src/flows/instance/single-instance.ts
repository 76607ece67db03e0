// Without Redis, Twofold's throttles, send budgets and revoked-session denylist live in the
// process's own memory. A second process on the same database would count every guess budget
// again (an attacker spreading a burst over N instances gets N budgets) and would not hear of the
// first one's logouts. So without Redis an instance holds a lease in the database, renewed in the
// background, and a second one refuses to start: more than one instance needs Redis.
// A holder that crashed is replaced at once when it ran on this host (its process is gone), else
// once its lease lapses unrenewed. The lease runs on the wall clock, not the flows' clock: it is
// about processes being alive.
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { generateId } from '../../core/crypto/random.js';
import type { Database } from '../../store/database.js';
import { acquireInstanceLease, releaseInstanceLease, renewInstanceLease, replaceInstanceLease, type InstanceLease } from '../../store/repositories/instance-leases.js';

const leaseName = 'single-instance';

export interface SingleInstanceLease {
  release(): Promise<void>;
}

export interface LeaseTiming {
  /** How long a lease outlives its last renewal: the longest wait after a crash on another host. */
  ttlMs: number;
  renewEveryMs: number;
}

export const defaultLeaseTiming: LeaseTiming = { ttlMs: 15_000, renewEveryMs: 5_000 };

export class AnotherInstanceRunningError extends Error {
  override readonly name = 'AnotherInstanceRunningError';
}

/** Whether a process of this host is gone (an EPERM answer means it exists under another user). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Holders alive in this process (library mode may open several Twofolds, each its own holder). */
const holdersInThisProcess = new Set<string>();

/**
 * A holder that can no longer be running: on this host, and its process gone — or its pid is this
 * process's, but it is none of this process's holders (a restarted container is pid 1 again).
 */
function holderIsDead(held: InstanceLease, host: string): boolean {
  if (held.host !== host) return false;
  return held.pid === process.pid ? !holdersInThisProcess.has(held.holder) : processGone(held.pid);
}

/**
 * Takes the lease, replacing a holder known to be dead and waiting out one that lapses unrenewed;
 * throws when another live instance keeps renewing it.
 */
export async function holdSingleInstanceLease(
  db: Kysely<Database>,
  options: { timing?: LeaseTiming | undefined; onLost: (message: string) => void; wallClock?: () => number },
): Promise<SingleInstanceLease> {
  const timing = options.timing ?? defaultLeaseTiming;
  const wallClock = options.wallClock ?? Date.now;
  const host = hostname();
  const holder = generateId('ins');
  const ours = (): InstanceLease => ({ name: leaseName, holder, host, pid: process.pid, expires_at: wallClock() + timing.ttlMs });
  const deadline = wallClock() + timing.ttlMs + timing.renewEveryMs;
  for (;;) {
    const held = await acquireInstanceLease(db, ours(), wallClock());
    if (held?.holder === holder) break;
    if (held !== undefined && holderIsDead(held, host) && (await replaceInstanceLease(db, ours(), held.holder))) break;
    if (wallClock() >= deadline) {
      throw new AnotherInstanceRunningError(
        `Another Twofold instance (pid ${held?.pid ?? '?'} on ${held?.host ?? '?'}) is running on this database without Redis. Without Redis an instance keeps its ` +
          'throttles and revoked sessions in its own memory, so it must be the only one: stop the other instance, or set TWOFOLD_REDIS_URL on every instance to run several.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, timing.renewEveryMs)));
  }
  holdersInThisProcess.add(holder);
  let lost = false;
  const timer = setInterval(() => {
    renewInstanceLease(db, { name: leaseName, holder, expiresAt: wallClock() + timing.ttlMs }).then(
      (held) => {
        if (held || lost) return;
        lost = true;
        options.onLost('this instance lost its single-instance lease to another instance (its renewals had failed): run one instance, or use Redis');
      },
      () => undefined, // A database hiccup: the next renewal tries again, within the lease's life.
    );
  }, timing.renewEveryMs).unref();
  return {
    async release() {
      clearInterval(timer);
      holdersInThisProcess.delete(holder);
      await releaseInstanceLease(db, { name: leaseName, holder }).catch(() => undefined);
    },
  };
}
