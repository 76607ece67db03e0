// How phones and addresses are shown back: enough for a person to recognise
// which one — the last two digits; the first character and the domain — and no more, so a
// login response cannot be used to harvest them.
import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone } from './mask.js';

describe('maskPhone()', () => {
  it('keeps the "+" and the last two digits; every other digit becomes a bullet', () => {
    expect(maskPhone('+14155550123')).toBe('+•••••••••23');
    expect(maskPhone('+4915112345678')).toBe(`+${'•'.repeat(11)}78`);
    expect(maskPhone('+33612345600')).toBe('+•••••••••00');
  });

  it.each(['+14155550123', '+4915112345678', '+447700900123', '+8613800138000', '+3531234567', '+123456789012345'])('%s: no other digit survives, and the length stays', (phone) => {
    const masked = maskPhone(phone);
    expect(masked.replace(/[^0-9]/g, '')).toBe(phone.slice(-2));
    expect(masked).toHaveLength(phone.length);
    expect(masked.startsWith('+')).toBe(true);
    expect(masked.slice(1, -2)).toMatch(/^•+$/);
  });

  it('does not reveal the country code (the leading digits)', () => {
    expect(maskPhone('+4915112345678').slice(0, 3)).toBe('+••');
    expect(maskPhone('+14155550123')).not.toContain('1415');
  });

  it('two numbers that share their last two digits look alike', () => {
    expect(maskPhone('+14155550123')).toBe(maskPhone('+19175551223'));
  });
});

describe('maskEmail()', () => {
  it('keeps the first character of the local part and the whole domain', () => {
    expect(maskEmail('alice@example.com')).toBe('a•••@example.com');
    expect(maskEmail('bob.smith+tag@mail.example.org')).toBe('b•••@mail.example.org');
    expect(maskEmail('Z@example.com')).toBe('Z•••@example.com');
  });

  it('does not reveal the length of the local part', () => {
    expect(maskEmail('a@example.com')).toBe(maskEmail('abcdefghijklmnopqrstuvwxyz@example.com'));
  });

  it('hides everything of the local part but its first character', () => {
    const masked = maskEmail('jane.doe.1984+bank@example.com');
    expect(masked).toBe('j•••@example.com');
    for (const fragment of ['ane', 'doe', '1984', 'bank', '+']) expect(masked).not.toContain(fragment);
  });

  it('uses the last "@" (a quoted local part may contain one)', () => {
    expect(maskEmail('"a@b"@example.com')).toBe('"•••@example.com');
  });

  it('shows only bullets for something that is not an address', () => {
    expect(maskEmail('not-an-address')).toBe('•••');
    expect(maskEmail('@example.com')).toBe('•••');
    expect(maskEmail('')).toBe('•••');
  });

  it('keeps a non-ASCII first letter (internationalized addresses)', () => {
    expect(maskEmail('émile@example.fr')).toBe('é•••@example.fr');
    expect(maskEmail('Δημήτρης@example.gr')).toBe('Δ•••@example.gr');
  });

  it('keeps a first character outside the BMP whole — never half a surrogate pair', () => {
    // normalizeEmail accepts such addresses (e.g. "😀bob@example.com"); the mask must stay valid text.
    const masked = maskEmail('😀bob@example.com');
    expect(masked).toBe('😀•••@example.com');
    expect(masked, 'a lone surrogate').not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });
});
