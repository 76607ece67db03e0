// `npm ci` prints no EBADENGINE warning on the Node versions Twofold supports: every package the
// lock file installs accepts the oldest Node that package.json's `engines` allows, and the README
// names that same version. (A dependency that moves to a newer Node fails here, not in a
// newcomer's first `npm ci`: pin a version that still supports it, or an override — see
// `overrides` in package.json — or raise `engines` and the README together.)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

interface SemVer {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
}
const semver = createRequire(import.meta.url)('semver') as SemVer;

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const packageJson = JSON.parse(read('package.json')) as { engines: { node: string } };
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
const oldestNode = semver.minVersion(packageJson.engines.node)?.version ?? '';

describe('engines', () => {
  it('the README names the oldest Node that package.json accepts', () => {
    expect(oldestNode).toMatch(/^\d+\.\d+\.\d+$/);
    const [major, minor] = oldestNode.split('.');
    expect(read('README.md')).toContain(`You need Node.js ${major}.${minor} or newer`);
  });

  it(`every package in package-lock.json runs on the oldest supported Node (no EBADENGINE from npm ci)`, () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .flatMap(([path, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return range === undefined || semver.satisfies(oldestNode, range) ? [] : [`${path}@${entry.version ?? '?'} wants node ${range}`];
      });
    expect(refusing).toEqual([]);
  });
});
