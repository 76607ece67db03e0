// The server as a process, end to end: `npm start` as the README says, the whole flow over a
// real socket, a restart that keeps keys, graceful shutdown, and production-mode refusals.
import { request } from 'node:http';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { call } from '../helpers/http-client.js';
import { findFreePort, runCommand, startServerProcess, waitForPortClosed } from '../helpers/process.js';
import { commandAvailable, requirement } from '../helpers/requirements.js';

const dataDir = mkdtempSync(join(tmpdir(), 'twofold-e2e-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const haveScript = requirement('script (util-linux)', commandAvailable('script', ['--version']), 'apt-get install -y bsdutils');

async function until(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(condition()).toBe(true);
}

const code = (secret: string, offset = 0) => generateTotpCode(secret, totpStepAt(Date.now()) + offset);

describe('the server process', () => {
  it('npm start serves the whole flow over a socket and keeps its keys across a restart', async () => {
    const port = await findFreePort();
    const env = { TWOFOLD_PORT: String(port), TWOFOLD_HOST: '127.0.0.1', TWOFOLD_DATA_DIR: dataDir };
    const server = await startServerProcess({ command: 'npm', args: ['start', '--silent'], env, port });
    let kid: string;
    let accessToken: string;
    try {
      expect(server.output()).toMatch(/development mode/);
      expect(server.output()).toContain('messages     development outbox: codes are printed here as they are sent');
      expect(server.output()).not.toContain('set NODE_ENV=production');
      expect(server.output()).toContain(`data dir     ${dataDir}`);
      expect(server.output()).toContain(`SQLite ${join(dataDir, 'twofold.db')}`);
      expect(statSync(join(dataDir, 'encryption.key')).mode & 0o777).toBe(0o600);

      const url = server.baseUrl;
      const registered = await call(url, 'POST', '/v1/register', { username: 'e2e-person', password: 'an end to end passphrase' });
      expect(registered.status).toBe(201);
      const { secret, factor_id: factorId } = registered.body.totp;
      const confirmed = await call(url, 'POST', `/v1/factors/${factorId}/verify`, { code: code(secret) }, registered.body.mfa_token);
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.recovery_codes).toHaveLength(10);

      const login = await call(url, 'POST', '/v1/login', { username: 'e2e-person', password: 'an end to end passphrase' });
      expect(login.status).toBe(200);
      // The confirmation used this step's code; the next step's code is within the window.
      const verified = await call(url, 'POST', '/v1/mfa/verify', { code: code(secret, 1) }, login.body.mfa_token);
      expect(verified.status).toBe(200);
      expect(verified.headers.get('cache-control')).toBe('no-store');

      const me = await call(url, 'GET', '/v1/me', undefined, verified.body.access_token);
      expect(me.status).toBe(200);
      expect(me.body.user.username).toBe('e2e-person');

      const refreshed = await call(url, 'POST', '/v1/token/refresh', { refresh_token: verified.body.refresh_token });
      expect(refreshed.status).toBe(200);
      const logout = await call(url, 'POST', '/v1/logout', undefined, refreshed.body.access_token);
      expect(logout.status).toBe(204);
      expect((await call(url, 'GET', '/v1/me', undefined, refreshed.body.access_token)).status).toBe(401);

      // stdout is a pipe here: the log stays JSON, for machines.
      expect(server.output()).toMatch(/^\{"level":30,.*"msg":"incoming request"/m);
      expect(server.output()).not.toMatch(/\] INFO: /);

      kid = (await call(url, 'GET', '/.well-known/jwks.json')).body.keys[0].kid;
      accessToken = confirmed.body.access_token;
    } finally {
      await server.stop();
      await waitForPortClosed(port);
    }

    const restarted = await startServerProcess({ command: process.execPath, args: ['dist/cli/main.js', 'serve'], env, port });
    try {
      expect(restarted.output()).toContain('read from');
      expect((await call(restarted.baseUrl, 'GET', '/.well-known/jwks.json')).body.keys[0].kid).toBe(kid);
      // A token issued before the restart still verifies: same keys, same database.
      expect((await call(restarted.baseUrl, 'GET', '/v1/me', undefined, accessToken)).status).toBe(200);
    } finally {
      await restarted.stop();
    }
  });

  it('SIGTERM lets an in-flight request finish, then exits 0 (and OB-01: development mode at a public URL says so, as does a mistyped NODE_ENV)', async () => {
    const port = await findFreePort();
    const env = { NODE_ENV: 'prod', TWOFOLD_PORT: String(port), TWOFOLD_HOST: '127.0.0.1', TWOFOLD_DATA_DIR: dataDir, TWOFOLD_PUBLIC_URL: 'https://auth.example.com' };
    const server = await startServerProcess({ command: process.execPath, args: ['dist/cli/main.js', 'serve'], env, port });
    expect(server.output()).toContain('development mode at https://auth.example.com: development defaults apply');
    expect(server.output()).toContain('set NODE_ENV=production for a real deployment');
    expect(server.output()).toContain('warning      NODE_ENV="prod" is neither production, development nor test: running in development mode');
    const body = JSON.stringify({ username: 'nobody-here', password: 'some password value' });
    // Send the headers and half the body, signal, then finish the body: the request is in flight.
    const response = new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/login', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });
    expect(await response).toBe(401);
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('shutting down');
  });

  it.runIf(haveScript)('on a terminal, the development log is for a person (pino-pretty), not JSON, and still redacted', async () => {
    const port = await findFreePort();
    const env = { TWOFOLD_PORT: String(port), TWOFOLD_HOST: '127.0.0.1', TWOFOLD_DATA_DIR: join(dataDir, 'terminal') };
    // `script` runs the server on a pseudo-terminal, as a person's shell would.
    const server = await startServerProcess({ command: 'script', args: ['-qec', `${process.execPath} dist/cli/main.js serve`, '/dev/null'], env, port });
    try {
      const password = 'terminal canary passphrase';
      expect((await call(server.baseUrl, 'POST', '/v1/login', { username: 'nobody-here', password })).status).toBe(401);
      await until(() => server.output().includes('request completed'));
      const text = server.output().replace(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g'), '');
      expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: incoming request\r?$/m);
      expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: security event login\.password_failed\r?$/m);
      expect(text).not.toMatch(/^\{"level"/m);
      expect(text).not.toContain(password);
    } finally {
      await server.stop();
    }
  });

  it('production mode without Redis starts, warning that it is single-instance only', async () => {
    const port = await findFreePort();
    const env = {
      NODE_ENV: 'production',
      TWOFOLD_PORT: String(port),
      TWOFOLD_HOST: '127.0.0.1',
      TWOFOLD_DATA_DIR: dataDir,
      TWOFOLD_PUBLIC_URL: 'https://auth.example.com',
      TWOFOLD_ENCRYPTION_KEY: 'B'.repeat(43),
      TWOFOLD_DATABASE_URL: `sqlite:${join(dataDir, 'production.db')}`,
      // Production has no outbox: without an SMS gateway or SMTP, this deployment offers apps and
      // passkeys, and turns password reset and e-mailed notices off by name.
      TWOFOLD_FACTORS: 'totp,webauthn,recovery',
      TWOFOLD_PASSWORD_RESET: 'off',
      TWOFOLD_NOTIFY: 'off',
    };
    const server = await startServerProcess({ command: process.execPath, args: ['dist/cli/main.js', 'serve'], env, port });
    try {
      expect(server.output()).toMatch(/production mode/);
      expect(server.output()).toContain('TWOFOLD_REDIS_URL is not set');
      expect(server.output()).toContain('single instance only');
    } finally {
      await server.stop();
    }
  });

  it('production mode refuses to start without an https public URL or an explicit encryption key', async () => {
    const base = { NODE_ENV: 'production', TWOFOLD_DATA_DIR: dataDir };
    const noHttps = await runCommand(process.execPath, ['dist/cli/main.js', 'serve'], { ...base, TWOFOLD_ENCRYPTION_KEY: 'A'.repeat(43) });
    expect(noHttps.code).toBe(1);
    expect(noHttps.stderr).toContain('TWOFOLD_PUBLIC_URL');
    const noKey = await runCommand(process.execPath, ['dist/cli/main.js', 'serve'], { ...base, TWOFOLD_PUBLIC_URL: 'https://auth.example.com' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('TWOFOLD_ENCRYPTION_KEY');
    expect(noKey.stderr).not.toMatch(/\n\s+at /); // one clear line, not a stack trace
  });

  it('production mode with nothing set names every missing setting in one run, one line each, no stack', async () => {
    const result = await runCommand(process.execPath, ['dist/cli/main.js', 'serve'], { NODE_ENV: 'production', TWOFOLD_DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.map((line) => line.match(/^twofold: configuration error: (TWOFOLD_[A-Z_]+): /)?.[1])).toEqual([
      'TWOFOLD_PUBLIC_URL',
      'TWOFOLD_ENCRYPTION_KEY',
      'TWOFOLD_SMS_PROVIDER',
      'TWOFOLD_EMAIL_PROVIDER',
    ]);
  });

  it('OB-01: production mode refuses to start while a message would go to the outbox, a line for each provider naming what to set and what to turn off', async () => {
    const base = { NODE_ENV: 'production', TWOFOLD_DATA_DIR: dataDir, TWOFOLD_PUBLIC_URL: 'https://auth.example.com', TWOFOLD_ENCRYPTION_KEY: 'A'.repeat(43) };
    const sms = await runCommand(process.execPath, ['dist/cli/main.js', 'serve'], base);
    expect(sms.code).toBe(1);
    expect(sms.stderr).toMatch(/^twofold: configuration error: TWOFOLD_SMS_PROVIDER: production mode sends nothing to the development outbox.*remove sms from TWOFOLD_FACTORS\.\ntwofold: configuration error: TWOFOLD_EMAIL_PROVIDER: .*\n$/);
    const email = await runCommand(process.execPath, ['dist/cli/main.js', 'serve'], { ...base, TWOFOLD_FACTORS: 'totp,webauthn,recovery' });
    expect(email.code).toBe(1);
    expect(email.stderr).toMatch(/^twofold: configuration error: TWOFOLD_EMAIL_PROVIDER: .*TWOFOLD_PASSWORD_RESET=off; TWOFOLD_NOTIFY=webhook or off\.\n$/);
  });

  it('a port already in use is one line naming TWOFOLD_PORT, not a stack trace', async () => {
    const port = await findFreePort();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const result = await runCommand(process.execPath, ['dist/cli/main.js', 'serve'], { TWOFOLD_PORT: String(port), TWOFOLD_HOST: '127.0.0.1', TWOFOLD_DATA_DIR: join(dataDir, 'port-in-use') });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`twofold: port ${port} on 127.0.0.1 is already in use (another Twofold, or another program); stop it, or set TWOFOLD_PORT to a free port\n`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
