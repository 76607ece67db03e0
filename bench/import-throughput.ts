// `twofold import` throughput: users per second through the whole pipeline (stream the file,
// parse, check the hash and its caps, seal TOTP secrets, one transaction per user with the ledger
// row) on a generated Twofold CSV of N users — half bcrypt (cost 10), half Better Auth-style
// scrypt, every other one with a TOTP secret. Hashes are NOT computed at import (only read and
// capped), so a few hundred real hashes are made once and reused across the rows. Baseline: the
// same number of bare user rows committed one transaction each on the same database — what an
// import committing person by person would be held to; the pipeline's batches of per-person
// savepoints must beat it while doing far more per person.
import { randomBytes, scryptSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { Secret } from 'otpauth';
import { importUsers } from '../src/admin/import/import-users.js';
import { readSourceRecords } from '../src/admin/import/read-source.js';
import { loadConfig } from '../src/config/load.js';
import { formatScryptHash } from '../src/core/password/imported/imported-hash.js';
import { createTwofold } from '../src/twofold.js';
import { createPostgresSchema, makeTempDir } from '../test/helpers/backend.js';
import { testEnvironment } from '../test/helpers/twofold.js';

export interface ImportThroughput {
  importedPerSecond: number;
  bareInsertsPerSecond: number;
}

const distinctHashes = 200;

export async function writeGeneratedUsers(file: string, users: number): Promise<void> {
  const bcrypts = await Promise.all(Array.from({ length: distinctHashes / 2 }, (_, index) => bcryptHash(`generated password ${index}`, 10)));
  const scrypts = Array.from({ length: distinctHashes / 2 }, (_, index) => {
    const salt = Buffer.from(randomBytes(16).toString('hex'), 'utf8');
    return formatScryptHash({ n: 16384, r: 16, p: 1 }, salt, scryptSync(`generated password ${index}`, salt, 64, { N: 16384, r: 16, p: 1, maxmem: 64 * 1024 * 1024 }));
  });
  const secrets = Array.from({ length: 50 }, () => new Secret({ size: 20 }).base32);
  const out = createWriteStream(file);
  out.write('id,username,email,email_verified,password_hash,totp_secret\n');
  for (let index = 0; index < users; index += 1) {
    const hash = index % 2 === 0 ? bcrypts[(index / 2) % bcrypts.length]! : scrypts[((index - 1) / 2) % scrypts.length]!;
    const totp = index % 4 < 2 ? secrets[index % secrets.length]! : '';
    // PHC strings hold commas (n=…,r=…): quoted, as any CSV writer quotes them.
    if (!out.write(`src-${index},user${index},user${index}@example.com,true,"${hash}",${totp}\n`)) await once(out, 'drain');
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

export async function measureImportThroughput(options: { users: number; backend: 'sqlite' | 'postgres'; log(message: string): void }): Promise<ImportThroughput> {
  const dir = makeTempDir('twofold-bench-import-');
  const schema = options.backend === 'postgres' ? await createPostgresSchema() : undefined;
  try {
    const file = join(dir.path, 'users.csv');
    options.log(`  import: writing ${options.users.toLocaleString('en')} generated users…`);
    await writeGeneratedUsers(file, options.users);
    const env: Record<string, string> = schema === undefined ? {} : { TWOFOLD_DATABASE_URL: schema.url, TWOFOLD_DATABASE_SCHEMA: schema.schema };
    const twofold = await createTwofold(loadConfig(testEnvironment(dir.path, env)), { maintenance: false, singleInstance: false });
    try {
      const ctx = twofold.context;
      options.log(`  import: ${options.backend}, bare user inserts (one transaction each)…`);
      const bareStart = performance.now();
      for (let index = 0; index < options.users; index += 1) {
        await ctx.db.transaction().execute((trx) => trx.insertInto('users').values({ id: `usr_bare_${index}`, username: `bare${index}`, email: null, phone: null, password_hash: 'x', created_at: 0, updated_at: 0 }).execute());
      }
      const bareSeconds = (performance.now() - bareStart) / 1000;
      options.log(`  import: ${options.backend}, twofold import of the file…`);
      const importStart = performance.now();
      const summary = await importUsers(ctx, readSourceRecords('csv', file, { now: ctx.now() }), { source: 'csv', dryRun: false });
      const importSeconds = (performance.now() - importStart) / 1000;
      if (summary.imported !== options.users) throw new Error(`imported ${summary.imported} of ${options.users}: ${JSON.stringify(summary.skipped_by_reason)}`);
      return { importedPerSecond: options.users / importSeconds, bareInsertsPerSecond: options.users / bareSeconds };
    } finally {
      await twofold.close();
    }
  } finally {
    await schema?.dispose();
    dir.dispose();
  }
}
