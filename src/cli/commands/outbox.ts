// `twofold outbox`: the SMS and e-mail messages the development outbox provider kept — where to
// read a code when trying Twofold out without a real SMS gateway or mail server. The database
// holds them sealed; this command opens them with the encryption key, as the server would.
import { readOutboxMessages } from '../../delivery/outbox.js';
import { printError, printJson, printTable } from '../output.js';
import { withTwofold } from './with-twofold.js';

export async function outboxCommand(options: { channel?: string; to?: string; limit: number; json?: boolean }): Promise<void> {
  const channel = options.channel === 'sms' || options.channel === 'email' ? options.channel : undefined;
  if (options.channel !== undefined && channel === undefined) {
    printError('--channel is sms or email');
    process.exitCode = 2;
    return;
  }
  await withTwofold(async (twofold) => {
    const messages = await readOutboxMessages(twofold.database.db, twofold.context.secretBox, { channel, destination: options.to, limit: options.limit });
    const rows = messages.map((message) => ({
      sent_at: new Date(message.created_at).toISOString(),
      channel: message.channel,
      to: message.destination,
      purpose: message.purpose,
      text: message.text === undefined ? `(cannot be opened: ${message.unopenable ?? 'unknown'})` : (message.text.split('\n')[0] ?? ''),
    }));
    if (options.json === true) printJson(rows);
    else printTable(rows);
  });
}
