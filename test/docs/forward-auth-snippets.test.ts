// The README's forward-auth snippets are the files the real-proxy tests run
// (test/interop/forward-auth-proxies.test.ts reads examples/forward-auth/): a reader copies
// exactly what was tested.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fencedBlocks } from '../helpers/markdown.js';

const readme = readFileSync('README.md', 'utf8');
const snippets: Array<{ file: string; language: string }> = [
  { file: 'nginx.conf', language: 'nginx' },
  { file: 'Caddyfile', language: 'caddyfile' },
  { file: 'haproxy.cfg', language: 'haproxy' },
  { file: 'twofold-forward-auth.lua', language: 'lua' },
  { file: 'rules.yaml', language: 'yaml' },
  { file: 'traefik.yml', language: 'yaml' },
];

describe('README forward-auth snippets', () => {
  it.each(snippets)('FA-56: the README shows examples/forward-auth/$file verbatim', ({ file, language }) => {
    const tested = readFileSync(`examples/forward-auth/${file}`, 'utf8');
    expect(fencedBlocks(readme, language)).toContain(tested);
  });

  it('FA-56: every nginx, Caddy, HAProxy and Lua block in the README is one of the tested files', () => {
    for (const { file, language } of snippets.filter((snippet) => snippet.language !== 'yaml')) {
      expect(fencedBlocks(readme, language), language).toEqual([readFileSync(`examples/forward-auth/${file}`, 'utf8')]);
    }
  });
});
