import { createRequire } from 'node:module';

// src/version.ts and dist/version.js both sit one level below the package root.
export const twofoldVersion: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
