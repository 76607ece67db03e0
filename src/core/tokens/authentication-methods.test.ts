import { describe, expect, it } from 'vitest';
import { acrFor, amrFor, isAtLeastAal2, storedAcr } from './authentication-methods.js';

describe('acr and amr from what was proven', () => {
  it('after a password: unchanged — an AAL2 method is aal2 with mfa, an e-mail code aal1 without', () => {
    expect([acrFor('totp'), amrFor('totp')]).toEqual(['aal2', ['pwd', 'otp', 'mfa']]);
    expect([acrFor('webauthn_hardware'), amrFor('webauthn_hardware')]).toEqual(['aal2', ['pwd', 'hwk', 'mfa']]);
    expect([acrFor('email'), amrFor('email')]).toEqual(['aal1', ['pwd', 'email']]);
  });

  it('WA-09: a passkey alone is two factors only with a verified UV, and never claims pwd, pin or user', () => {
    const alone = { withPassword: false, userVerified: true };
    expect([acrFor('webauthn_software', alone), amrFor('webauthn_software', alone)]).toEqual(['aal2', ['swk', 'mfa']]);
    expect([acrFor('webauthn_hardware', alone), amrFor('webauthn_hardware', alone)]).toEqual(['aal2', ['hwk', 'mfa']]);
    const withoutUv = { withPassword: false, userVerified: false };
    expect([acrFor('webauthn_software', withoutUv), amrFor('webauthn_software', withoutUv)]).toEqual(['aal1', ['swk']]);
    // Anything but a passkey alone is no sign-in at all, never two factors.
    expect(acrFor('totp', alone)).toBe('aal1');
  });

  it('WA-10: phr / phrh only when asked for and true', () => {
    const ask = (requestedAcr: string, userVerified = true) => ({ withPassword: false, userVerified, requestedAcr });
    expect(acrFor('webauthn_software', ask('phr'))).toBe('phr');
    expect(acrFor('webauthn_software', ask('phrh'))).toBe('phr');
    expect(acrFor('webauthn_hardware', ask('phrh'))).toBe('phrh');
    expect(acrFor('webauthn_hardware', ask('phr'))).toBe('phr');
    expect(acrFor('webauthn_hardware', ask('aal3 something'))).toBe('aal2');
    expect(acrFor('webauthn_hardware', ask('phrh', false))).toBe('aal1');
    expect(acrFor('totp', { withPassword: true, requestedAcr: 'phr' })).toBe('aal2');
  });

  it('WA-10: phr and phrh count as two factors wherever Twofold asks for aal2; an unknown stored value reads as aal1', () => {
    for (const acr of ['aal2', 'phr', 'phrh']) expect(isAtLeastAal2(acr)).toBe(true);
    expect(isAtLeastAal2('aal1')).toBe(false);
    expect(storedAcr('phrh')).toBe('phrh');
    expect(storedAcr('aal9')).toBe('aal1');
  });
});
