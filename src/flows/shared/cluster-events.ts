// Messages between the instances of one deployment, over the KeyValueStore's pub/sub (Redis, or
// in-process for a single instance): a revoked session and a rotated signing key reach every
// instance at once instead of at its next cache refresh; so does a changed OpenID Provider client
// (its row is kept for a second, oidc-client-rows-cache.ts). Delivery is best effort: the database
// remains the authority, and the caches these messages update are short-lived anyway.
import type { KeyValueStore } from '../../store/kv/key-value-store.js';

export const clusterChannel = 'events';

export type ClusterEvent =
  | { type: 'sessions.revoked'; sessionIds: string[]; expiresAt: number }
  | { type: 'signing_key.rotated'; kid: string }
  | { type: 'oidc_clients.changed' };

export interface ClusterEventHandlers {
  onSessionsRevoked(sessionIds: string[], expiresAt: number): void;
  onSigningKeyRotated(kid: string): void;
  onOidcClientsChanged(): void;
}

export function publishClusterEvent(kv: KeyValueStore, event: ClusterEvent): Promise<void> {
  return kv.publish(clusterChannel, JSON.stringify(event));
}

export function subscribeClusterEvents(kv: KeyValueStore, handlers: ClusterEventHandlers, onInvalid: (message: string) => void): Promise<void> {
  return kv.subscribe(clusterChannel, (message) => {
    let event: ClusterEvent;
    try {
      event = JSON.parse(message) as ClusterEvent;
    } catch {
      onInvalid(message.slice(0, 200));
      return;
    }
    if (event.type === 'sessions.revoked' && Array.isArray(event.sessionIds)) handlers.onSessionsRevoked(event.sessionIds.map(String), Number(event.expiresAt));
    else if (event.type === 'signing_key.rotated' && typeof event.kid === 'string') handlers.onSigningKeyRotated(event.kid);
    else if (event.type === 'oidc_clients.changed') handlers.onOidcClientsChanged();
    else onInvalid(message.slice(0, 200));
  });
}
