// How the provider's short-lived rows sit in the key-value store (short-lived-adapter.ts), apart
// from the adapter so that a page can read one without loading oidc-provider.
import type { AdapterPayload } from 'oidc-provider';
import type { KeyValueStore } from '../store/kv/key-value-store.js';

export interface StoredEntry {
  payload: AdapterPayload;
  /** On the caller's clock, ms. */
  expiresAt: number;
}

export const shortLivedKey = (kind: string, id: string): string => `oidc:${kind}:${id}`;

/** A live interaction's authorization parameters (form-action-origins.ts). */
export async function findInteractionParams(kv: KeyValueStore, uid: string): Promise<Record<string, unknown> | undefined> {
  const stored = await kv.get(shortLivedKey('Interaction', uid));
  if (stored === undefined) return undefined;
  const params = (JSON.parse(stored) as StoredEntry).payload['params'];
  return typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : undefined;
}
