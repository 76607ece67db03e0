// Comparing secrets with `===` leaks, through timing, how many leading characters matched.
// Hashing both sides first makes the comparison constant-time and also hides their lengths.
import { createHash, timingSafeEqual } from 'node:crypto';

export function constantTimeEqual(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}
