// Builds the hosted pages' browser assets into dist/ui/assets: the one script (esbuild bundle of
// src/ui/browser/app.ts, which includes @simplewebauthn/browser), the one stylesheet and the icon.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = 'dist/ui/assets';
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: ['src/ui/browser/app.ts'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outfile: `${outdir}/app.js`,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const name of ['style.css', 'favicon.svg']) copyFileSync(`src/ui/assets/${name}`, `${outdir}/${name}`);
