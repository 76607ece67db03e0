import { describe, expect, it } from 'vitest';
import { createSessionEndHooks } from './session-end-hooks.js';

describe('session-end hooks', () => {
  it('runs every hook in order with the ended sessions; a failing hook is reported and the next still runs', async () => {
    const errors: unknown[] = [];
    const seen: string[] = [];
    const hooks = createSessionEndHooks((error) => errors.push(error));
    hooks.add(async () => {
      throw new Error('the first hook failed');
    });
    hooks.add(async (sessionIds) => {
      seen.push(...sessionIds);
    });
    await hooks.run(['ses_1', 'ses_2']);
    expect(seen).toEqual(['ses_1', 'ses_2']);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('the first hook failed');
  });

  it('runs nothing when no session ended', async () => {
    let runs = 0;
    const hooks = createSessionEndHooks(() => undefined);
    hooks.add(async () => {
      runs += 1;
    });
    await hooks.run([]);
    expect(runs).toBe(0);
  });
});
