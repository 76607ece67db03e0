// Debian's Apache httpd as a relying party in tests: its own ServerRoot in a temporary directory, a
// free port, its own pid file and logs, run in the foreground (-X: one process, stopped with the
// test) — never the system service. The site's configuration is given by the test; this file adds
// only what any Apache needs to start (modules, listening, files).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const apacheBinary = '/usr/sbin/apache2';
export const apacheModules = '/usr/lib/apache2/modules';
export const modAuthOpenidcPath = `${apacheModules}/mod_auth_openidc.so`;
export const apacheAvailable = existsSync(apacheBinary) && existsSync(modAuthOpenidcPath);

/** The modules every site here needs; the site's own LoadModule lines come with its configuration. */
const baseModules = ['mpm_prefork', 'authn_core', 'authz_core', 'authz_user', 'mime', 'dir', 'headers', 'alias'];

export interface RunningApache {
  baseUrl: string;
  /** The error log so far (mod_auth_openidc says there why it refused). */
  errorLog(): string;
  stop(): Promise<void>;
}

export interface ApacheSite {
  /** The site's directives (e.g. mod_auth_openidc's), written after the base configuration. */
  configuration: string;
  /** Files under the document root, by relative path. */
  files: Record<string, string>;
  /** The site's address, e.g. http://localhost:8123 (it listens on 127.0.0.1 at that port). */
  baseUrl: string;
}

export async function startApache(site: ApacheSite): Promise<RunningApache> {
  const root = mkdtempSync(join(tmpdir(), 'twofold-apache-'));
  // Apache's child runs as www-data: it must read the document root.
  chmodSync(root, 0o755);
  const documentRoot = join(root, 'htdocs');
  for (const [path, content] of Object.entries(site.files)) {
    const file = join(documentRoot, path);
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(file, content, { mode: 0o644 });
  }
  mkdirSync(documentRoot, { recursive: true, mode: 0o755 });
  const { baseUrl } = site;
  const { hostname, port } = new URL(baseUrl);
  const base = [
    `ServerRoot "${root}"`,
    `ServerName ${hostname}`,
    `Listen 127.0.0.1:${port}`,
    `PidFile "${root}/httpd.pid"`,
    `DefaultRuntimeDir "${root}"`,
    `Mutex file:${root} default`,
    'User www-data',
    'Group www-data',
    `ErrorLog "${root}/error.log"`,
    'LogLevel warn auth_openidc:info',
    ...baseModules.map((name) => `LoadModule ${name}_module ${apacheModules}/mod_${name}.so`),
    'TypesConfig /etc/mime.types',
    `DocumentRoot "${documentRoot}"`,
    `<Directory "${documentRoot}">`,
    '  Require all granted',
    '</Directory>',
    'DirectoryIndex index.html',
  ].join('\n');
  const configFile = join(root, 'httpd.conf');
  writeFileSync(configFile, `${base}\n\n${site.configuration}\n`);

  let output = '';
  const child: ChildProcess = spawn(apacheBinary, ['-f', configFile, '-X'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const errorLog = () => {
    const file = join(root, 'error.log');
    return `${output}${existsSync(file) ? readFileSync(file, 'utf8') : ''}`;
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  };

  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null) break;
    const up = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' }).then(
      () => true,
      () => false,
    );
    if (up) return { baseUrl, errorLog, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const log = errorLog();
  await stop();
  throw new Error(`Apache did not start:\n${log}`);
}
