// recordCoalescedEvent(): repeated identical events are recorded once per window, decided in the
// shared store (so across instances too) before anything is written — reusable by any flow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCoalescedEvent } from '../../src/flows/audit/coalesced-events.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

describe('recordCoalescedEvent()', () => {
  it('records the first of identical events per window, says for how long repeats are not, and records again after it', async () => {
    const event = { type: 'login.throttled' as const, ip: '203.0.113.9', details: { reason: 'waiting' } };
    const recorded = () => t.events.filter((candidate) => candidate.type === 'login.throttled' && candidate.ip?.startsWith('203.0.113.') === true);
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => recordCoalescedEvent(t.ctx, event, { windowMs: 60_000 })));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(recorded()).toHaveLength(1);
    expect(recorded()[0]!.details).toEqual({ reason: 'waiting', repeats_not_recorded_for_seconds: 60 });
    // Another address of the same network is the same client; other details are another event.
    expect(await recordCoalescedEvent(t.ctx, { ...event, ip: '203.0.113.9' }, { windowMs: 60_000 })).toBe(false);
    expect(await recordCoalescedEvent(t.ctx, { ...event, details: { reason: 'locked' } }, { windowMs: 60_000 })).toBe(true);
    t.clock.advanceSeconds(61);
    expect(await recordCoalescedEvent(t.ctx, event, { windowMs: 60_000 })).toBe(true);
    expect(recorded()).toHaveLength(3);
  });

  it('an explicit key decides what counts as the same (a username asked about, whoever has it)', async () => {
    const first = await recordCoalescedEvent(t.ctx, { type: 'password.reset_requested', userId: 'usr_a' }, { windowMs: 60_000, key: 'name-x' });
    const second = await recordCoalescedEvent(t.ctx, { type: 'password.reset_requested' }, { windowMs: 60_000, key: 'name-x' });
    expect([first, second]).toEqual([true, false]);
  });
});
