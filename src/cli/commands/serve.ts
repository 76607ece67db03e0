// `twofold serve`: the HTTP server, with a banner saying where data lives and in which mode,
// and a graceful stop on SIGTERM/SIGINT (in-flight requests finish, then the database closes);
// SIGHUP re-reads the forward-auth rules.
import pc from 'picocolors';
import { loadConfig } from '../../config/load.js';
import { isLoopbackHost } from '../../config/production-defaults.js';
import { createStdoutLogger } from '../../http/pretty-log.js';
import { reloadForwardAuthRules } from '../../http/forward-auth/start.js';
import { startServer, type RunningServer } from '../../http/server.js';
import { twofoldVersion } from '../../version.js';
import { terminalText as t } from '../output.js';

export async function serveCommand(): Promise<void> {
  const config = loadConfig();
  const server = await startServer(config, await createStdoutLogger(config));
  await printBanner(server);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      server.logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    server.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // SIGHUP: re-read the forward-auth rules now (they are also watched); a refused file is logged
  // with its line and reason, and the rules in force stay.
  process.on('SIGHUP', () => {
    void reloadForwardAuthRules(server.twofold.context)?.then((result) => {
      if (result.ok) server.logger.info({ changed: result.changed }, 'forward-auth rules re-read');
    });
  });
}

async function printBanner(server: RunningServer): Promise<void> {
  const { config, encryptionKey, database, migrationsApplied, context } = server.twofold;
  const key = await context.keys.currentKey();
  const keySource =
    encryptionKey.source === 'environment'
      ? 'from TWOFOLD_ENCRYPTION_KEY'
      : `${encryptionKey.source === 'generated-file' ? 'generated into' : 'read from'} ${t(encryptionKey.path)} (mode 0600; development only — set TWOFOLD_ENCRYPTION_KEY in production)`;
  // Values are escaped one by one (terminalText), before the colours are added.
  const lines = [
    `${pc.bold(`Twofold ${twofoldVersion}`)} — ${config.mode === 'production' ? pc.green('production mode') : pc.yellow(`${config.mode} mode`)}`,
    `  listening    ${t(server.url)}`,
    `  issuer       ${t(config.issuer)}`,
    `  data dir     ${t(config.dataDir)}`,
    `  database     ${t(database.location)}`,
    `  shared state ${t(server.twofold.sharedStateLocation)}`,
    `  migrations   ${migrationsApplied.length > 0 ? `applied ${t(migrationsApplied.join(', '))}` : 'up to date'}`,
    `  encryption   key ${t(encryptionKey.id)} ${keySource}`,
    ...(encryptionKey.previousIds.length > 0
      ? [`               also opens ${t(encryptionKey.previousIds.join(', '))} (previous keys; \`twofold keys rotate-encryption\` re-seals what they hold)`]
      : []),
    `  signing key  ${t(key.alg)} ${t(key.kid)}`,
    ...(server.twofold.context.senders.sms.provider === 'outbox' || server.twofold.context.senders.email.provider === 'outbox'
      ? [`  messages     development outbox: ${config.mode === 'development' ? 'codes are printed here as they are sent, and ' : ''}\`twofold outbox\` opens the kept ones`]
      : []),
    `  try it       curl ${t(server.url)}/.well-known/openid-configuration`,
    // Forgetting NODE_ENV=production must not go unnoticed where other people connect.
    ...(config.warnings ?? []).map((warning) => pc.yellow(`  warning      ${t(warning)}`)),
    ...(config.mode !== 'production' && !isLoopbackHost(new URL(config.publicUrl).hostname)
      ? [pc.yellow(`  warning      ${config.mode} mode at ${t(config.publicUrl)}: development defaults apply (a generated encryption key, codes printed and kept in the outbox, cheap settings allowed); set NODE_ENV=production for a real deployment`)]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
