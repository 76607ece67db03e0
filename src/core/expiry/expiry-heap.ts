// What expires first, in O(log n). In-process state that expires by time (the memory store's
// keys, this instance's revoked sessions) must drop what has expired without walking everything
// it holds: a walk per write costs an attacker who can add entries (failed logins for made-up
// usernames) a whole store's worth of event-loop time per request, growing with each one.
//
// A binary min-heap ordered by `expiresAt`, holding the caller's own items: each item records its
// position (`heapIndex`), so a changed expiry or a deleted item is repositioned or removed in
// place — no stale copies are left behind to pile up, and the heap holds exactly the live items.
// Times are the caller's clock (milliseconds); the heap never reads one.

export interface ExpiringItem {
  expiresAt: number;
  /** Position in the heap, kept by the heap; -1 while the item is in none. */
  heapIndex: number;
}

export const notInHeap = -1;

export class ExpiryHeap<Item extends ExpiringItem> {
  private readonly items: Item[] = [];
  /** Items moved by pushes, updates and removals: tests prove from it that no operation walks the heap. */
  moves = 0;

  get size(): number {
    return this.items.length;
  }

  /** The item that expires first. */
  peek(): Item | undefined {
    return this.items[0];
  }

  /** The item that expires first, removed — only when it has expired at `now` (expiresAt <= now). */
  popExpired(now: number): Item | undefined {
    const first = this.items[0];
    if (first === undefined || first.expiresAt > now) return undefined;
    this.remove(first);
    return first;
  }

  push(item: Item): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.siftUp(item.heapIndex);
  }

  /** Moves an item to its new expiry. */
  update(item: Item, expiresAt: number): void {
    const earlier = expiresAt < item.expiresAt;
    item.expiresAt = expiresAt;
    if (earlier) this.siftUp(item.heapIndex);
    else this.siftDown(item.heapIndex);
  }

  remove(item: Item): void {
    const index = item.heapIndex;
    if (this.items[index] !== item) return;
    const last = this.items.pop()!;
    item.heapIndex = notInHeap;
    if (last === item) return;
    this.place(last, index);
    // The last item may belong above or below the hole it fills.
    this.siftUp(index);
    this.siftDown(last.heapIndex);
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = notInHeap;
    this.items.length = 0;
  }

  private siftUp(index: number): void {
    const item = this.items[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.items[parentIndex]!;
      if (parent.expiresAt <= item.expiresAt) break;
      this.place(parent, index);
      index = parentIndex;
    }
    this.place(item, index);
  }

  private siftDown(index: number): void {
    const item = this.items[index]!;
    const count = this.items.length;
    for (;;) {
      const leftIndex = 2 * index + 1;
      if (leftIndex >= count) break;
      const rightIndex = leftIndex + 1;
      const childIndex = rightIndex < count && this.items[rightIndex]!.expiresAt < this.items[leftIndex]!.expiresAt ? rightIndex : leftIndex;
      const child = this.items[childIndex]!;
      if (item.expiresAt <= child.expiresAt) break;
      this.place(child, index);
      index = childIndex;
    }
    this.place(item, index);
  }

  private place(item: Item, index: number): void {
    this.items[index] = item;
    item.heapIndex = index;
    this.moves += 1;
  }
}
