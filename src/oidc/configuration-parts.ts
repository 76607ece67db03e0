// The provider's configuration is assembled from parts, one per capability (tokens and grants,
// logout, clients, …), each in the file that implements it, so that a capability's settings sit
// beside its code. Parts are merged in order: a plain setting of a later part wins, and the
// `features`, `ttl`, `claims`, `discovery` and `enabledJWA` maps are merged one level deep (one part may enable a feature
// without another's being lost).
import type { Configuration } from 'oidc-provider';

const mergedOneLevel = new Set(['features', 'ttl', 'claims', 'discovery', 'enabledJWA']);

export function mergeConfiguration(base: Configuration, parts: readonly Partial<Configuration>[]): Configuration {
  const merged: Record<string, unknown> = { ...base };
  for (const part of parts) {
    for (const [key, value] of Object.entries(part)) {
      const previous = merged[key];
      merged[key] = mergedOneLevel.has(key) && typeof previous === 'object' && previous !== null ? { ...previous, ...(value as object) } : value;
    }
  }
  return merged as Configuration;
}
