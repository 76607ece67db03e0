// How "this account has no password" is stored: a sentinel in users.password_hash (the column is
// NOT NULL, and SQLite cannot relax that in place). It cannot be matched by any input:
// - it is not a PHC string (every argon2id hash starts with "$"), so argon2's verify rejects it
//   before comparing anything — and the flows never hand it to verify in the first place: they
//   ask hasPassword() and burn the dummy verify instead, so the answer and its timing are those
//   of a wrong password (LG-01..03, PW-17);
// - no input is ever stored as it is: every password reaches the column through hash().
export const noPasswordHash = '!no-password';

export function hasPassword(user: { password_hash: string }): boolean {
  return user.password_hash !== noPasswordHash;
}
