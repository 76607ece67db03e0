// This instance's copy of the revoked-session denylist. The database stays the authority (every
// access token is checked against its session row); the copy lets a revoked session be refused
// before any query, and is fed by the other instances through pub/sub, so a logout anywhere is
// known here at once. Entries live as long as an access token of the session could.

export class RevokedSessionSet {
  private readonly expiries = new Map<string, number>();

  add(sessionId: string, expiresAt: number): void {
    this.expiries.set(sessionId, expiresAt);
  }

  has(sessionId: string, now: number): boolean {
    const expiresAt = this.expiries.get(sessionId);
    if (expiresAt === undefined) return false;
    if (expiresAt > now) return true;
    this.expiries.delete(sessionId);
    return false;
  }

  /** Drops expired entries; called when new ones arrive, so the set cannot grow without bound. */
  sweep(now: number): void {
    for (const [sessionId, expiresAt] of this.expiries) if (expiresAt <= now) this.expiries.delete(sessionId);
  }

  get size(): number {
    return this.expiries.size;
  }
}
