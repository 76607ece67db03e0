// Suites that need something outside Node (a system tool, a service) say loudly when they
// skip; with TWOFOLD_TEST_REQUIRE_ALL=1 (set in .ci/run) a missing requirement fails instead.
import { execFileSync } from 'node:child_process';

export const requireAll = process.env['TWOFOLD_TEST_REQUIRE_ALL'] === '1';

export function commandAvailable(command: string, versionArgs: string[] = ['--version']): boolean {
  try {
    execFileSync(command, versionArgs, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Returns true when the suite may run. Prints why it skips; throws under TWOFOLD_TEST_REQUIRE_ALL=1. */
export function requirement(name: string, available: boolean, howToGet: string): boolean {
  if (available) return true;
  const message = `${name} is not available: ${howToGet}`;
  if (requireAll) throw new Error(`TWOFOLD_TEST_REQUIRE_ALL=1 but ${message}`);
  process.stderr.write(`\n[twofold tests] SKIPPING: ${message}\n`);
  return false;
}
