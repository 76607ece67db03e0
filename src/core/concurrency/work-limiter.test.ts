import { describe, expect, it } from 'vitest';
import { createWorkLimiter, WorkLimiterFullError } from './work-limiter.js';

/** A promise resolved from outside, so tests decide when each piece of work finishes. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued promise callbacks run (no timers involved). */
async function settle(): Promise<void> {
  for (let index = 0; index < 10; index += 1) await Promise.resolve();
}

describe('createWorkLimiter()', () => {
  it('never runs more than maxInFlight items at once', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 2, maxQueued: 100 });
    let running = 0;
    let maxRunning = 0;
    const work = async (): Promise<number> => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await settle();
      running -= 1;
      return running;
    };
    await Promise.all(Array.from({ length: 20 }, () => limiter.run(work)));
    expect(maxRunning).toBe(2);
    expect(limiter.inFlight).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it('reports inFlight and queued while work is held', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 2, maxQueued: 10 });
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const results = gates.map((gate) => limiter.run(() => gate.promise));
    expect(limiter.inFlight).toBe(2);
    expect(limiter.queued).toBe(2);
    for (const gate of gates) gate.resolve();
    await Promise.all(results);
    expect(limiter.inFlight).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it('runs queued work in arrival order once slots free up', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 1, maxQueued: 10 });
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, () => deferred());
    const results = gates.map((gate, index) =>
      limiter.run(async () => {
        started.push(index);
        await gate.promise;
        return index;
      }),
    );
    await settle();
    expect(started).toEqual([0]);
    gates[0]!.resolve();
    await settle();
    expect(started).toEqual([0, 1]);
    // Release the rest out of order: start order stays the arrival order.
    gates[4]!.resolve();
    gates[3]!.resolve();
    gates[1]!.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[2]!.resolve();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses work beyond maxQueued at once with WorkLimiterFullError, without running it', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 2, maxQueued: 3 });
    const gate = deferred();
    const accepted = Array.from({ length: 5 }, () => limiter.run(() => gate.promise));
    let ranRefused = false;
    const refused = limiter.run(async () => {
      ranRefused = true;
    });
    await expect(refused).rejects.toBeInstanceOf(WorkLimiterFullError);
    await expect(refused).rejects.toThrow(/2 running, 3 queued/);
    // Refused while the others are all still pending: nothing had to finish first.
    expect(limiter.inFlight).toBe(2);
    expect(limiter.queued).toBe(3);
    gate.resolve();
    await Promise.all(accepted);
    expect(ranRefused).toBe(false);
    // Once drained it accepts again.
    await expect(limiter.run(async () => 'ok')).resolves.toBe('ok');
  });

  it('with maxQueued 0 refuses anything beyond maxInFlight', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 1, maxQueued: 0 });
    const gate = deferred();
    const first = limiter.run(() => gate.promise);
    await expect(limiter.run(async () => undefined)).rejects.toBeInstanceOf(WorkLimiterFullError);
    gate.resolve();
    await first;
  });

  it('releases the slot of a work item that throws, and passes the error to its caller', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 1, maxQueued: 10 });
    const failing = limiter.run(async () => {
      throw new Error('hash failed');
    });
    const next = limiter.run(async () => 'next ran');
    await expect(failing).rejects.toThrow('hash failed');
    await expect(next).resolves.toBe('next ran');
    expect(limiter.inFlight).toBe(0);
  });

  it('releases the slot of a work item that throws synchronously', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 1, maxQueued: 0 });
    await expect(
      limiter.run(() => {
        throw new Error('sync failure');
      }),
    ).rejects.toThrow('sync failure');
    expect(limiter.inFlight).toBe(0);
    await expect(limiter.run(async () => 42)).resolves.toBe(42);
  });

  it('returns the value of the work', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 1, maxQueued: 1 });
    await expect(limiter.run(async () => ({ hash: 'x' }))).resolves.toEqual({ hash: 'x' });
  });

  it.each([[0], [-1], [Number.NaN]])('refuses maxInFlight %s with a RangeError', (maxInFlight) => {
    expect(() => createWorkLimiter({ maxInFlight, maxQueued: 1 })).toThrow(RangeError);
  });

  it('WorkLimiterFullError is an Error with its own name', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 1, maxQueued: 0 });
    const gate = deferred();
    const first = limiter.run(() => gate.promise);
    const error = await limiter.run(async () => undefined).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('WorkLimiterFullError');
    gate.resolve();
    await first;
  });
});
