import { TOTP, URI } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { generateTotpSecret } from './secret.js';
import { buildOtpauthUri, renderQrSvg } from './uri.js';
import { generateTotpCode } from './verify.js';

const secretBase32 = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('buildOtpauthUri()', () => {
  it('builds otpauth://totp/<Issuer>:<account>?secret=..&issuer=..&algorithm=SHA1&digits=6&period=30', () => {
    expect(buildOtpauthUri({ issuer: 'Twofold', accountName: 'alice', secretBase32 })).toBe(
      `otpauth://totp/Twofold:alice?secret=${secretBase32}&issuer=Twofold&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it('OT-01: is parsed by OTPAuth.URI.parse into a SHA-1/6/30 TOTP with the same secret, issuer and account', () => {
    const parsed = URI.parse(buildOtpauthUri({ issuer: 'Twofold', accountName: 'alice', secretBase32 }));
    expect(parsed).toBeInstanceOf(TOTP);
    const totp = parsed as TOTP;
    expect(totp.issuer).toBe('Twofold');
    expect(totp.label).toBe('alice');
    expect(totp.secret.base32).toBe(secretBase32);
    expect(totp.algorithm).toBe('SHA1');
    expect(totp.digits).toBe(6);
    expect(totp.period).toBe(30);
  });

  it('OT-01: an independently parsed URI yields the same codes as generateTotpCode()', () => {
    const secret = generateTotpSecret();
    const totp = URI.parse(buildOtpauthUri({ issuer: 'Twofold', accountName: 'alice', secretBase32: secret })) as TOTP;
    const timestamp = 1_700_000_000_000;
    expect(totp.generate({ timestamp })).toBe(generateTotpCode(secret, Math.floor(timestamp / 30_000)));
  });

  it('percent-encodes special characters in the issuer and account (spaces as %20, never "+")', () => {
    const uri = buildOtpauthUri({ issuer: 'Acme & Co+', accountName: 'ali ce+1@example.com:x/?#%', secretBase32 });
    expect(uri.startsWith('otpauth://totp/Acme%20%26%20Co%2B:ali%20ce%2B1%40example.com%3Ax%2F%3F%23%25?')).toBe(true);
    expect(uri).toContain('&issuer=Acme%20%26%20Co%2B&');
    expect(uri).not.toContain('+');
    expect(uri).not.toContain(' ');
    // Only one "?" (the query separator) and no raw "#" that would cut the URI.
    expect(uri.split('?')).toHaveLength(2);
    expect(uri).not.toContain('#');
    const totp = URI.parse(uri) as TOTP;
    expect(totp.issuer).toBe('Acme & Co+');
    expect(totp.label).toBe('ali ce+1@example.com:x/?#%');
    expect(totp.secret.base32).toBe(secretBase32);
  });

  it('round-trips non-Latin issuer and account names', () => {
    const totp = URI.parse(buildOtpauthUri({ issuer: 'Zwei Faktor ✓', accountName: 'алиса', secretBase32 })) as TOTP;
    expect(totp.issuer).toBe('Zwei Faktor ✓');
    expect(totp.label).toBe('алиса');
  });
});

describe('renderQrSvg()', () => {
  it('returns an <svg> document', async () => {
    const svg = await renderQrSvg(buildOtpauthUri({ issuer: 'Twofold', accountName: 'alice', secretBase32 }));
    expect(svg.trimStart()).toMatch(/^<svg[\s>]/);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg.trimEnd()).toMatch(/<\/svg>$/);
    expect(svg).toMatch(/<path/);
  });

  it('renders different text to a different image', async () => {
    const first = await renderQrSvg(buildOtpauthUri({ issuer: 'Twofold', accountName: 'alice', secretBase32 }));
    const second = await renderQrSvg(buildOtpauthUri({ issuer: 'Twofold', accountName: 'bob', secretBase32 }));
    expect(first).not.toBe(second);
  });
});
