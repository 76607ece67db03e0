// The multi-instance KeyValueStore on Redis (ioredis). Two connections: one for commands, one
// for pub/sub (a subscribed connection can do nothing else). Failure is fast and bounded: no
// offline queue, one try per command and a command timeout, so a Redis outage becomes quick
// 503s; ioredis keeps reconnecting (and re-subscribing) in the background, so service resumes
// by itself. Keys and channels carry the configured prefix, so several deployments (or test
// runs) can share one Redis.
import { Redis } from 'ioredis';
import type { RedisConfig } from '../../config/schema.js';
import { KeyValueStoreUnavailableError, type KeyValueStore } from './key-value-store.js';

// INCR and the expiry of a new counter in one atomic step: a crash between them cannot leave an
// immortal counter, and concurrent increments from any instance all count.
const incrementScript = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

const claimUntilScript = `
local held = tonumber(redis.call('GET', KEYS[1]))
if held and held > tonumber(ARGV[1]) then return tostring(held) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return false`;

const takeScript = `
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value`;

export async function createRedisStore(config: RedisConfig, onError: (error: Error) => void = () => undefined): Promise<KeyValueStore> {
  const options = {
    keyPrefix: config.keyPrefix,
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
  };
  const commands = new Redis(config.url, options);
  // The subscriber must queue its SUBSCRIBE until connected, and re-subscribes after a reconnect.
  const subscriber = new Redis(config.url, { ...options, keyPrefix: undefined, enableOfflineQueue: true, commandTimeout: undefined, maxRetriesPerRequest: null });
  commands.on('error', onError);
  subscriber.on('error', onError);
  const handlers = new Map<string, Array<(message: string) => void>>();
  subscriber.on('message', (channel: string, message: string) => {
    for (const handler of handlers.get(channel) ?? []) handler(message);
  });

  const run = async <T>(command: () => Promise<T>): Promise<T> => {
    try {
      return await command();
    } catch (cause) {
      throw new KeyValueStoreUnavailableError(`Redis is unavailable: ${(cause as Error).message}`, { cause });
    }
  };
  const channelName = (channel: string) => `${config.keyPrefix}${channel}`;

  try {
    await Promise.all([commands.connect(), subscriber.connect()]);
  } catch (cause) {
    commands.disconnect();
    subscriber.disconnect();
    throw new KeyValueStoreUnavailableError(`Redis at ${redactedUrl(config.url)} is unreachable`, { cause });
  }

  return {
    kind: 'redis',
    increment: (key, ttlMs) => run(async () => Number(await commands.eval(incrementScript, 1, key, ttlMs))),
    get: (key) => run(async () => (await commands.get(key)) ?? undefined),
    set: (key, value, ttlMs) => run(async () => void (await commands.set(key, value, 'PX', ttlMs))),
    setIfAbsent: (key, value, ttlMs) => run(async () => (await commands.set(key, value, 'PX', ttlMs, 'NX')) === 'OK'),
    claimUntil: (key, now, until) =>
      run(async () => {
        const held = (await commands.eval(claimUntilScript, 1, key, now, until, Math.max(1, until - now))) as string | null;
        return held === null ? undefined : Number(held);
      }),
    take: (key) => run(async () => ((await commands.eval(takeScript, 1, key)) as string | null) ?? undefined),
    delete: (...keys) => run(async () => void (keys.length > 0 ? await commands.del(...keys) : 0)),
    publish: (channel, message) => run(async () => void (await commands.publish(channelName(channel), message))),
    async subscribe(channel, onMessage) {
      const name = channelName(channel);
      handlers.set(name, [...(handlers.get(name) ?? []), onMessage]);
      await run(() => subscriber.subscribe(name));
    },
    ping: () => run(async () => void (await commands.ping())),
    async close() {
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

/**
 * A database or Redis URL fit for a banner or an error: no password, and no query values either
 * (`?password=…` and `?sslpassword=…` are valid ways to pass one to PostgreSQL).
 */
export function redactedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(invalid URL)';
  }
  if (parsed.password !== '') parsed.password = '***';
  for (const name of [...parsed.searchParams.keys()]) parsed.searchParams.set(name, '***');
  return parsed.toString();
}
