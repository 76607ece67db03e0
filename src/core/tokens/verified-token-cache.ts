// Signature checks dominate the cost of a protected request (DESIGN.md §6: ≈213 µs per Ed25519
// verify). A token that verified once verifies again until it expires, so its claims are cached,
// keyed by the whole token string (a re-encoded or altered token is a different key and is
// verified afresh). Bounded LRU: the oldest entry goes when full. Revocation is not cached here;
// callers check the session on every request.

export class VerifiedTokenCache<Claims extends { exp: number }> {
  private readonly entries = new Map<string, Claims>();

  constructor(private readonly maxEntries: number) {}

  get(token: string, nowSeconds: number, clockSkewSeconds: number): Claims | undefined {
    const claims = this.entries.get(token);
    if (claims === undefined) return undefined;
    this.entries.delete(token);
    if (claims.exp + clockSkewSeconds <= nowSeconds) return undefined;
    this.entries.set(token, claims); // re-insert: most recently used goes last
    return claims;
  }

  set(token: string, claims: Claims): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(token);
    this.entries.set(token, claims);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
