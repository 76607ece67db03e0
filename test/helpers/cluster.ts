// Several real Twofold server processes on one PostgreSQL database and one Redis, as behind a
// load balancer: the same encryption key, issuer and shared state, each on its own port.
import { randomBytes } from 'node:crypto';
import { createPostgresDatabase, createRedisPrefix, makeTempDir, testRedisUrl } from './backend.js';
import { findFreePort, startServerProcess, type ServerProcess } from './process.js';
import { testEnvironment } from './twofold.js';

export interface Cluster {
  instances: ServerProcess[];
  /** The environment every instance shares (also right for running the CLI against the cluster). */
  env: Record<string, string>;
  databaseUrl: string;
  /**
   * Stops every instance and starts as many again on the same database and Redis, with `changes`
   * applied to the shared environment (undefined removes a variable) — a redeploy.
   */
  restart(changes: Record<string, string | undefined>): Promise<void>;
  stop(): Promise<void>;
}

export const clusterPublicUrl = 'http://twofold.cluster.test';

export async function startCluster(count: number, extraEnv: Record<string, string> = {}): Promise<Cluster> {
  const database = await createPostgresDatabase();
  const redis = createRedisPrefix();
  const dataDir = makeTempDir('twofold-cluster-');
  const env = testEnvironment(dataDir.path, {
    TWOFOLD_DATABASE_URL: database.url,
    TWOFOLD_REDIS_URL: testRedisUrl ?? '',
    TWOFOLD_REDIS_KEY_PREFIX: redis.prefix,
    TWOFOLD_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    TWOFOLD_PUBLIC_URL: clusterPublicUrl,
    TWOFOLD_HOST: '127.0.0.1',
    TWOFOLD_LOG_LEVEL: 'warn',
    ...extraEnv,
  });
  const startInstances = async (shared: Record<string, string>) => {
    const ports = await Promise.all(Array.from({ length: count }, findFreePort));
    // Started together, so that they also race for migrations and the first signing key.
    return Promise.all(
      ports.map((port) => startServerProcess({ command: process.execPath, args: ['dist/cli/main.js', 'serve'], env: { ...shared, TWOFOLD_PORT: String(port) }, port })),
    );
  };
  const cluster: Cluster = {
    instances: await startInstances(env),
    env,
    databaseUrl: database.url,
    async restart(changes) {
      await Promise.all(cluster.instances.map((instance) => instance.stop()));
      const next = { ...cluster.env };
      for (const [name, value] of Object.entries(changes)) {
        if (value === undefined) delete next[name];
        else next[name] = value;
      }
      cluster.env = next;
      cluster.instances = await startInstances(next);
    },
    async stop() {
      await Promise.all(cluster.instances.map((instance) => instance.stop()));
      await Promise.all([database.dispose(), redis.dispose()]);
      dataDir.dispose();
    },
  };
  return cluster;
}
