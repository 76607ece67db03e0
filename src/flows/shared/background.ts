// Work a request starts but does not wait for (a reset code sent after the uniform answer, a
// notification): tracked, so that shutdown — and a test — can wait until it is done, and its
// failures are logged rather than lost as unhandled rejections.

export interface BackgroundTasks {
  /** Starts `work` after the answer (a later turn of the event loop), or `delayMs` later. */
  run(name: string, work: () => Promise<void>, options?: { delayMs?: number }): void;
  flush(): Promise<void>;
}

export function createBackgroundTasks(onError: (name: string, error: unknown) => void): BackgroundTasks {
  const pending = new Set<Promise<void>>();
  return {
    run(name, work, options = {}) {
      // Started on a later turn of the event loop, not as a microtask: the answer is written to the
      // socket first. (SQLite calls are synchronous; run as a microtask, their time would land in
      // the answer of the request that started them — a timing oracle, LG-01/02/03.)
      const delayMs = options.delayMs ?? 0;
      const task = new Promise<void>((resolve) => (delayMs > 0 ? setTimeout(resolve, delayMs) : setImmediate(resolve)))
        .then(work)
        .catch((error: unknown) => onError(name, error))
        .finally(() => pending.delete(task));
      pending.add(task);
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
