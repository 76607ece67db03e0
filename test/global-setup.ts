// The process, CLI and browser tests run the compiled package exactly as `npm start` does, so the
// build (TypeScript and the pages' browser assets) must match the sources under test: build once
// before any test file runs.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/build-ui.mjs'], { stdio: 'inherit' });
}
