// twofold/client must stay browser-safe: nothing from the server (src outside src/client), nothing
// Node-only, and esbuild must bundle it for the browser — with @simplewebauthn/browser external,
// bundled, or split into a chunk loaded at the first passkey prompt.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const clientDir = resolve('src/client');
const entryPoint = join(clientDir, 'index.ts');
const sourceFiles = readdirSync(clientDir)
  .filter((name) => name.endsWith('.ts'))
  .map((name) => join(clientDir, name));

/** Every module specifier in a file: static imports and re-exports, side-effect imports, dynamic import(). */
function importSpecifiers(source: string): string[] {
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]!));
}

describe('twofold/client stays browser-safe', () => {
  it('src/client imports only its own files and @simplewebauthn/browser', () => {
    expect(sourceFiles.length).toBeGreaterThan(5);
    const outside: string[] = [];
    for (const file of sourceFiles) {
      for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
        if (specifier === '@simplewebauthn/browser') continue;
        const inside = specifier.startsWith('./') && resolve(clientDir, specifier).startsWith(`${clientDir}/`);
        if (!inside) outside.push(`${relative(clientDir, file)}: ${specifier}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('src/client uses no Node-only globals (process, Buffer, require, __dirname)', () => {
    for (const file of sourceFiles) {
      const code = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      expect(code, relative(clientDir, file)).not.toMatch(/\b(process|Buffer|require|__dirname|__filename|global)\b(?!This)/);
    }
  });

  it('esbuild bundles src/client/index.ts for platform=browser with @simplewebauthn/browser external', async () => {
    const result = await build({ entryPoints: [entryPoint], bundle: true, platform: 'browser', format: 'esm', target: 'es2020', write: false, metafile: true, logLevel: 'silent', external: ['@simplewebauthn/browser'] });
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.metafile.inputs).every((input) => input.startsWith('src/client/'))).toBe(true);
    const code = result.outputFiles[0]!.text;
    expect(code).toContain('createTwofoldClient');
    expect(code).toMatch(/import\(\s*["']@simplewebauthn\/browser["']\s*\)/);
    expect(code).not.toMatch(/["']node:|fastify|jose/);
  });

  it('esbuild bundles it with @simplewebauthn/browser inside; with splitting, that code is a chunk loaded on first use', async () => {
    const bundled = await build({ entryPoints: [entryPoint], bundle: true, platform: 'browser', format: 'esm', target: 'es2020', write: false, metafile: true, logLevel: 'silent', minify: true });
    expect(bundled.errors).toEqual([]);
    const inputs = Object.keys(bundled.metafile.inputs);
    expect(inputs.some((input) => input.includes('node_modules/@simplewebauthn/browser/'))).toBe(true);
    expect(inputs.every((input) => input.startsWith('src/client/') || input.includes('node_modules/@simplewebauthn/browser/'))).toBe(true);

    const split = await build({ entryPoints: [entryPoint], bundle: true, platform: 'browser', format: 'esm', target: 'es2020', write: false, metafile: true, logLevel: 'silent', splitting: true, outdir: 'out' });
    const entry = Object.entries(split.metafile.outputs).find(([, output]) => output.entryPoint !== undefined)!;
    expect(Object.keys(entry[1].inputs).some((input) => input.includes('@simplewebauthn'))).toBe(false);
    expect(Object.keys(split.metafile.outputs).length).toBeGreaterThan(1);
  });
});
