// The import pipeline: every record a source reader yields becomes one Twofold user — the user
// row, their TOTP factors (sealed exactly as enrollment seals them) and a ledger row — all or
// nothing (AD-03): each person is written inside a savepoint of their own, rolled back whole if
// any of their rows fails. People are committed in batches (a few hundred, or a quarter second),
// because a commit per person would make the disk's sync the ceiling; a crash loses at most the
// open batch, and a re-run picks up where the ledger says. Records stream through one at a time,
// so memory stays flat whatever the file's size; report entries are handed out only once their
// batch is committed, so the report never claims a person the database does not have.
// Idempotent: a source id already in the ledger is skipped ("already_imported"), never updated —
// the person may have signed in since and changed their password or factors in Twofold.
// Concurrent runs of the same file (twice by mistake, or on two hosts against one database): on
// SQLite a batch takes the write lock before it reads (store/write-transaction.ts), so the runs
// take turns and each sees what the other committed; on PostgreSQL two runs writing the same
// person meet on the unique indexes (the ledger's key, the username) — the loser rolls back to the
// person's savepoint and writes them again, which then finds the ledger row (already_imported)
// or the username now taken (the next candidate). Either way each person is imported once (AD-28).
// Dry run: each person is written and rolled back to their savepoint, so the report is what a
// real run would do (taken usernames included) and nothing is written.
import { generateId } from '../../core/crypto/random.js';
import { normalizeEmail, normalizePhone } from '../../core/identity/contact.js';
import { normalizeUsername } from '../../core/identity/username.js';
import { totpAad } from '../../flows/factors/totp-factor.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { ControlledTransaction } from 'kysely';
import type { Database, Executor } from '../../store/database.js';
import { insertFactor } from '../../store/repositories/factors.js';
import { findImportedUser, insertImportedUser } from '../../store/repositories/imported-users.js';
import { findUserByUsername, insertUser } from '../../store/repositories/users.js';
import { isTransactionConflict, isUniqueViolation } from '../../store/connect.js';
import { startWriteTransaction } from '../../store/write-transaction.js';
import type { ImportCandidate, ImportSource, SkipReason, SourceRecord } from './import-record.js';

export interface ImportReportEntry {
  /** Line (CSV, NDJSON) or record number (SQLite rows, JSON array elements) in the source. */
  position: number;
  source_id: string | null;
  status: 'imported' | 'would_import' | 'skipped';
  reason?: SkipReason;
  detail?: string;
  user_id?: string;
  username?: string;
  totp_factors?: number;
}

export interface ImportSummary {
  source: ImportSource;
  dry_run: boolean;
  read: number;
  imported: number;
  skipped: number;
  skipped_by_reason: Partial<Record<SkipReason, number>>;
}

export interface ImportOptions {
  source: ImportSource;
  dryRun: boolean;
  /** Who ran the import, for the audit trail (e.g. "cli:alice"). */
  operator?: string;
  /** Told about every record, in order (the report writer, the progress bar). */
  onEntry?: (entry: ImportReportEntry) => void | Promise<void>;
}

/** A batch is committed after this many people or this long, whichever comes first. */
const batchMaxUsers = 500;
const batchMaxMs = 250;
/** A person lost to another run at most this often in a row before the error is the run's. */
const maxWriteAttempts = 3;

export async function importUsers(ctx: FlowContext, records: AsyncIterable<SourceRecord>, options: ImportOptions): Promise<ImportSummary> {
  const summary: ImportSummary = { source: options.source, dry_run: options.dryRun, read: 0, imported: 0, skipped: 0, skipped_by_reason: {} };
  let batch: ControlledTransaction<Database> | undefined;
  let batchStartedAt = 0;
  let savepoints = 0;
  let held: ImportReportEntry[] = [];
  const count = (entry: ImportReportEntry) => {
    summary.read += 1;
    if (entry.status === 'skipped') {
      summary.skipped += 1;
      summary.skipped_by_reason[entry.reason!] = (summary.skipped_by_reason[entry.reason!] ?? 0) + 1;
    } else summary.imported += 1;
  };
  const endBatch = async () => {
    if (batch !== undefined) {
      // A dry run ends every batch the way it ends every person: rolled back.
      await (options.dryRun ? batch.rollback() : batch.commit()).execute();
      batch = undefined;
    }
    const entries = held;
    held = [];
    // One audit event per person brought in, written with their batch: a million-user import
    // never queues a million events in memory.
    const imported = entries.filter((entry) => entry.status === 'imported');
    for (const entry of imported) {
      ctx.events.record({ type: 'user.imported', userId: entry.user_id, details: { source: options.source, source_id: entry.source_id, operator: options.operator ?? null } });
    }
    if (imported.length > 0) await ctx.auditTrail.flush();
    for (const entry of entries) {
      count(entry);
      await options.onEntry?.(entry);
    }
  };
  try {
    for await (const record of records) {
      if (record.kind === 'skip') {
        held.push(skipEntry(record.position, record.sourceId, record.reason, record.detail));
      } else {
        const checked = checkCandidate(record.position, record.candidate);
        if ('status' in checked) held.push(checked);
        else {
          if (batch === undefined) {
            batch = await startWriteTransaction(ctx.db);
            batchStartedAt = Date.now();
          }
          const name = `import_${(savepoints += 1)}`;
          const person = await batch.savepoint(name).execute();
          let entry: ImportReportEntry | undefined;
          for (let attempt = 1; entry === undefined; attempt += 1) {
            try {
              entry = await writeUser(ctx, person, record.position, record.candidate, checked, options.source);
            } catch (error) {
              // This person's rows go; the people before them in the batch are kept (endBatch below).
              await person.rollbackToSavepoint(name).execute();
              // Another run wrote this person (or took their username) first: write them again.
              if (attempt >= maxWriteAttempts || !(isUniqueViolation(error) || isTransactionConflict(error))) throw error;
            }
          }
          if (options.dryRun && entry.status === 'imported') {
            await person.rollbackToSavepoint(name).execute();
            entry = { ...entry, status: 'would_import' };
          } else await person.releaseSavepoint(name).execute();
          held.push(entry);
        }
      }
      if (held.length >= batchMaxUsers || (batch !== undefined && Date.now() - batchStartedAt >= batchMaxMs)) await endBatch();
    }
  } finally {
    // Also when reading stops on an error: what was written before it is committed and reported.
    await endBatch();
  }
  return summary;
}

function skipEntry(position: number, sourceId: string | null, reason: SkipReason, detail: string): ImportReportEntry {
  return { position, source_id: sourceId, status: 'skipped', reason, detail };
}

interface CheckedContact {
  email: string | null;
  phone: string | null;
  usernames: string[];
}

/** The checks that need no database: a refusal here costs no transaction. */
function checkCandidate(position: number, candidate: ImportCandidate): CheckedContact | ImportReportEntry {
  const email = candidate.email === null ? null : normalizeEmail(candidate.email);
  if (email === undefined) return skipEntry(position, candidate.sourceId, 'invalid_email', 'the e-mail address is not one Twofold accepts');
  // A phone Twofold cannot use (not E.164) is left out rather than costing the person their account.
  const phone = candidate.phone === null ? null : (normalizePhone(candidate.phone) ?? null);
  const usernames = [...new Set(candidate.usernames.map(normalizeUsername).flatMap((check) => (check.ok ? [check.username] : [])))];
  if (usernames.length === 0) return skipEntry(position, candidate.sourceId, 'invalid_username', 'neither the source username nor the e-mail address makes a valid Twofold username');
  return { email, phone, usernames };
}

async function writeUser(
  ctx: FlowContext,
  trx: Executor,
  position: number,
  candidate: ImportCandidate,
  contact: CheckedContact,
  source: ImportSource,
): Promise<ImportReportEntry> {
  const existing = await findImportedUser(trx, source, candidate.sourceId);
  if (existing !== undefined) return { ...skipEntry(position, candidate.sourceId, 'already_imported', 'this source user was imported before'), user_id: existing.user_id };
  let username: string | undefined;
  for (const name of contact.usernames) {
    if ((await findUserByUsername(trx, name)) === undefined) {
      username = name;
      break;
    }
  }
  if (username === undefined) return skipEntry(position, candidate.sourceId, 'username_taken', `every username tried is taken (${contact.usernames.join(', ')})`);
  const now = ctx.now();
  const userId = generateId('usr');
  await insertUser(trx, {
    id: userId,
    username,
    email: contact.email,
    phone: contact.phone,
    password_hash: candidate.passwordHash!,
    created_at: candidate.createdAt ?? now,
    updated_at: now,
    disabled_at: candidate.disabled ? now : null,
    credentials_changed_at: now,
    email_verified_at: candidate.emailVerified && contact.email !== null ? now : null,
  });
  for (const [index, secret] of candidate.totpSecrets.entries()) {
    const factorId = generateId('fac');
    await insertFactor(trx, {
      id: factorId,
      user_id: userId,
      type: 'totp',
      label: candidate.totpSecrets.length > 1 ? `Imported authenticator ${index + 1}` : 'Imported authenticator',
      status: 'active',
      // Sealed as enrollment seals a TOTP secret (totp-factor.ts): AAD binds it to this factor and user.
      secret_ciphertext: ctx.secretBox.seal(secret, totpAad(factorId, userId)),
      created_at: now,
      activated_at: now,
      last_used_at: null,
      session_id: null,
    });
  }
  await insertImportedUser(trx, { source, source_id: candidate.sourceId, user_id: userId, imported_at: now });
  return { position, source_id: candidate.sourceId, status: 'imported', user_id: userId, username, totp_factors: candidate.totpSecrets.length };
}
