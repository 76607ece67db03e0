// canGoPasswordless(): the rule of a passwordless account (PW-15, PW-16), on its own.
import { describe, expect, it } from 'vitest';
import type { WebauthnCredentialRow } from '../../store/database.js';
import { canGoPasswordless, type PasswordlessStanding } from './can-go-passwordless.js';
import { isDiscoverablePasskey } from './discoverable-passkey.js';

const passkey = (id: string): WebauthnCredentialRow => ({
  factor_id: `fac_${id}`,
  credential_id: id,
  public_key: 'pk',
  sign_count: 0,
  transports: null,
  device_type: 'singleDevice',
  backed_up: 0,
  created_at: 0,
  attestation_format: 'none',
  attestation_root_sha256: null,
  aaguid: null,
  discoverable: 1,
  locked_at: null,
});
const standing = (passkeys: number, unusedRecoveryCodes: number, offered: Partial<PasswordlessStanding> = {}): PasswordlessStanding => ({
  passkeys: Array.from({ length: passkeys }, (_, index) => passkey(`c${index}`)),
  unusedRecoveryCodes,
  resetReachable: true,
  passkeysEnabled: true,
  recoveryCodesEnabled: true,
  ...offered,
});

describe('canGoPasswordless()', () => {
  it('PW-15: two passkeys, or one and an unused recovery code', () => {
    expect(canGoPasswordless(standing(2, 0))).toEqual({ allowed: true, passkeys: 2 });
    expect(canGoPasswordless(standing(1, 1))).toEqual({ allowed: true, passkeys: 1 });
    expect(canGoPasswordless(standing(3, 10))).toEqual({ allowed: true, passkeys: 3 });
  });

  it('PW-15: says what is missing: a passkey, or a second way in besides the one', () => {
    expect(canGoPasswordless(standing(0, 10))).toMatchObject({ allowed: false, missing: 'passkey', passkeys: 0 });
    expect(canGoPasswordless(standing(1, 0))).toMatchObject({ allowed: false, missing: 'second_passkey_or_recovery_codes', passkeys: 1 });
  });

  it('PW-15: what the server does not offer does not count — passkeys without webauthn, codes without recovery', () => {
    expect(canGoPasswordless(standing(2, 10, { passkeysEnabled: false }))).toMatchObject({ allowed: false, missing: 'passkey', passkeys: 0 });
    const noCodes = canGoPasswordless(standing(1, 10, { recoveryCodesEnabled: false }));
    expect(noCodes).toMatchObject({ allowed: false, missing: 'second_passkey_or_recovery_codes' });
    expect(noCodes.allowed === false && noCodes.detail).not.toMatch(/recovery codes/);
  });

  it('PW-15: recovery codes count only while a reset code can reach the account — they are used after a password reset', () => {
    const unreachable = canGoPasswordless(standing(1, 10, { resetReachable: false }));
    expect(unreachable).toMatchObject({ allowed: false, missing: 'second_passkey_or_recovery_codes' });
    expect(unreachable.allowed === false && unreachable.detail).toMatch(/verify an e-mail address or phone/);
    expect(canGoPasswordless(standing(2, 0, { resetReachable: false }))).toEqual({ allowed: true, passkeys: 2 });
  });

  it('PW-15: only passkeys that can sign in alone count — discoverable, not locked', () => {
    expect(isDiscoverablePasskey(passkey('any'))).toBe(true);
    expect(isDiscoverablePasskey({ ...passkey('old'), discoverable: null })).toBe(false);
    expect(isDiscoverablePasskey({ ...passkey('cloned'), locked_at: 1 })).toBe(false);
    const twoButOneOld: PasswordlessStanding = { ...standing(2, 0), passkeys: [passkey('a'), { ...passkey('b'), discoverable: 0 }] };
    expect(canGoPasswordless(twoButOneOld)).toMatchObject({ allowed: false, missing: 'second_passkey_or_recovery_codes', passkeys: 1 });
  });
});
