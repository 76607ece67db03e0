// The provider's replay markers (the jti of a DPoP proof or a client assertion) in the short-lived
// store: the provider's find-then-save is one atomic claim (the first find of an id claims it, every
// other find sees it), and a marker is kept at least ten minutes, the whole span in which the
// provider accepts one DPoP proof (its iat within five minutes either way), whatever shorter
// lifetime the provider asks for.
import { describe, expect, it } from 'vitest';
import { ShortLivedOidcAdapter, replayMarkerMinimumLifetimeMs } from '../../src/oidc/short-lived-adapter.js';
import { createMemoryStore } from '../../src/store/kv/memory.js';

function markers(clock: { now: number }) {
  return new ShortLivedOidcAdapter('ReplayDetection', { kv: createMemoryStore(() => clock.now), now: () => clock.now, revokeGrant: async () => undefined });
}

describe('replay markers of the OpenID Provider', () => {
  it('DP-39: of 20 concurrent finds of one new id exactly one is told it is new (the claim), the others find it', async () => {
    const adapter = markers({ now: 1_800_000_000_000 });
    const found = await Promise.all(Array.from({ length: 20 }, () => adapter.find('proof-jti')));
    expect(found.filter((entry) => entry === undefined)).toHaveLength(1);
  });

  it('DP-39: a marker saved with the provider’s five minutes is kept for ten, and gone after', async () => {
    const clock = { now: 1_800_000_000_000 };
    const adapter = markers(clock);
    expect(await adapter.find('dated-ahead')).toBeUndefined();
    await adapter.upsert('dated-ahead', { jti: 'dated-ahead' }, 300);
    clock.now += 301_000;
    expect(await adapter.find('dated-ahead')).toBeDefined();
    clock.now += replayMarkerMinimumLifetimeMs - 301_000 + 1_000;
    expect(await adapter.find('dated-ahead')).toBeUndefined();
  });
});
