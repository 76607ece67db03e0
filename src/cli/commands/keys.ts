// `twofold keys list|rotate`: the signing keys in the database.
import { listSigningKeys } from '../../store/repositories/signing-keys.js';
import { printJson, printLines, printTable } from '../output.js';
import { rotateSigningKey } from '../../flows/keys/rotate-signing-key.js';
import { withTwofold } from './with-twofold.js';

export async function listKeysCommand(options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const current = await twofold.context.keys.currentKey();
    const published = new Set((await twofold.context.keys.publishedKeys()).map((key) => key.kid));
    const rows = (await listSigningKeys(twofold.database.db)).map((row) => ({
      kid: row.kid,
      alg: row.alg,
      state: row.kid === current.kid ? 'current' : published.has(row.kid) ? 'retired (still published)' : 'retired',
      created_at: new Date(row.created_at).toISOString(),
      retired_at: row.retired_at === null ? null : new Date(row.retired_at).toISOString(),
    }));
    if (options.json === true) printJson(rows);
    else printTable(rows);
  });
}

export async function rotateKeysCommand(options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const { previous, current: next } = await rotateSigningKey(twofold.context);
    if (options.json === true) printJson({ previous_kid: previous.kid, kid: next.kid, alg: next.alg });
    else
      printLines(
        `new signing key ${next.kid} (${next.alg}) is current; ${previous.kid} stays in the JWKS until the tokens it signed expire.`,
        twofold.kv.kind === 'redis' ? 'Running servers were told through Redis.' : 'Running servers pick it up within a minute.',
      );
  });
}
