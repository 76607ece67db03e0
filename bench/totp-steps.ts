// Which TOTP step a benchmark flow uses: each (user, step) once, as the servers demand, and only a
// code the server will still accept when the request lands (window ±1 step). The previous step is
// accepted only until the current one ends, so it is handed out only with enough of the current
// step left for a slow flow (Better Auth's take over a second under load).
import { totpParameters } from '../src/core/totp/secret.js';
import { totpStepAt } from '../src/core/totp/verify.js';

const marginMs = 5_000;

export function takeUnspentStep<User extends { lastStep: number }>(users: User[], cursor: { index: number }): { user: User; step: number } | undefined {
  const nowMs = Date.now();
  const current = totpStepAt(nowMs);
  const earliest = (current + 1) * totpParameters.periodSeconds * 1000 - nowMs > marginMs ? current - 1 : current;
  for (let tried = 0; tried < users.length; tried += 1) {
    const user = users[cursor.index++ % users.length]!;
    const step = Math.max(earliest, user.lastStep + 1);
    if (step <= current + 1) {
      user.lastStep = step;
      return { user, step };
    }
  }
  return undefined;
}
