// Twofold signs people in by username; most systems sign them in by e-mail address. An imported
// person keeps their source username when it is a valid Twofold one, else gets one made from their
// e-mail address's local part, else — if that is taken — the same with a short suffix derived from
// their source id (stable across re-runs). The report names the username each person got.
import { createHash } from 'node:crypto';

export function usernameCandidates(sourceUsername: string | null, email: string | null, sourceId: string): string[] {
  const candidates: string[] = [];
  if (sourceUsername !== null) candidates.push(sourceUsername);
  const local = email?.split('@')[0];
  if (local !== undefined) {
    const base = local
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}._-]/gu, '-')
      .replace(/^[^\p{L}\p{N}]+/u, '')
      .slice(0, 50);
    const suffix = createHash('sha256').update(sourceId).digest('hex').slice(0, 6);
    if (base.length >= 3) candidates.push(base);
    candidates.push(`${base.length > 0 ? base : 'user'}-${suffix}`);
  }
  return [...new Set(candidates)];
}
