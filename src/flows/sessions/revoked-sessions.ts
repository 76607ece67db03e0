// This instance's copy of the revoked-session denylist. The database stays the authority (every
// access token is checked against its session row); the copy lets a revoked session be refused
// before any query, and is fed by the other instances through pub/sub, so a logout anywhere is
// known here at once. Entries live as long as an access token of the session could.
//
// Every logout adds one and sweeps: the sweep takes expired entries off an expiry heap (O(log n)
// each, each entry once), never walking the set — a wave of logouts costs the same per logout
// however many sessions are already on the list (RC-05).
import { ExpiryHeap, notInHeap, type ExpiringItem } from '../../core/expiry/expiry-heap.js';
import type { RevokedSessions } from '../shared/context.js';

interface Revocation extends ExpiringItem {
  sessionId: string;
}

export class RevokedSessionSet implements RevokedSessions {
  private readonly revocations = new Map<string, Revocation>();
  private readonly byExpiry = new ExpiryHeap<Revocation>();

  /** Revoked until `expiresAt`; a session revoked twice stays revoked until the later time. */
  add(sessionId: string, expiresAt: number): void {
    const existing = this.revocations.get(sessionId);
    if (existing !== undefined) {
      if (expiresAt > existing.expiresAt) this.byExpiry.update(existing, expiresAt);
      return;
    }
    const revocation: Revocation = { sessionId, expiresAt, heapIndex: notInHeap };
    this.revocations.set(sessionId, revocation);
    this.byExpiry.push(revocation);
  }

  has(sessionId: string, now: number): boolean {
    const revocation = this.revocations.get(sessionId);
    if (revocation === undefined) return false;
    if (revocation.expiresAt > now) return true;
    this.drop(revocation);
    return false;
  }

  /** Drops expired entries; called when new ones arrive, so the set cannot grow without bound. */
  sweep(now: number): void {
    for (let expired = this.byExpiry.popExpired(now); expired !== undefined; expired = this.byExpiry.popExpired(now)) this.revocations.delete(expired.sessionId);
  }

  get size(): number {
    return this.revocations.size;
  }

  /** Heap moves so far: tests prove from it that a sweep never walks the set. */
  get expiryHeapMoves(): number {
    return this.byExpiry.moves;
  }

  private drop(revocation: Revocation): void {
    this.revocations.delete(revocation.sessionId);
    this.byExpiry.remove(revocation);
  }
}
