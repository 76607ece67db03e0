// Passwords are compared after Unicode NFKC so that the same passphrase typed on different
// keyboards (composed vs decomposed "é", full-width digits) is the same password (PW-03/04).
// Length is counted in code points, not UTF-16 units or bytes (PW-01).

export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}
