// The README's "Walk-through with curl" works as a newcomer uses it: the whole block pasted into
// a shell at once, against a running server. Nothing is taken from it but the block itself (only
// the port changes), so a step that needs a fresh TOTP code must wait for it by itself — a code
// works once — and a step whose output the README shows must print it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort, startServerProcess } from '../helpers/process.js';
import { commandAvailable, requirement } from '../helpers/requirements.js';
import { testEnvironment } from '../helpers/twofold.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const haveTools = requirement(
  'curl, jq and oathtool (the README walk-through)',
  ['curl', 'jq', 'oathtool'].every((command) => commandAvailable(command)),
  'apt-get install -y curl jq oathtool',
);

/** The first ```sh block of the section. */
function walkThrough(): string {
  const section = readme.slice(readme.indexOf('\n## Walk-through with curl\n'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('README: no sh block in "Walk-through with curl"');
  return block;
}

const workDir = mkdtempSync(join(tmpdir(), 'twofold-walkthrough-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Pastes `text` into bash (its standard input), in `cwd`; resolves with what it printed. */
function paste(text: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const shell = spawn('bash', [], { cwd, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    shell.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    shell.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    shell.once('close', (code) => resolve({ code, stdout, stderr }));
    shell.stdin.end(text);
  });
}

describe.runIf(haveTools)('the README walk-through with curl', () => {
  it('runs as one pasted block against a fresh server: registration, confirmation, sign-in, API call, refresh, logout', async () => {
    const block = walkThrough();
    expect(block).toMatch(/^BASE=http:\/\/localhost:3000$/m);
    // The second sign-in needs the next TOTP step: the block waits for it itself.
    expect(block.indexOf('sleep ')).toBeGreaterThan(block.indexOf('# 2.'));
    expect(block.indexOf('sleep ')).toBeLessThan(block.indexOf('/v1/mfa/verify'));

    const dataDir = join(workDir, 'data');
    const port = await findFreePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await startServerProcess({
      command: process.execPath,
      args: ['dist/cli/main.js', 'serve'],
      env: testEnvironment(dataDir, { TWOFOLD_PORT: String(port), TWOFOLD_HOST: '127.0.0.1', TWOFOLD_PUBLIC_URL: base, TWOFOLD_LOG_LEVEL: 'warn' }),
      port,
    });
    try {
      const result = await paste(block.replace(/^BASE=http:\/\/localhost:3000$/m, `BASE=${base}`), workDir);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      // Step 2 prints the confirmation with the recovery codes; step 5 the user; step 7 the logout.
      expect(result.stdout).toContain('"recovery_codes"');
      expect(result.stdout).toMatch(/"username": "alice"/);
      expect(result.stdout.trimEnd().split('\n').slice(-2)).toEqual(['204', '"invalid_token"']);
      expect(result.stdout).not.toContain('"invalid_code"');
      expect(readFileSync(join(workDir, 'qr.svg'), 'utf8')).toMatch(/^<svg/);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
