// The multi-instance KeyValueStore on Redis (ioredis). Two connections: one for commands, one
// for pub/sub (a subscribed connection can do nothing else). Failure is fast and bounded: no
// offline queue, one try per command and a command timeout, so a Redis outage becomes quick
// 503s; ioredis keeps reconnecting (and re-subscribing) in the background, so service resumes
// by itself. Keys and channels carry the configured prefix, so several deployments (or test
// runs) can share one Redis.
import { Redis } from 'ioredis';
import type { RedisConfig } from '../../config/schema.js';
import { KeyValueStoreUnavailableError, type GuessConsumption, type KeyValueStore } from './key-value-store.js';

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

// A fixed-window budget in one hash: c = units taken, e = when the window ends (the caller's clock).
const consumeBudgetScript = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local held = redis.call('HMGET', KEYS[1], 'c', 'e')
local count = tonumber(held[1])
local ends = tonumber(held[2])
if count == nil or ends == nil or ends <= now then
  count = 0
  ends = now + tonumber(ARGV[3])
end
if count >= limit then return {0, count, string.format('%d', ends)} end
count = count + 1
redis.call('HSET', KEYS[1], 'c', count, 'e', string.format('%d', ends))
redis.call('PEXPIRE', KEYS[1], math.max(1, ends - now))
return {1, count, string.format('%d', ends)}`;

const refundBudgetScript = `
local held = redis.call('HMGET', KEYS[1], 'c', 'e')
local count = tonumber(held[1])
if count == nil or count <= 0 or held[2] ~= ARGV[2] or tonumber(held[2]) <= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'c', count - 1)
return 1`;

// The account's guess counter (KEYS: failures, wait-until, locked); the same rule as the memory
// store's consumeGuess, in one step so that no two instances can both take the last free guess.
// A wait ends by the caller's clock (its value), never by Redis expiring the key early: the key
// lives as long as the count it belongs to.
const consumeGuessScript = `
local now = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[3]) == 1 then return {'locked'} end
local previous = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if previous > now then return {'wait', string.format('%d', previous - now)} end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
local free = tonumber(ARGV[2])
local lockAt = tonumber(ARGV[4])
local waitUntil = 0
local locked = 0
if count >= lockAt then
  if redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[6], 'NX') then locked = 1 end
elseif count > free then
  local delay = math.min((2 ^ math.min(count - free - 1, 30)) * 1000, tonumber(ARGV[3]))
  waitUntil = now + delay
  redis.call('SET', KEYS[2], string.format('%d', waitUntil), 'PX', ARGV[5])
end
return {'taken', count, string.format('%d', waitUntil), string.format('%d', previous), locked}`;

const refundGuessScript = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if count > 0 then redis.call('DECR', KEYS[1]) end
if ARGV[2] ~= '0' and redis.call('GET', KEYS[2]) == ARGV[2] then
  local previous = tonumber(ARGV[3])
  local now = tonumber(ARGV[1])
  if previous > now then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[5]) else redis.call('DEL', KEYS[2]) end
end
if ARGV[4] == '1' then redis.call('DEL', KEYS[3]) end
return 1`;

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
    consumeBudget: (key, now, budget) =>
      run(async () => {
        const [consumed, count, windowEndsAt] = (await commands.eval(consumeBudgetScript, 1, key, now, budget.limit, budget.windowMs)) as [number, number, string];
        return { consumed: consumed === 1, count, windowEndsAt: Number(windowEndsAt) };
      }),
    refundBudget: (key, now, windowEndsAt) => run(async () => void (await commands.eval(refundBudgetScript, 1, key, now, windowEndsAt))),
    consumeGuess: (keys, now, policy) =>
      run(async (): Promise<GuessConsumption> => {
        const reply = (await commands.eval(
          consumeGuessScript,
          3,
          keys.failures,
          keys.waitUntil,
          keys.locked,
          now,
          policy.freeFailures,
          policy.maxDelayMs,
          policy.lockFailures,
          policy.failuresLifetimeMs,
          policy.lockLifetimeMs,
        )) as [string, ...Array<number | string>];
        if (reply[0] === 'locked') return { consumed: false, locked: true };
        if (reply[0] === 'wait') return { consumed: false, locked: false, retryAfterMs: Number(reply[1]) };
        return { consumed: true, count: Number(reply[1]), waitUntil: Number(reply[2]), previousWaitUntil: Number(reply[3]), locked: reply[4] === 1 };
      }),
    refundGuess: (keys, now, taken, policy) =>
      run(async () => void (await commands.eval(refundGuessScript, 3, keys.failures, keys.waitUntil, keys.locked, now, taken.waitUntil, taken.previousWaitUntil, taken.locked ? 1 : 0, policy.failuresLifetimeMs))),
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
