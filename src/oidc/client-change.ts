// A client registration changed (the CLI, or an app through dynamic registration): every instance
// forgets its kept copy of the client rows at once (oidc-client-rows-cache.ts) instead of within
// the second they are kept. Best effort, like every cluster event: the second bounds it anyway.
import { publishClusterEvent } from '../flows/shared/cluster-events.js';
import type { KeyValueStore } from '../store/kv/key-value-store.js';

export async function announceClientChange(kv: KeyValueStore): Promise<void> {
  await publishClusterEvent(kv, { type: 'oidc_clients.changed' });
}
