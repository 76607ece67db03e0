// The answer a refresh-token rotation gave, kept sealed on the rotated token's row for the reuse
// grace only (TWOFOLD_REFRESH_REUSE_GRACE_SECONDS): presenting that token again within the grace —
// its answer was lost, or two page loads raced — returns the same pair instead of revoking the
// family. The column is a secretbox envelope (never a token in clear), wiped when the grace ends
// and when the family is revoked. The partial index holds only the rows still carrying an answer,
// so the sweep that wipes expired ones reads nothing else.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('refresh_tokens').addColumn('grace_answer_ciphertext', 'text').execute();
  await db.schema.createIndex('refresh_tokens_grace_answer').on('refresh_tokens').column('used_at').where(sql.ref('grace_answer_ciphertext'), 'is not', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('refresh_tokens_grace_answer').execute();
  await db.schema.alterTable('refresh_tokens').dropColumn('grace_answer_ciphertext').execute();
}
