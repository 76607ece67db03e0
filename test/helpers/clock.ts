// A clock tests can move: TOTP steps, token expiry and session timeouts all read it.

export interface TestClock {
  now(): number;
  advance(milliseconds: number): void;
  advanceSeconds(seconds: number): void;
}

/** Starts 10 s into a 30 s TOTP step, so a code stays valid while a test runs. */
export const testEpochMs = Date.UTC(2026, 10, 29, 12, 0, 10);

export function createTestClock(startMs = testEpochMs): TestClock {
  let current = startMs;
  return {
    now: () => current,
    advance(milliseconds) {
      current += milliseconds;
    },
    advanceSeconds(seconds) {
      current += seconds * 1000;
    },
  };
}
