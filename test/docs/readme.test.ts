// The README's first steps are what a newcomer runs, so they are checked against the code: the
// Quick start names every system package the test suites use (the same list .ci/run installs),
// and what the README says of a setting is what the server says when it refuses one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, metricsTokenMinLength } from '../../src/config/load.js';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const ciRun = readFileSync(new URL('.ci/run', root), 'utf8');

/** The text of a `## ` section of the README, up to the next one. */
function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

const words = (text: string) => text.trim().split(/\s+/).sort();

describe('README', () => {
  it('the Quick start names every system package the tests use: the very list .ci/run installs', () => {
    const quickStart = section('Quick start');
    const readmePackages = /apt-get install -y ([a-z0-9 -]+)\n/.exec(quickStart)?.[1];
    const ciPackages = /for package in ([a-z0-9 -]+); do/.exec(ciRun)?.[1];
    expect(readmePackages).toBeDefined();
    expect(ciPackages).toBeDefined();
    expect(words(readmePackages!)).toEqual(words(ciPackages!));
    for (const needed of ['oathtool', 'jq', 'curl', 'chromium', 'postgresql', 'redis-server', 'TWOFOLD_TEST_DATABASE_URL', 'TWOFOLD_TEST_REDIS_URL', '`script`', 'SKIPPING']) {
      expect(quickStart).toContain(needed);
    }
  });

  it('states the metrics-token length the server enforces, in the same words as its refusals', () => {
    expect(readme).toMatch(new RegExp(`\\| \`TWOFOLD_METRICS_TOKEN\` \\| unset \\| .*≥ ${metricsTokenMinLength} characters`));
    const refusals = [
      () => loadConfig({ TWOFOLD_METRICS_TOKEN: 'short' }),
      () => loadConfig({ NODE_ENV: 'production', TWOFOLD_METRICS: 'on', TWOFOLD_PUBLIC_URL: 'https://auth.example.com', TWOFOLD_ENCRYPTION_KEY: 'A'.repeat(43) }),
    ];
    for (const refusal of refusals) expect(refusal).toThrow(new RegExp(`TWOFOLD_METRICS_TOKEN: [^\\n]*at least ${metricsTokenMinLength} characters`));
  });

  it('documents every TWOFOLD_ variable the configuration reads in its reference', () => {
    const configuration = section('Configuration');
    const source = readFileSync(new URL('src/config/load.ts', root), 'utf8');
    const read = new Set([...source.matchAll(/'(TWOFOLD_[A-Z0-9_]+)'/g)].map((match) => match[1]!));
    // A row may shorten a family: `TWOFOLD_ARGON2_MEMORY_KIB`, `_TIME_COST`, `_PARALLELISM`.
    const documented = (variable: string) => readme.includes(`\`${variable}\``) || readme.includes(`\`_${variable.split('_').slice(2).join('_')}\``);
    const undocumented = [...read].filter((variable) => !documented(variable));
    expect(undocumented).toEqual([]);
    expect(configuration).toContain('`TWOFOLD_LOG_FORMAT`');
  });
});
