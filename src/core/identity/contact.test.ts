import { describe, expect, it } from 'vitest';
import { normalizeEmail, normalizePhone } from './contact.js';

describe('normalizeEmail()', () => {
  it('lower-cases the domain and keeps the local part as typed', () => {
    expect(normalizeEmail('Alice.Smith@Example.COM')).toBe('Alice.Smith@example.com');
  });

  it('trims surrounding white space', () => {
    expect(normalizeEmail('  alice@example.com \n')).toBe('alice@example.com');
  });

  it('applies NFKC (full-width characters)', () => {
    expect(normalizeEmail('ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ')).toBe('alice@example.com');
  });

  it('accepts plus addressing and internationalized domains', () => {
    expect(normalizeEmail('alice+mfa@example.com')).toBe('alice+mfa@example.com');
    expect(normalizeEmail('jörg@bücher.de')).toBe('jörg@bücher.de');
  });

  it.each([
    ['no @', 'alice.example.com'],
    ['two @', 'alice@bob@example.com'],
    ['empty local part', '@example.com'],
    ['empty domain', 'alice@'],
    ['domain without a dot', 'alice@localhost'],
    ['inner space', 'ali ce@example.com'],
    ['local part over 64 characters', `${'a'.repeat(65)}@example.com`],
    ['empty', ''],
    ['a bidi override (shown reversed to operators)', 'moc.evil\u202e@bank.example'],
    ['a C1 control (8-bit CSI)', 'alice\u009b31m@example.com'],
    ['an ANSI escape', 'alice@example.com\u001b[2J'],
  ])('refuses %s', (_label, input) => {
    expect(normalizeEmail(input)).toBeUndefined();
  });

  it('accepts a local part of exactly 64 characters', () => {
    expect(normalizeEmail(`${'a'.repeat(64)}@example.com`)).toBe(`${'a'.repeat(64)}@example.com`);
  });
});

describe('normalizePhone()', () => {
  it('keeps an E.164 number as is', () => {
    expect(normalizePhone('+14155550123')).toBe('+14155550123');
  });

  it('drops spaces, dashes, dots and parentheses', () => {
    expect(normalizePhone('+1 (415) 555-0123')).toBe('+14155550123');
    expect(normalizePhone('+44 20.7946.0958')).toBe('+442079460958');
  });

  it('applies NFKC (full-width digits and plus sign)', () => {
    expect(normalizePhone('＋１４１５５５５０１２３')).toBe('+14155550123');
  });

  it('accepts 15 digits and refuses 16', () => {
    expect(normalizePhone('+123456789012345')).toBe('+123456789012345');
    expect(normalizePhone('+1234567890123456')).toBeUndefined();
  });

  it.each([
    ['no plus sign', '14155550123'],
    ['international 00 prefix', '0014155550123'],
    ['country code starting with 0', '+04155550123'],
    ['letters', '+1415555CALL'],
    ['too short', '+12345'],
    ['an extension', '+14155550123x12'],
    ['two plus signs', '++14155550123'],
    ['Arabic-Indic digits', '+١٤١٥٥٥٥٠١٢٣'],
    ['empty', ''],
    ['a bidi override', '+1415555\u202e0123'],
  ])('refuses %s', (_label, input) => {
    expect(normalizePhone(input)).toBeUndefined();
  });
});
