// Logs a person reads: `twofold serve` on a terminal outside production prints its log lines
// through pino-pretty (time, level, message, then the fields), and JSON everywhere else — piped
// into a file or a collector, and always in production — so machines keep reading JSON.
// TWOFOLD_LOG_FORMAT=json or pretty overrides the choice. The lines are the same lines, secrets
// redacted before they are formatted (src/http/logger.ts); pino-pretty is loaded only when used.
import type { Logger } from 'pino';
import type { TwofoldConfig } from '../config/schema.js';
import { createLogger } from './logger.js';

export type ChosenLogFormat = 'json' | 'pretty';

/** What TWOFOLD_LOG_FORMAT (auto by default) means for this process's stdout. */
export function chooseLogFormat(config: Pick<TwofoldConfig, 'mode' | 'log'>, stdoutIsTerminal: boolean): ChosenLogFormat {
  const format = config.log.format ?? 'auto';
  if (format !== 'auto') return format;
  return stdoutIsTerminal && config.mode !== 'production' ? 'pretty' : 'json';
}

/** The server's logger on stdout, pretty-printed or JSON as chooseLogFormat says. */
export async function createStdoutLogger(config: Pick<TwofoldConfig, 'mode' | 'log'>, stdout: NodeJS.WriteStream = process.stdout): Promise<Logger> {
  // pino writes to fd 1 itself (sonic-boom) unless given another stream.
  if (chooseLogFormat(config, stdout.isTTY === true) === 'json') return createLogger(config, stdout === process.stdout ? undefined : stdout);
  const { default: pretty } = await import('pino-pretty');
  const destination = pretty({
    destination: stdout,
    sync: true,
    colorize: stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  return createLogger(config, destination, { forPrettyPrinter: true });
}
