import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpiryHeap, notInHeap, type ExpiringItem } from './expiry-heap.js';

interface Item extends ExpiringItem {
  name: string;
}

const item = (name: string, expiresAt: number): Item => ({ name, expiresAt, heapIndex: notInHeap });

function drain(heap: ExpiryHeap<Item>, now = Number.POSITIVE_INFINITY): string[] {
  const names: string[] = [];
  for (let next = heap.popExpired(now); next !== undefined; next = heap.popExpired(now)) names.push(next.name);
  return names;
}

describe('ExpiryHeap', () => {
  it('popExpired(): hands out what expires first, and only once its time has come (expiresAt <= now)', () => {
    const heap = new ExpiryHeap<Item>();
    for (const [name, at] of [['c', 30], ['a', 10], ['b', 20]] as const) heap.push(item(name, at));
    expect(heap.popExpired(9)).toBeUndefined();
    expect(heap.popExpired(10)?.name).toBe('a');
    expect(drain(heap, 29)).toEqual(['b']);
    expect(heap.size).toBe(1);
    expect(heap.peek()?.name).toBe('c');
  });

  it('update(): an item moved later no longer expires at its old time, one moved earlier does', () => {
    const heap = new ExpiryHeap<Item>();
    const later = item('later', 10);
    const earlier = item('earlier', 100);
    heap.push(later);
    heap.push(earlier);
    heap.push(item('middle', 50));
    heap.update(later, 1_000);
    heap.update(earlier, 5);
    expect(drain(heap)).toEqual(['earlier', 'middle', 'later']);
  });

  it('remove(): takes one item out wherever it sits; removing it again does nothing', () => {
    const heap = new ExpiryHeap<Item>();
    const items = Array.from({ length: 20 }, (_, index) => item(`i${index}`, (index * 7) % 20));
    for (const each of items) heap.push(each);
    heap.remove(items[3]!);
    heap.remove(items[3]!);
    expect(items[3]!.heapIndex).toBe(notInHeap);
    expect(heap.size).toBe(19);
    expect(drain(heap)).not.toContain('i3');
  });

  it('keeps its order under any sequence of pushes, updates and removals (checked against a sort)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('push', 'update', 'remove'), fc.nat(40), fc.integer({ min: 0, max: 1_000 })), { maxLength: 200 }),
        (operations) => {
          const heap = new ExpiryHeap<Item>();
          const held = new Map<number, Item>();
          for (const [operation, id, at] of operations) {
            const existing = held.get(id);
            if (operation === 'push' && existing === undefined) {
              const created = item(String(id), at);
              held.set(id, created);
              heap.push(created);
            } else if (operation === 'update' && existing !== undefined) heap.update(existing, at);
            else if (operation === 'remove' && existing !== undefined) {
              heap.remove(existing);
              held.delete(id);
            }
          }
          expect(heap.size).toBe(held.size);
          const popped = drain(heap).map((name) => held.get(Number(name))!.expiresAt);
          expect(popped).toEqual([...held.values()].map((each) => each.expiresAt).sort((a, b) => a - b));
        },
      ),
    );
  });

  it('RC-05: 200,000 pushes and pops move items O(log n) times each, never once per item held', () => {
    const heap = new ExpiryHeap<Item>();
    const count = 200_000;
    // Random expiries: the general case, not just the in-order one a fixed TTL gives.
    let seed = 1;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let index = 0; index < count; index += 1) heap.push({ name: '', expiresAt: random(), heapIndex: notInHeap });
    let previous = Number.NEGATIVE_INFINITY;
    let outOfOrder = 0;
    for (let next = heap.popExpired(Number.POSITIVE_INFINITY); next !== undefined; next = heap.popExpired(Number.POSITIVE_INFINITY)) {
      if (next.expiresAt < previous) outOfOrder += 1;
      previous = next.expiresAt;
    }
    expect(outOfOrder).toBe(0);
    expect(heap.size).toBe(0);
    // log2(200,000) ≈ 18: at most that many moves a push and a pop, where a walk per operation
    // would be 200,000 each.
    expect(heap.moves).toBeLessThanOrEqual(2 * count * 19);
  });
});
