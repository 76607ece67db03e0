// TWOFOLD_OIDC_RESOURCES: the OpenID Provider's resource servers (RFC 8707), each URI with its
// scopes. A mistake stops the start with a line naming the variable, like every other.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

function refusal(value: string): string {
  try {
    loadConfig({ TWOFOLD_OIDC_RESOURCES: value });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('TWOFOLD_OIDC_RESOURCES');
    return (error as ConfigError).message;
  }
  return expect.fail(`expected TWOFOLD_OIDC_RESOURCES="${value}" to be refused`);
}

describe('TWOFOLD_OIDC_RESOURCES', () => {
  it('OP-08: none by default; entries by commas, the URI kept exactly as written, its scopes by spaces', () => {
    expect(loadConfig({}).oidc.resources).toEqual([]);
    const config = loadConfig({ TWOFOLD_OIDC_RESOURCES: ' https://orders.example/api orders:read  orders:write, http://localhost:4000 local:all ' });
    expect(config.oidc.resources).toEqual([
      { uri: 'https://orders.example/api', scopes: ['orders:read', 'orders:write'] },
      { uri: 'http://localhost:4000', scopes: ['local:all'] },
    ]);
  });

  it.each([
    ['orders.example orders:read', /absolute URI/],
    ['http://orders.example/ orders:read', /https/],
    ['https://orders.example/#part orders:read', /fragment/],
    ['https://user:pw@orders.example/ orders:read', /credentials/],
    ['https://orders.example/', /at least one scope/],
    ['https://orders.example/ openid', /not a scope/],
    ['https://orders.example/ orders"read', /not a scope/],
    ['https://orders.example/ a, https://orders.example/ b', /twice/],
  ])('OP-08: refuses %s', (value, reason) => {
    expect(refusal(value)).toMatch(reason);
  });
});
