// Administrative commands open the same runtime as the server (same config, same migrations,
// same keys), do one thing, and close it.
import { loadConfig } from '../../config/load.js';
import { createLoggingEventSink } from '../../flows/shared/security-events.js';
import pino from 'pino';
import { createLogger } from '../../http/logger.js';
import { createTwofold, type Twofold } from '../../twofold.js';
import { printError } from '../output.js';

export async function withTwofold<T>(work: (twofold: Twofold) => Promise<T>): Promise<T> {
  const config = loadConfig();
  // On stderr, like the logs: stdout is the command's answer.
  printError(...(config.warnings ?? []).map((warning) => `twofold: warning: ${warning}`));
  // Logs go to stderr: stdout is the command's answer (and must stay parseable with --json).
  const logger = createLogger({ log: { level: config.log.level === 'info' ? 'warn' : config.log.level } }, pino.destination(2));
  // A tool runs beside a server without being another instance of it: it holds no single-instance
  // lease and runs no background upkeep (`twofold audit prune` runs it once, on purpose).
  const twofold = await createTwofold(config, { events: createLoggingEventSink(logger.child({ component: 'security' })), logger, singleInstance: false, maintenance: false });
  try {
    return await work(twofold);
  } finally {
    await twofold.close();
  }
}
