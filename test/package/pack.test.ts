// What `npm publish` would ship: the compiled package and its docs, nothing else — no tests, no
// data directory, no keys, no benchmarks — and every export of package.json resolves, with types.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

interface PackedFile {
  path: string;
}

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
};

let files: string[];

beforeAll(() => {
  // The global setup has just built dist/; skip the prepare script's second build.
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  files = (JSON.parse(output) as Array<{ files: PackedFile[] }>)[0]?.files.map((file) => file.path) ?? [];
});

describe('npm pack', () => {
  it('ships only dist/, the README, the licence, package.json and docs/openapi.json', () => {
    expect(files.length).toBeGreaterThan(100);
    const unexpected = files.filter((path) => !/^(dist\/|README\.md$|LICENSE$|package\.json$|docs\/openapi\.json$)/.test(path));
    expect(unexpected).toEqual([]);
  });

  it('ships no tests, data, keys, databases, environment files or build caches', () => {
    const forbidden = files.filter((path) => /(\.test\.|(^|\/)test\/|(^|\/)bench\/|(^|\/)data\/|\.key$|\.pem$|\.env|\.sqlite|\.db$|tsbuildinfo|(^|\/)encryption\.key$|previous-keys$)/i.test(path));
    expect(forbidden).toEqual([]);
  });

  it('ships every export with its types, the CLI and the pages assets', () => {
    const targets = Object.values(packageJson.exports).flatMap((target) => (typeof target === 'string' ? [target] : [target.types, target.default]));
    for (const target of targets.filter((target) => target !== './package.json')) expect(files).toContain(target.replace(/^\.\//, ''));
    expect(Object.keys(packageJson.exports).sort()).toEqual(['.', './client', './errors', './package.json', './verify']);
    for (const bin of Object.values(packageJson.bin)) expect(files).toContain(bin);
    expect(files).toContain('dist/ui/assets/app.js');
    expect(files).toContain('dist/ui/assets/style.css');
    expect(files).toContain('dist/ui/assets/favicon.svg');
    expect(files).toContain('LICENSE');
  });

  it('the exports resolve by package name (self-reference), as a dependent would import them', () => {
    const script = `
      const verify = await import('twofold/verify');
      const client = await import('twofold/client');
      const errors = await import('twofold/errors');
      const main = await import('twofold');
      console.log(JSON.stringify({
        verify: typeof verify.createVerifier, fastify: typeof verify.twofoldAuth, express: typeof verify.requireAuth,
        client: typeof client.createTwofoldClient, errors: typeof errors.TwofoldError,
        main: typeof main.createTwofold, routes: typeof main.twofoldRoutes,
      }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ verify: 'function', fastify: 'function', express: 'function', client: 'function', errors: 'function', main: 'function', routes: 'function' });
  });
});
