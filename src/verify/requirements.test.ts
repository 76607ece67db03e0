import { describe, expect, it } from 'vitest';
import { acrSatisfies } from './requirements.js';

describe('acrSatisfies()', () => {
  it('NIST levels are ordered: aal2 meets aal1, aal1 does not meet aal2', () => {
    expect(acrSatisfies('aal2', ['aal1'])).toBe(true);
    expect(acrSatisfies('aal1', ['aal2'])).toBe(false);
  });

  it('WA-10: a passkey sign-in\'s phr and phrh meet aal2 (two factors); phrh meets phr, not the other way round', () => {
    expect(acrSatisfies('phr', ['aal2'])).toBe(true);
    expect(acrSatisfies('phrh', ['aal2'])).toBe(true);
    expect(acrSatisfies('phr', ['aal1'])).toBe(true);
    expect(acrSatisfies('phrh', ['phr'])).toBe(true);
    expect(acrSatisfies('phr', ['phrh'])).toBe(false);
    expect(acrSatisfies('aal2', ['phr'])).toBe(false);
    expect(acrSatisfies('phr', ['aal3'])).toBe(false);
  });
});
