// Codes as people type or paste them: grouped by spaces or dashes, or in the line they came in —
// and never digits collected from across a text.
import { describe, expect, it } from 'vitest';
import { readTypedCode, typedCodeMaxLength } from './typed-code.js';

describe('readTypedCode()', () => {
  it.each([
    ['plain digits', '028853'],
    ['a space, as apps show it', '028 853'],
    ['a dash', '028-853'],
    ['a space and a dash', '028 - 853'],
    ['a non-breaking space', '028\u00a0853'],
    ['a narrow non-breaking space', '028\u202f853'],
    ['a thin space', '028\u2009853'],
    ['an en dash', '028\u2013853'],
    ['a non-breaking hyphen', '028\u2011853'],
    ['a minus sign', '028\u2212853'],
    ['a full-width hyphen', '028\uff0d853'],
    ['digits in pairs', '02 88 53'],
    ['one space between every digit', '0 2 8 8 5 3'],
    ['a tab', '028\t853'],
    ['a copied line: leading and trailing whitespace and a newline', '  028 853\r\n'],
    ['a byte-order mark before it', '\ufeff028853'],
    ['the line it came in', 'Your code is 028 853'],
    ['the line with a full stop', 'Your code is 028853.'],
    ['a prefix glued to a dash', 'G-028853'],
    ['the origin-bound line of an SMS', '@twofold.test #028853'],
  ])('Codes with spaces or dashes are read: %s', (_case, input) => {
    expect(readTypedCode(input, 6)).toBe('028853');
  });

  it.each([
    ['nothing', ''],
    ['only spaces', '   '],
    ['five digits', '02885'],
    ['seven digits', '0288531'],
    ['the code twice', '028853028853'],
    ['a letter among the digits', '028a853'],
    ['digits among letters (never joined)', 'a0b2c8d8e5f3'],
    ['two groups of three', 'code 028 and 853'],
    ['a second number in the line', 'Your code is 028853. It expires in 5 minutes.'],
    ['a time before the code', '12:34 028853'],
    ['a dot between the groups', '028.853'],
    ['a plus sign and five digits', '+28853'],
    ['exponent notation', '1e5'],
    ['hexadecimal', '0x1e240'],
    ['Arabic-Indic digits', '\u0660\u0662\u0668\u0668\u0665\u0663'],
    ['full-width digits', '\uff10\uff12\uff18\uff18\uff15\uff13'],
    ['superscript digits next to the code', '028853\u00b9'],
    ['a zero-width space inside', '028\u200b853'],
    ['a zero-width space after it', '028853\u200b'],
    ['a bidi override', '\u202e028853'],
    ['a NUL after it', '028853\u0000'],
    ['a newline inside', '028\n853'],
    ['a line separator inside', '028\u2028853'],
    ['a line longer than a code ever comes in', `${'Your code is '.repeat(5)}028853`],
  ])('Malformed codes are refused: %s', (_case, input) => {
    expect(readTypedCode(input, 6)).toBeUndefined();
  });

  it('reads the length asked for', () => {
    expect(readTypedCode('1234 5678', 8)).toBe('12345678');
    expect(readTypedCode('1234 5678', 6)).toBeUndefined();
  });

  it('accepts a line up to the longest a typed code may be', () => {
    const line = `${'x'.repeat(typedCodeMaxLength - 6)}028853`;
    expect(line).toHaveLength(typedCodeMaxLength);
    expect(readTypedCode(line, 6)).toBe('028853');
    expect(readTypedCode(`x${line}`, 6)).toBeUndefined();
  });
});
