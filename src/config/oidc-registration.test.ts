import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

describe('TWOFOLD_OIDC_REGISTRATION', () => {
  it('OP-15: is off by default', () => {
    expect(loadConfig({}).oidc.registration).toEqual({ mode: 'off', initialAccessToken: undefined, perClientPerHour: 20 });
  });

  it('OP-15: token needs an initial access token of at least 32 characters; loopback needs none', () => {
    const token = 'a'.repeat(32);
    expect(loadConfig({ TWOFOLD_OIDC_REGISTRATION: 'token', TWOFOLD_OIDC_REGISTRATION_TOKEN: token, TWOFOLD_OIDC_REGISTRATIONS_PER_CLIENT: '5' }).oidc.registration).toEqual({ mode: 'token', initialAccessToken: token, perClientPerHour: 5 });
    expect(loadConfig({ TWOFOLD_OIDC_REGISTRATION: 'loopback', TWOFOLD_OIDC_REGISTRATION_TOKEN: token }).oidc.registration.initialAccessToken).toBeUndefined();
  });

  it.each([
    [{ TWOFOLD_OIDC_REGISTRATION: 'open' }, 'TWOFOLD_OIDC_REGISTRATION'],
    [{ TWOFOLD_OIDC_REGISTRATION: 'token' }, 'TWOFOLD_OIDC_REGISTRATION_TOKEN'],
    [{ TWOFOLD_OIDC_REGISTRATION: 'token', TWOFOLD_OIDC_REGISTRATION_TOKEN: 'short' }, 'TWOFOLD_OIDC_REGISTRATION_TOKEN'],
    [{ TWOFOLD_OIDC_REGISTRATION: 'token', TWOFOLD_OIDC_REGISTRATION_TOKEN: `${'a'.repeat(32)} b` }, 'TWOFOLD_OIDC_REGISTRATION_TOKEN'],
    [{ TWOFOLD_OIDC_REGISTRATIONS_PER_CLIENT: '0' }, 'TWOFOLD_OIDC_REGISTRATIONS_PER_CLIENT'],
  ])('OP-15: %j stops the start naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(variable);
  });
});
