import { describe, expect, it } from 'vitest';
import { mergeConfiguration } from './configuration-parts.js';

describe('mergeConfiguration', () => {
  it('merges features, ttl and claims one level deep and lets a later plain setting win', () => {
    const merged = mergeConfiguration(
      { features: { devInteractions: { enabled: false } }, ttl: { Session: 10 }, claims: { openid: ['sub'] }, acrValues: ['aal1'] },
      [{ features: { revocation: { enabled: true } }, ttl: { AccessToken: 5 } }, { acrValues: ['aal2'], claims: { email: ['email'] } }],
    );
    expect(merged.features).toEqual({ devInteractions: { enabled: false }, revocation: { enabled: true } });
    expect(merged.ttl).toEqual({ Session: 10, AccessToken: 5 });
    expect(merged.claims).toEqual({ openid: ['sub'], email: ['email'] });
    expect(merged.acrValues).toEqual(['aal2']);
  });
});
