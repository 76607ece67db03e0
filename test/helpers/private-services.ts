// Private Redis and PostgreSQL servers that a test starts on free ports and may stop and
// restart at will — the machine's shared services are never touched.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findFreePort, waitForPortClosed } from './process.js';

export interface PrivateService {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets but answers nothing, like a partitioned network. */
  freeze(): void;
  thaw(): void;
  dispose(): Promise<void>;
}

async function waitForPortOpen(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

export function redisServerAvailable(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startPrivateRedis(): Promise<PrivateService> {
  const port = await findFreePort();
  let child: ChildProcess | undefined;
  const service: PrivateService = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitForPortOpen(port);
    },
    async stop() {
      if (child === undefined || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      await waitForPortClosed(port);
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async dispose() {
      service.thaw();
      await service.stop();
    },
  };
  await service.start();
  return service;
}

const postgresBin = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort().at(-1);
  return version === undefined ? undefined : join(root, version, 'bin');
})();

export function privatePostgresAvailable(): boolean {
  return postgresBin !== undefined && existsSync(join(postgresBin, 'initdb'));
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user. */
function asPostgresUser(command: string, args: string[]): void {
  if (userInfo().uid === 0) execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'ignore' });
  else execFileSync(command, args, { stdio: 'ignore' });
}

export async function startPrivatePostgres(): Promise<PrivateService> {
  if (postgresBin === undefined) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  const port = await findFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'twofold-private-pg-'));
  if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const data = join(dir, 'data');
  asPostgresUser(join(postgresBin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const pgCtl = join(postgresBin, 'pg_ctl');
  const clusterPids = (): number[] => {
    const postmaster = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]?.trim() ?? '';
    let children: string[] = [];
    try {
      children = execFileSync('pgrep', ['-P', postmaster]).toString().trim().split('\n');
    } catch {
      // no children yet
    }
    return [postmaster, ...children].filter((pid) => /^\d+$/.test(pid)).map(Number);
  };
  const signalCluster = (signal: NodeJS.Signals) => {
    for (const pid of clusterPids()) {
      try {
        process.kill(pid, signal);
      } catch {
        // the process just exited
      }
    }
  };
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const service: PrivateService = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      asPostgresUser(pgCtl, ['-D', data, '-o', options, '-w', '-l', join(dir, 'log'), 'start']);
      await waitForPortOpen(port);
    },
    async stop() {
      // Immediate: like a crash or a lost network, the server vanishes without a goodbye.
      asPostgresUser(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      await waitForPortClosed(port);
    },
    freeze() {
      signalCluster('SIGSTOP');
    },
    thaw() {
      signalCluster('SIGCONT');
    },
    async dispose() {
      try {
        service.thaw();
        await service.stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}
