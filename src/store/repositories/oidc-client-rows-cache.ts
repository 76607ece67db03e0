// The provider reads its client's row on nearly every request — authorize, the interaction, the
// token endpoint, userinfo (thousands a second) — and a client changes only when an operator runs
// `twofold clients …` or an app updates its own registration. So a client's row is kept in memory
// for a second. A write in this process (the CLI's functions, dynamic registration through the
// adapter, a re-sealed secret) forgets every kept row at once; a write elsewhere — the CLI as its
// own process, another instance — is announced over the cluster events (oidc_clients.changed,
// which forgets them too) and in any case seen within `freshForMs`: a removed client, a changed
// redirect URI or a rotated secret takes effect on every instance within a second.
import type { Executor, OidcPayloadRow } from '../database.js';

const freshForMs = 1_000;
/** A bound, not a working set (clients number in the tens): past it the kept rows are dropped. */
const maxRows = 1_000;

interface Kept {
  row: OidcPayloadRow;
  /** The write generation it was read in: any client write since makes it stale. */
  generation: number;
  readAt: number;
}

let generation = 0;
const keptByDatabase = new WeakMap<Executor, Map<string, Kept>>();

/** Every kept client row is stale: a client was written (here, or announced by another process). */
export function forgetKeptClientRows(): void {
  generation += 1;
}

export function currentClientRowsGeneration(): number {
  return generation;
}

/** The kept row of the client, if it is fresh and still live at `now`; undefined when it must be read. */
export function keptClientRow(db: Executor, clientId: string, now: number): OidcPayloadRow | undefined {
  const kept = keptByDatabase.get(db)?.get(clientId);
  if (kept === undefined || kept.generation !== generation || performance.now() - kept.readAt >= freshForMs) return undefined;
  const expiresAt = kept.row.expires_at;
  return expiresAt === null || Number(expiresAt) > now ? kept.row : undefined;
}

/** Keeps a row read during `readGeneration` (taken before the read: a write during it makes the row stale). */
export function keepClientRow(db: Executor, clientId: string, row: OidcPayloadRow, readGeneration: number): void {
  // A transaction's reads are not kept: it is a new object each time, and may see its own writes.
  if (db.isTransaction || readGeneration !== generation) return;
  let kept = keptByDatabase.get(db);
  if (kept === undefined) keptByDatabase.set(db, (kept = new Map()));
  if (kept.size >= maxRows) kept.clear();
  kept.set(clientId, { row, generation: readGeneration, readAt: performance.now() });
}
