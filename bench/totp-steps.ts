// Which TOTP step a benchmark flow uses: each (user, step) once, as the servers demand, and only a
// code the server will still accept when the request lands — with a margin for a slow flow
// (Better Auth's take over a second under load).
import { acceptedSteps } from '../test/helpers/totp-window.js';

const marginMs = 5_000;

export function takeUnspentStep<User extends { lastStep: number }>(users: User[], cursor: { index: number }): { user: User; step: number } | undefined {
  const { earliest, latest } = acceptedSteps(Date.now(), marginMs);
  for (let tried = 0; tried < users.length; tried += 1) {
    const user = users[cursor.index++ % users.length]!;
    const step = Math.max(earliest, user.lastStep + 1);
    if (step <= latest) {
      user.lastStep = step;
      return { user, step };
    }
  }
  return undefined;
}
