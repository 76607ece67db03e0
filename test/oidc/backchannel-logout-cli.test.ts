// `twofold clients add --backchannel-logout-uri`: the URI is checked like a redirect URI (https, or
// http on localhost) before anything is stored, then stored and shown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/process.js';
import { testEnvironment } from '../helpers/twofold.js';

describe('twofold clients add --backchannel-logout-uri', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-oidc-backchannel-'));
  const env = testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn', TWOFOLD_OIDC: 'on' });
  const twofold = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], env);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('OP-12: stores and shows the URI; one that is not https (or http on localhost) is refused before anything is stored', async () => {
    const added = await twofold('clients', 'add', '--id', 'bc-app', '--redirect-uri', 'https://bc.example/cb', '--backchannel-logout-uri', 'https://bc.example/backchannel', '--json');
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ client_id: 'bc-app', backchannel_logout_uri: 'https://bc.example/backchannel' });
    const refused = await twofold('clients', 'add', '--id', 'bc-plain', '--redirect-uri', 'https://bc.example/cb', '--backchannel-logout-uri', 'http://bc.example/backchannel');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('back-channel logout URI');
    const listed = await twofold('clients', 'list', '--json');
    expect((JSON.parse(listed.stdout) as Array<{ client_id: string }>).map((entry) => entry.client_id)).toEqual(['bc-app']);
  });
});
