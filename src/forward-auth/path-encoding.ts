// One spelling per path, so a rule's glob and a request's path compare as the upstream server
// would see them. Servers decode percent-escapes before routing (nginx decodes them all), so
// "/%61dmin" is "/admin" to them and must be to the rules too. The canonical form here: a byte
// that is harmless in a path segment — RFC 3986's unreserved characters, sub-delims, ":" and
// "@" — is written raw, whether it came raw or escaped; every other byte is an upper-case %XX
// escape. Escapes that would change the path's structure if decoded stay escaped (%25 "%", %3F
// "?", %23 "#"); the ones servers disagree on are refused outright: an encoded "/" (%2F — one
// server splits on it, another does not) and a backslash raw or encoded (a path separator to
// some servers). Control characters, raw or encoded, are refused (CR/LF would let a URI forge
// headers downstream, NUL truncates in C servers).
//
// Input is a "byte string": one character per byte, as Node gives header values (latin1).

const harmlessBytes = new Set(Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@", (c) => c.charCodeAt(0)));

const slash = 0x2f;
const backslash = 0x5c;
const percent = 0x25;

function isControl(byte: number): boolean {
  return byte < 0x20 || byte === 0x7f;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

function escaped(byte: number): string {
  return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

/**
 * The canonical form of a path's bytes, or undefined when it holds what servers read
 * differently or what must never reach one (see above). `/` stays the separator.
 */
export function canonicalPathEncoding(path: string): string | undefined {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code > 0xff || isControl(code) || code === backslash) return undefined;
    if (code === slash || harmlessBytes.has(code)) {
      out += path[i];
      continue;
    }
    if (code !== percent) {
      out += escaped(code);
      continue;
    }
    const high = hexValue(path.charCodeAt(i + 1));
    const low = hexValue(path.charCodeAt(i + 2));
    if (high < 0 || low < 0) return undefined;
    const byte = high * 16 + low;
    if (isControl(byte) || byte === slash || byte === backslash) return undefined;
    out += harmlessBytes.has(byte) ? String.fromCharCode(byte) : escaped(byte);
    i += 2;
  }
  return out;
}

/** A JavaScript string (a rules file's text) as the UTF-8 byte string a request would carry. */
export function utf8ByteString(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
