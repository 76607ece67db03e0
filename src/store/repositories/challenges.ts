// Challenges a second factor answers: a code sent by SMS or e-mail, or a WebAuthn challenge.
// Each is bound to one factor and one session, expires, is superseded by a resend, allows a few
// attempts (spent before evaluation, like the mfa_token's), and is consumed exactly once.
import type { Insertable } from 'kysely';
import type { ChallengeRow, ChallengesTable, Executor } from '../database.js';

/** Stores a new challenge and retires the open ones for the same factor and session. */
export async function insertChallenge(db: Executor, challenge: Insertable<ChallengesTable>): Promise<void> {
  await db
    .updateTable('challenges')
    .set({ superseded_at: challenge.created_at })
    .where('factor_id', '=', challenge.factor_id)
    .where('session_id', '=', challenge.session_id)
    .where('used_at', 'is', null)
    .where('superseded_at', 'is', null)
    .execute();
  await db.insertInto('challenges').values(challenge).execute();
}

export function findChallenge(db: Executor, challengeId: string): Promise<ChallengeRow | undefined> {
  return db.selectFrom('challenges').selectAll().where('id', '=', challengeId).executeTakeFirst();
}

/** The newest open challenge of a factor in a session (the one a confirmation answers). */
/** The newest open challenge of a factor in a session: along challenges_factor_session_created, no sort. */
export function openChallengeQuery(db: Executor, factorId: string, sessionId: string, now: number) {
  return db
    .selectFrom('challenges')
    .selectAll()
    .where('factor_id', '=', factorId)
    .where('session_id', '=', sessionId)
    .where('used_at', 'is', null)
    .where('superseded_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc');
}

export function findOpenChallenge(db: Executor, factorId: string, sessionId: string, now: number): Promise<ChallengeRow | undefined> {
  return openChallengeQuery(db, factorId, sessionId, now).executeTakeFirst();
}

/** Spends one attempt of an open challenge; undefined when it is used, superseded, expired or exhausted. */
export async function spendChallengeAttempt(db: Executor, challengeId: string, maxAttempts: number, now: number): Promise<number | undefined> {
  const row = await db
    .updateTable('challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', challengeId)
    .where('used_at', 'is', null)
    .where('superseded_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', maxAttempts)
    .returning('attempts')
    .executeTakeFirst();
  return row?.attempts;
}

/** Consumes an open challenge: true for exactly one caller. */
export async function consumeChallenge(db: Executor, challengeId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('challenges')
    .set({ used_at: now })
    .where('id', '=', challengeId)
    .where('used_at', 'is', null)
    .where('superseded_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
