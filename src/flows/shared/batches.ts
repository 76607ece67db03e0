// Work over rows that can be many (pruning, retiring, ending every session of a user) runs in small
// batches with a turn of the event loop between them. On SQLite a statement runs synchronously on
// the event loop, so one statement over 100,000 rows holds every request — /healthz too — for as
// long as it takes; a batch of a few hundred rows holds it for about a millisecond.

/** Rows one batch touches: about a millisecond of SQLite. */
export const defaultBatchRows = 500;

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `step` (which handles up to `batchRows` rows and says how many it did) until a batch comes
 * back short, yielding between batches; at most `maxBatches` batches, so one run is bounded too
 * (the rest waits for the next run). Returns the rows handled.
 */
export async function runInBatches(step: (batchRows: number) => Promise<number>, options: { batchRows?: number; maxBatches?: number } = {}): Promise<number> {
  const batchRows = options.batchRows ?? defaultBatchRows;
  const maxBatches = options.maxBatches ?? 10_000;
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch += 1) {
    const done = await step(batchRows);
    total += done;
    if (done < batchRows) break;
    await yieldToEventLoop();
  }
  return total;
}

/** Splits ids into chunks of at most `size` (for `where id in (…)` within parameter limits). */
export function chunksOf<T>(items: readonly T[], size = defaultBatchRows): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
