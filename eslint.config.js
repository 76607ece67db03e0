// Lint rules: typescript-eslint's recommended set, plus the project's layering rule — core is
// pure (no Fastify, no Kysely, no configuration, no process.env in src/core; docs/architecture.md), so
// it stays unit-testable and usable by the library API with the clock and the configuration passed in.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['fastify', '@fastify/*', 'kysely', 'better-sqlite3', 'pg', 'ioredis', '**/config/**', '**/store/**', '**/http/**', '**/flows/**'] }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'core is pure: take configuration as arguments' }],
    },
  },
  {
    files: ['src/config/load.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/load.ts', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration in src/config/load.ts only' }],
    },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.test.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // The examples are programs a reader runs: they print where they listen.
    files: ['examples/**/*.mjs'],
    rules: { 'no-console': 'off' },
  },
);
