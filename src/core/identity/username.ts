// Usernames are identifiers people type: NFKC then lower-cased, so "Alice", "ALICE" and
// "Ａｌｉｃｅ" (full-width) are one account. 3–64 letters, digits, ".", "_" or "-", starting with
// a letter or digit; letters from any script (with their combining marks) are welcome.

export type UsernameCheck = { ok: true; username: string } | { ok: false; message: string };

const allowed = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}._-]*$/u;

export function normalizeUsername(input: string): UsernameCheck {
  const username = input.normalize('NFKC').toLowerCase().normalize('NFKC');
  const length = [...username].length;
  if (length < 3 || length > 64) {
    return { ok: false, message: `A username has 3 to 64 characters (this one has ${length}).` };
  }
  if (!allowed.test(username)) {
    return { ok: false, message: 'A username may contain letters, digits, ".", "_" and "-", and starts with a letter or digit.' };
  }
  return { ok: true, username };
}
