import { describe, expect, it } from 'vitest';
import { containsUnsafeCharacters, escapeUnsafeCharacters, escapeUnsafeCharactersInJson, replaceUnsafeCharacters, storableText } from './unsafe-characters.js';

const hostile = ['\u001b[2J', '\u0007', '\u0000', '\n', '\t', '\u007f', '\u0085', '\u009b31m', '\u202e', '\u2066', '\u200f', '\u061c', '\u2028'];

describe('unsafe characters', () => {
  it('finds C0, DEL, C1, bidi overrides and isolates, and line separators; leaves letters, emoji and their joiners alone', () => {
    for (const text of hostile) expect(containsUnsafeCharacters(`Key ${text}`), JSON.stringify(text)).toBe(true);
    for (const text of ['YubiKey 5C', 'Téléphone de Zoë', '手机', 'مفتاح', '👨\u200d👩\u200d👧 family', '🔑'.repeat(10)]) expect(containsUnsafeCharacters(text)).toBe(false);
  });

  it('escapeUnsafeCharacters(): visible escapes a terminal prints as text, never acts on', () => {
    expect(escapeUnsafeCharacters('YubiKey\u001b[2J\u001b[31m')).toBe('YubiKey\\x1b[2J\\x1b[31m');
    expect(escapeUnsafeCharacters('a\u009bb\u007fc\u202ed\ne')).toBe('a\\x9bb\\x7fc\\u202ed\\x0ae');
    expect(escapeUnsafeCharacters('plain')).toBe('plain');
  });

  it('escapeUnsafeCharactersInJson(): what JSON.stringify leaves raw is escaped, and the JSON parses to the same values', () => {
    const value = { label: `x${hostile.join('')}y`, nested: ['\u202egnp.exe'] };
    const json = escapeUnsafeCharactersInJson(JSON.stringify(value, null, 2));
    // Only the layout's own line breaks stay raw.
    expect(containsUnsafeCharacters(json.replaceAll('\n', ''))).toBe(false);
    expect(JSON.parse(json)).toEqual(value);
  });

  it('replaceUnsafeCharacters() / storableText(): U+FFFD in place of each, cut without splitting a pair', () => {
    expect(replaceUnsafeCharacters('Mozilla\u001b]0;pwned\u0007')).toBe('Mozilla\ufffd]0;pwned\ufffd');
    expect(storableText(`${'a'.repeat(9)}🔑`, 10)).toBe('a'.repeat(9));
    expect(storableText(undefined, 10)).toBeNull();
  });
});
