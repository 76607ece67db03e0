// Fastify gives every request a child logger carrying its id. pino makes a child eagerly —
// serializing and redacting its bindings — which cost 1.5–2 % of a `GET /v1/me` (docs/benchmarks.md),
// for a logger most requests never write to at the configured level. Here the child is made on
// the first line that passes the level check, and is then the same pino child as before: same
// bindings, same redaction, same serializers.
import type { FastifyBaseLogger } from 'fastify';
import pino, { type Bindings, type ChildLoggerOptions, type Level } from 'pino';

type LogCall = (...args: unknown[]) => void;

class LazyChildLogger {
  #child: FastifyBaseLogger | undefined;
  readonly level: string;
  readonly #threshold: number;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {
    this.level = options.level ?? parent.level;
    // "silent" (and any unknown name) is above every level: nothing passes.
    this.#threshold = pino.levels.values[this.level] ?? Number.POSITIVE_INFINITY;
  }

  #write(level: Level, args: unknown[]): void {
    if (pino.levels.values[level]! < this.#threshold) return;
    (this.#logger()[level] as LogCall)(...args);
  }

  #logger(): FastifyBaseLogger {
    return (this.#child ??= this.parent.child(this.bindings, this.options));
  }

  fatal = (...args: unknown[]) => this.#write('fatal', args);
  error = (...args: unknown[]) => this.#write('error', args);
  warn = (...args: unknown[]) => this.#write('warn', args);
  info = (...args: unknown[]) => this.#write('info', args);
  debug = (...args: unknown[]) => this.#write('debug', args);
  trace = (...args: unknown[]) => this.#write('trace', args);
  silent = () => undefined;

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory` option. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
