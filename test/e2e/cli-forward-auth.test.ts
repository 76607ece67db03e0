// `twofold forward-auth check FILE`, run as the compiled binary (no data dir or database needed).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/process.js';

const directory = mkdtempSync(join(tmpdir(), 'twofold-cli-fa-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const twofold = (...args: string[]) => runCommand(process.execPath, ['dist/cli/main.js', ...args], { PATH: process.env['PATH'] ?? '' });

function rulesFile(name: string, text: string): string {
  const file = join(directory, name);
  writeFileSync(file, text);
  return file;
}

describe('twofold forward-auth', () => {
  it('twofold forward-auth check --help explains itself', async () => {
    const result = await twofold('forward-auth', 'check', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('<file>');
    expect((await twofold('forward-auth', '--help')).stdout).toContain('check');
  });

  it('FA-16: a good file → OK with the number of rules, exit code 0', async () => {
    const file = rulesFile('good.yaml', 'default: two_factor\nrules:\n  - hosts: [status.example.com]\n    paths: ["/health"]\n    policy: bypass\n  - hosts: ["*.example.com"]\n    paths: ["/admin/**"]\n    policy: two_factor\n    max_age: 300\n');
    const result = await twofold('forward-auth', 'check', file);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('OK: 2 rules');
  });

  it('FA-16: a bad file → FILE:line:column: reason for each mistake, exit code 1', async () => {
    const file = rulesFile('bad.yaml', 'rules:\n  - hosts: [a.example.com]\n    path_regex: "^/(a+)+$"\n    policy: deny\n  - hosts: [b.example.com]\n    policy: allow\n');
    const result = await twofold('forward-auth', 'check', file);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${file}:3:17: rule 1: path_regex: can take exponential time`)), `${file}:6:13: rule 2: policy: "allow" is not a policy: expected bypass, deny, one_factor, two_factor, phishing_resistant`]);
  });

  it('FA-16: a missing file → FILE: cannot read the file, exit code 1', async () => {
    const result = await twofold('forward-auth', 'check', join(directory, 'missing.yaml'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('missing.yaml: cannot read the file (ENOENT)');
  });
});
