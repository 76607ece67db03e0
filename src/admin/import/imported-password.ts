// A source's password hash, read into the stored form core/password/imported verifies at sign-in,
// and refused here — at import, with a reason in the report — when its cost parameters are
// beyond the caps (AD-03), so a sign-in never meets one.
import { importedHashCostRefusal } from '../../core/password/imported/imported-hash-caps.js';
import { importedHashMaxLength, parseImportedHash } from '../../core/password/imported/imported-hash.js';
import { refuse } from './import-record.js';

/** The stored form of a hash already in a supported format (bcrypt, argon2 PHC, $scrypt$, $pbkdf2-…$). */
export function acceptImportedHash(stored: string): string {
  if (stored.length > importedHashMaxLength) refuse('unsupported_hash', `the password hash is longer than ${importedHashMaxLength} characters`);
  const parsed = parseImportedHash(stored);
  if (parsed === undefined) refuse('unsupported_hash', `the password hash is not in a supported format (${describeHashPrefix(stored)})`);
  const refusal = importedHashCostRefusal(parsed);
  if (refusal !== undefined) refuse('hash_cost_too_high', refusal);
  return stored;
}

/** Enough of a hash to recognise its scheme in a report, never the hash itself. */
function describeHashPrefix(stored: string): string {
  const scheme = /^\$([a-z0-9-]{1,20})\$/i.exec(stored)?.[1];
  return scheme === undefined ? 'unrecognised' : `scheme "${scheme}"`;
}
