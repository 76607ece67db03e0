import { describe, expect, it } from 'vitest';
import { acrSatisfies, provenAssuranceLevel, strongestAssuranceLevel } from './assurance-levels.js';

describe('acrSatisfies()', () => {
  it('SS-10: a level is met by itself and the stronger ones, in the order aal1 < aal2 < phr < phrh', () => {
    expect(acrSatisfies('aal2', ['aal1'])).toBe(true);
    expect(acrSatisfies('phr', ['aal2'])).toBe(true);
    expect(acrSatisfies('phrh', ['phr'])).toBe(true);
    expect(acrSatisfies('aal2', ['phr'])).toBe(false);
    expect(acrSatisfies('phr', ['phrh'])).toBe(false);
    expect(acrSatisfies('aal1', ['aal2'])).toBe(false);
  });

  it('values outside Twofold\'s order match only themselves', () => {
    expect(acrSatisfies('urn:example:strong', ['urn:example:strong'])).toBe(true);
    expect(acrSatisfies('phrh', ['urn:example:strong'])).toBe(false);
    expect(acrSatisfies('urn:example:strong', ['aal1'])).toBe(false);
    expect(acrSatisfies('aal3', ['aal2'])).toBe(false);
  });
});

describe('provenAssuranceLevel()', () => {
  it('OP-22: a two-factor sign-in whose latest proof was a passkey is phr, a proven hardware key phrh', () => {
    expect(provenAssuranceLevel({ acr: 'aal2', amr: ['pwd', 'swk', 'mfa'] })).toBe('phr');
    expect(provenAssuranceLevel({ acr: 'aal2', amr: ['swk', 'mfa'] })).toBe('phr');
    expect(provenAssuranceLevel({ acr: 'aal2', amr: ['pwd', 'hwk', 'mfa'] })).toBe('phrh');
  });

  it('OP-22: any other sign-in keeps its own level: an app code, a remembered browser, an e-mail code', () => {
    expect(provenAssuranceLevel({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] })).toBe('aal2');
    expect(provenAssuranceLevel({ acr: 'aal1', amr: ['pwd', 'dev'] })).toBe('aal1');
    expect(provenAssuranceLevel({ acr: 'aal1', amr: ['pwd', 'email'] })).toBe('aal1');
    // An aal1 session never becomes phishing resistant, whatever its amr says.
    expect(provenAssuranceLevel({ acr: 'aal1', amr: ['pwd', 'swk'] })).toBe('aal1');
  });
});

describe('strongestAssuranceLevel()', () => {
  it('picks the strongest of Twofold\'s levels and ignores other values', () => {
    expect(strongestAssuranceLevel(['aal2', 'phr', 'urn:x'])).toBe('phr');
    expect(strongestAssuranceLevel(['1', '2'])).toBeUndefined();
  });
});
