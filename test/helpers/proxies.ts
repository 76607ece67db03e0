// Debian's nginx, Caddy and HAProxy as the reverse proxy in front of an app, each run unprivileged
// in a temporary directory of its own, in the foreground, on a free port, never as the system
// service. Each is configured with examples/forward-auth/'s file as the README prints it; only the
// example addresses are replaced (see forwardAuthExample), and the little each program needs to
// start here (pid file, logs, temporary files, no TLS) is added around it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { requestThroughProxy } from './through-proxy.js';
import { join } from 'node:path';

export const proxyBinaries = { nginx: '/usr/sbin/nginx', caddy: '/usr/bin/caddy', haproxy: '/usr/sbin/haproxy' } as const;
export type ProxyName = keyof typeof proxyBinaries;
export const proxyAvailable = (name: ProxyName): boolean => existsSync(proxyBinaries[name]);

/** Where the example files say things are, and where a test has put them. */
export interface ExampleAddresses {
  /** Twofold's listening address for the proxy, e.g. 127.0.0.1:41234 (the examples' 127.0.0.1:3000). */
  twofoldAddress: string;
  /** The app behind the proxy, e.g. 127.0.0.1:41235 (the examples' 127.0.0.1:8080). */
  upstreamAddress: string;
  /** The protected host (the examples' app.example.com). */
  appHost: string;
  /** The proxy's port on 127.0.0.1 (plain HTTP in tests; the examples listen with TLS). */
  proxyPort: number;
}

/** An example file of examples/forward-auth/ exactly as the README shows it. */
export function forwardAuthExampleFile(name: string): string {
  return readFileSync(join('examples/forward-auth', name), 'utf8');
}

/** The example with a test's addresses; fails loudly if an expected piece is missing (the example changed). */
function substitute(text: string, replacements: Array<[string | RegExp, string]>): string {
  let result = text;
  for (const [from, to] of replacements) {
    const next = typeof from === 'string' ? result.replaceAll(from, to) : result.replace(from, to);
    if (next === result) throw new Error(`the example no longer contains ${String(from)}`);
    result = next;
  }
  return result;
}

function commonReplacements(addresses: ExampleAddresses): Array<[string | RegExp, string]> {
  return [
    ['127.0.0.1:3000', addresses.twofoldAddress],
    ['127.0.0.1:8080', addresses.upstreamAddress],
  ];
}

export function nginxSite(addresses: ExampleAddresses): string {
  return substitute(forwardAuthExampleFile('nginx.conf'), [
    [/listen 443 ssl;\n\s*ssl_certificate .*\n\s*ssl_certificate_key .*\n/, `listen 127.0.0.1:${addresses.proxyPort};\n`],
    ['app.example.com', addresses.appHost],
    ...commonReplacements(addresses),
  ]);
}

export function caddySite(addresses: ExampleAddresses): string {
  return substitute(forwardAuthExampleFile('Caddyfile'), [['app.example.com {', `http://${addresses.appHost}:${addresses.proxyPort} {`], ...commonReplacements(addresses)]);
}

export function haproxyConfiguration(addresses: ExampleAddresses, luaFile: string): string {
  return substitute(forwardAuthExampleFile('haproxy.cfg'), [
    ['/etc/haproxy/twofold-forward-auth.lua', luaFile],
    [/bind :443 ssl crt \S+/, `bind 127.0.0.1:${addresses.proxyPort}`],
    ...commonReplacements(addresses),
  ]);
}

export interface RunningProxy {
  name: ProxyName;
  /** http://<appHost>:<port>: the protected app through the proxy. */
  baseUrl: string;
  port: number;
  /** What the proxy printed and logged so far (why it refused to start, or a request). */
  log(): string;
  stop(): Promise<void>;
}

interface Launch {
  name: ProxyName;
  root: string;
  args: string[];
  env?: Record<string, string>;
  logFiles: string[];
  addresses: ExampleAddresses;
}

async function launch({ name, root, args, env, logFiles, addresses }: Launch): Promise<RunningProxy> {
  let output = '';
  const child: ChildProcess = spawn(proxyBinaries[name], args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, env: { ...process.env, ...env } });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => `${output}${logFiles.map((file) => (existsSync(file) ? readFileSync(file, 'utf8') : '')).join('')}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 5000))]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(root, { recursive: true, force: true });
  };
  const { proxyPort, appHost } = addresses;
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const up = await requestThroughProxy(`http://${appHost}:${proxyPort}`, '/').then(
      () => true,
      () => false,
    );
    if (up) return { name, baseUrl: `http://${appHost}:${proxyPort}`, port: proxyPort, log, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const text = log();
  await stop();
  throw new Error(`${name} did not start:\n${text}`);
}

function temporaryRoot(name: ProxyName): string {
  return mkdtempSync(join(tmpdir(), `twofold-${name}-`));
}

export async function startNginx(addresses: ExampleAddresses, options: { site?: string } = {}): Promise<RunningProxy> {
  const root = temporaryRoot('nginx');
  for (const folder of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(root, folder));
  const configuration = [
    // One process in the foreground, stopped with the test.
    'daemon off;',
    'master_process off;',
    `pid ${root}/nginx.pid;`,
    `error_log ${root}/error.log warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${root}/body;`,
    `  proxy_temp_path ${root}/proxy;`,
    `  fastcgi_temp_path ${root}/fastcgi;`,
    `  uwsgi_temp_path ${root}/uwsgi;`,
    `  scgi_temp_path ${root}/scgi;`,
    options.site ?? nginxSite(addresses),
    '}',
  ].join('\n');
  writeFileSync(join(root, 'nginx.conf'), configuration);
  return launch({ name: 'nginx', root, args: ['-p', root, '-e', join(root, 'error.log'), '-c', join(root, 'nginx.conf')], logFiles: [join(root, 'error.log')], addresses });
}

export async function startCaddy(addresses: ExampleAddresses): Promise<RunningProxy> {
  const root = temporaryRoot('caddy');
  // No admin endpoint, no certificates (plain HTTP in tests), Caddy's own files in the temporary directory.
  const global = ['{', '\tadmin off', '\tauto_https off', `\tstorage file_system ${root}/data`, '}'].join('\n');
  const file = join(root, 'Caddyfile');
  writeFileSync(file, `${global}\n\n${caddySite(addresses)}`);
  return launch({ name: 'caddy', root, args: ['run', '--config', file, '--adapter', 'caddyfile'], env: { HOME: root, XDG_DATA_HOME: join(root, 'data'), XDG_CONFIG_HOME: join(root, 'config') }, logFiles: [], addresses });
}

export async function startHaproxy(addresses: ExampleAddresses): Promise<RunningProxy> {
  const root = temporaryRoot('haproxy');
  const luaFile = join(root, 'twofold-forward-auth.lua');
  writeFileSync(luaFile, forwardAuthExampleFile('twofold-forward-auth.lua'));
  const file = join(root, 'haproxy.cfg');
  writeFileSync(file, haproxyConfiguration(addresses, luaFile));
  // -db: in the foreground; -W is not needed (no reloads).
  return launch({ name: 'haproxy', root, args: ['-db', '-f', file], logFiles: [], addresses });
}

export function startProxy(name: ProxyName, addresses: ExampleAddresses): Promise<RunningProxy> {
  return name === 'nginx' ? startNginx(addresses) : name === 'caddy' ? startCaddy(addresses) : startHaproxy(addresses);
}
