// `twofold import --from <source> FILE`: brings the users of another system in (src/admin/import).
// For Better Auth on PostgreSQL or MySQL, FILE is the database's URL.
// The report goes to --report (JSON lines, or CSV for a *.csv name), the summary to stdout; a
// progress line is drawn on stderr when it is a terminal (and not --quiet). Better Auth's secret,
// and the decryption keys of a Supabase project that encrypts its TOTP secrets, are read from the
// environment variable --secret-env names (BETTER_AUTH_SECRET, or GoTrue's own
// GOTRUE_SECURITY_DB_ENCRYPTION_DECRYPTION_KEYS, by default): a secret on the command line would
// sit in the shell history and the process list. Neither is ever printed.
import { existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { readImportSecret } from '../../config/load.js';
import { TwofoldError } from '../../errors.js';
import { openImportReport, type ImportReportWriter } from '../../admin/import/import-report.js';
import { importSources, type ImportSource } from '../../admin/import/import-record.js';
import { importUsers, type ImportReportEntry } from '../../admin/import/import-users.js';
import { JsonShapeError } from '../../admin/import/json-array-elements.js';
import { readSourceRecords } from '../../admin/import/read-source.js';
import { countBetterAuthUsers } from '../../admin/import/sources/better-auth.js';
import { countBetterAuthDatabaseUsers } from '../../admin/import/sources/better-auth-database.js';
import { betterAuthDatabase } from '../../admin/import/sources/better-auth-databases.js';
import { parseSupabaseDecryptionKeys, SupabaseKeysError, supabaseKeysVariable, type SupabaseDecryptionKeys } from '../../admin/import/sources/supabase-encryption.js';
import { printJson, printLines } from '../output.js';
import { createProgressLine } from '../progress-line.js';
import { withTwofold } from './with-twofold.js';

export interface ImportCommandOptions {
  from: string;
  dryRun?: boolean;
  report?: string;
  quiet?: boolean;
  json?: boolean;
  /** The environment variable holding the source's secret; by default the source's own name for it. */
  secretEnv?: string;
}

const defaultSecretVariables: Partial<Record<ImportSource, string>> = { 'better-auth': 'BETTER_AUTH_SECRET', supabase: supabaseKeysVariable };

export async function importCommand(file: string, options: ImportCommandOptions): Promise<void> {
  const source = importSources.find((name) => name === options.from);
  if (source === undefined) throw new TwofoldError('invalid_request', `--from must be one of ${importSources.join(', ')}.`);
  // Better Auth on PostgreSQL or MySQL is read from its database: FILE is then the database's URL.
  const mysqlPassword = readImportSecret('MYSQL_PWD');
  const database = source === 'better-auth' ? betterAuthDatabase(file, { mysqlPassword }) : undefined;
  if (database === undefined && (!existsSync(file) || !statSync(file).isFile())) throw new TwofoldError('invalid_request', `${/^[a-z]+:\/\//i.test(file) ? 'only --from better-auth reads a database URL; this' : file} is not a file.`);
  const totalBytes = database === undefined ? statSync(file).size : 0;
  const secretVariable = options.secretEnv ?? defaultSecretVariables[source];
  const secret = secretVariable === undefined ? undefined : readImportSecret(secretVariable);
  const supabaseKeys = source === 'supabase' && secret !== undefined ? supabaseKeysFrom(secret, secretVariable!) : undefined;
  const progress = createProgressLine({ enabled: options.quiet !== true && process.stderr.isTTY === true, stream: process.stderr });
  let report: ImportReportWriter | undefined;
  try {
    const totalRecords = source !== 'better-auth' ? undefined : await openedOrRefused(database !== undefined, () => (database === undefined ? countBetterAuthUsers(file) : countBetterAuthDatabaseUsers(database)));
    report = options.report === undefined ? undefined : openImportReport(options.report);
    const summary = await withTwofold(async (twofold) => {
      let bytesRead = 0;
      let recordsRead = 0;
      const onEntry = async (entry: ImportReportEntry) => {
        recordsRead += 1;
        await report?.write(entry);
        progress.update(totalRecords === undefined ? { done: bytesRead, total: totalBytes, unit: 'bytes', records: recordsRead } : { done: recordsRead, total: totalRecords, unit: 'users', records: recordsRead });
      };
      const records = readSourceRecords(source, file, {
        betterAuthSecret: source === 'better-auth' ? secret : undefined,
        mysqlPassword,
        supabaseDecryptionKeys: supabaseKeys,
        supabaseKeysVariable: secretVariable,
        now: twofold.context.now(),
        onBytesRead: (bytes) => (bytesRead = bytes),
      });
      return importUsers(twofold.context, records, { source, dryRun: options.dryRun === true, operator: `cli:${userInfo().username}`, onEntry });
    }).catch((error: unknown) => {
      if (error instanceof JsonShapeError) throw new TwofoldError('invalid_request', `${file}: ${error.message}; records before this point were processed.`);
      throw error;
    });
    progress.done();
    if (options.json === true) printJson(summary);
    else {
      const verb = summary.dry_run ? 'would import' : 'imported';
      const reasons = Object.entries(summary.skipped_by_reason).map(([reason, count]) => `  ${reason}: ${count}`);
      printLines(`${summary.dry_run ? 'dry run (nothing written): ' : ''}read ${summary.read}, ${verb} ${summary.imported}, skipped ${summary.skipped}`, ...reasons);
    }
  } finally {
    progress.done();
    await report?.close();
  }
}

/** A malformed value is refused before anything is read, naming the variable and never the key. */
function supabaseKeysFrom(value: string, variable: string): SupabaseDecryptionKeys {
  try {
    return parseSupabaseDecryptionKeys(value);
  } catch (error) {
    if (error instanceof SupabaseKeysError) throw new TwofoldError('invalid_request', `${variable} is not GoTrue's "<key id>:<base64url key>[,…]": ${error.message}.`);
    throw error;
  }
}

async function openedOrRefused<T>(database: boolean, open: () => T | Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    // The drivers' messages name neither the URL nor its password.
    const what = database ? 'the URL does not reach a Better Auth database' : 'the file is not a Better Auth SQLite database';
    throw new TwofoldError('invalid_request', `${what} (${error instanceof Error ? error.message : String(error)}).`);
  }
}
