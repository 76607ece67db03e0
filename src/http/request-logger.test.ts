import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from './logger.js';
import { lazyChildLogger } from './request-logger.js';

function capture(level: string): { logger: FastifyBaseLogger; lines: () => Array<Record<string, unknown>>; children: () => number } {
  const written: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      written.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ log: { level } } as Parameters<typeof createLogger>[0], sink) as unknown as FastifyBaseLogger;
  let children = 0;
  // pino children inherit from their parent's object: the counter must call through with `this`.
  const child = logger.child;
  logger.child = function (this: FastifyBaseLogger, ...args: Parameters<FastifyBaseLogger['child']>) {
    children += 1;
    return child.apply(this, args);
  } as FastifyBaseLogger['child'];
  return { logger, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>), children: () => children };
}

describe('the per-request logger is made on first use', () => {
  it('lines below the level make no child and write nothing', () => {
    const { logger, lines, children } = capture('error');
    const requestLogger = lazyChildLogger(logger, { reqId: 'req-1' }, {});
    requestLogger.info({ path: '/v1/me' }, 'incoming request');
    requestLogger.warn('slow');
    expect(children()).toBe(0);
    expect(lines()).toEqual([]);
  });

  it('a line at the level is written by the same pino child: bindings and redaction included', () => {
    const { logger, lines, children } = capture('info');
    const requestLogger = lazyChildLogger(logger, { reqId: 'req-2' }, {});
    requestLogger.info({ password: 'hunter2 hunter2', body: { code: '123456' } }, 'first');
    requestLogger.error('second');
    expect(children()).toBe(1);
    expect(lines()).toMatchObject([
      { reqId: 'req-2', msg: 'first', password: '[redacted]', body: { code: '[redacted]' }, level: 30 },
      { reqId: 'req-2', msg: 'second', level: 50 },
    ]);
    expect(requestLogger.level).toBe('info');
  });

  it("a route's own level (Fastify's logLevel) decides, and silent writes nothing", () => {
    const { logger, lines } = capture('info');
    const quiet = lazyChildLogger(logger, { reqId: 'req-3' }, { level: 'warn' });
    quiet.info('dropped');
    quiet.warn('kept');
    const silent = lazyChildLogger(logger, { reqId: 'req-4' }, { level: 'silent' });
    silent.fatal('dropped too');
    expect(lines().map((line) => line['msg'])).toEqual(['kept']);
  });

  it('child() of the request logger carries both bindings', () => {
    const { logger, lines } = capture('info');
    lazyChildLogger(logger, { reqId: 'req-5' }, {}).child({ component: 'pages' }).info('nested');
    expect(lines()).toMatchObject([{ reqId: 'req-5', component: 'pages', msg: 'nested' }]);
  });
});
