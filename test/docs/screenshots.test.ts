// The README's screenshots are taken by the browser tests, but rewritten only on purpose:
// `npm run screenshots` sets TWOFOLD_UPDATE_SCREENSHOTS=1; every other run (`npm test`, CI) writes
// them to a git-ignored folder, so running the tests leaves the working tree as it was.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { screenshotDirectory } from '../helpers/browser.js';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const scripts = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Whether git ignores the path (git check-ignore exits 0 for an ignored path, 1 otherwise). */
function ignoredByGit(path: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: root, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('screenshots', () => {
  it('a test run writes them to a git-ignored folder; only TWOFOLD_UPDATE_SCREENSHOTS=1 writes the README\'s', () => {
    expect(screenshotDirectory({})).toBe('test-results/screenshots');
    expect(ignoredByGit(`${screenshotDirectory({})}/01-home.png`)).toBe(true);
    expect(screenshotDirectory({ TWOFOLD_UPDATE_SCREENSHOTS: '1' })).toBe('docs/screenshots');
    expect(ignoredByGit('docs/screenshots/01-home.png')).toBe(false);
  });

  it('npm run screenshots rewrites the README\'s, and every image the README shows is one of them', () => {
    expect(scripts['screenshots']).toMatch(/^TWOFOLD_UPDATE_SCREENSHOTS=1 vitest run .*test\/e2e\/browser\.test\.ts$/);
    expect(scripts['test']).not.toContain('TWOFOLD_UPDATE_SCREENSHOTS');
    const images = [...readme.matchAll(/\]\((docs\/screenshots\/[^)]+\.png)\)/g)].map((match) => match[1]!);
    expect(images.length).toBeGreaterThan(4);
    for (const image of images) expect(existsSync(new URL(image, root)), image).toBe(true);
    expect(readme).toContain('npm run screenshots');
  });
});
