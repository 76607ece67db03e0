// The refresh reuse grace (RFC 9700 §4.14.2). Rotation makes every refresh token single-use, so an
// answer lost on its way back (a dropped connection, a timeout) or two page loads refreshing at
// once present a spent token again — which reads as theft and revokes the family. For
// TWOFOLD_REFRESH_REUSE_GRACE_SECONDS after a rotation, presenting the rotated token again returns
// the answer that rotation gave: the same refresh token and the same access token. A replay never
// mints anything, so however many there are, the family has one live child.
//
// The rule, for a refresh token P presented at `now`, rotated at P.used_at into the child C:
//   the same answer  iff  grace > 0, now < P.used_at + grace, P is not revoked, C has never been
//                         presented (unused, not revoked), and P's sealed answer is there and opens;
//   otherwise             the family is revoked (reuse), exactly as without a grace.
// An older token (a grandparent: its child P is used) and any replay after C was used therefore
// revoke at once, whenever they come, and a replay never extends the grace (used_at stays put).
// What the grace gives away is what RFC 9700 accepts: someone holding P within those seconds gets
// the same pair as its owner; from then on the two hold one token, and the second to use it trips
// reuse detection.
//
// Sealed, not derived: to answer again without keeping a refresh token in clear, C could also be
// derived from P and a server secret — but then that secret and any old token of the family would
// compute every later token for as long as the session lives, silently. Instead the answer is
// sealed (AES-256-GCM secretbox, AAD bound to P's row and session) in the compare-and-set that
// spends P, and wiped by a sweep within a second of the grace's end, or with the family when it is
// revoked. A database copy never holds a token in clear, and holds no answer (sealed or not) past
// its grace.
//
// DPoP: the answer records the key its access token was bound to (none for a bearer pair), and is
// given again only to a request proving that same key — never a bound pair to another key or to
// none (that request is refused as invalid_dpop_proof, and the family is left as it was).
import { sha256Base64url } from '../../core/crypto/digest.js';
import { SecretBoxError, secretBoxAad, type SecretBox } from '../../core/crypto/secretbox.js';
import type { RefreshTokenRow } from '../../store/database.js';
import { findRefreshTokenByHash, findRefreshTokenUse, wipeGraceAnswersUsedBefore } from '../../store/repositories/refresh-tokens.js';
import type { FlowContext } from '../shared/context.js';
import { tokenTypeFor, type TokenResponse } from './tokens.js';

/** What a rotation answered, as sealed on the rotated token's row. */
export interface GraceAnswer {
  accessToken: string;
  refreshToken: string;
  /** The access token's `exp`: a replay reports the time it has left, not a fresh lifetime. */
  accessExpiresAtSeconds: number;
  /** DPoP: the thumbprint of the key the access token is bound to; absent for a bearer pair. */
  dpopJkt?: string;
}

export type PresentedAgain =
  | { kind: 'same_answer'; response: TokenResponse; msSinceRotation: number }
  | { kind: 'reuse'; msSinceRotation: number | undefined }
  /** Within the grace, but the request proves another key (or none) than the answer is bound to. */
  | { kind: 'other_key' };

type TokenIds = Pick<RefreshTokenRow, 'id' | 'session_id'>;

export function graceAnswerAad(token: TokenIds): string {
  return secretBoxAad('refresh_grace', token.id, token.session_id);
}

export function sealGraceAnswer(secretBox: SecretBox, token: TokenIds, answer: GraceAnswer): string {
  return secretBox.seal(JSON.stringify(answer), graceAnswerAad(token));
}

export function graceMilliseconds(ctx: Pick<FlowContext, 'config'>): number {
  return ctx.config.tokens.refreshReuseGraceSeconds * 1000;
}

/**
 * A token presented after its compare-and-set was lost (or after it was found used): the rotation's
 * answer again, or reuse. Reads the token's row afresh — the winning rotation has committed by now
 * (its compare-and-set is what made ours fail), and it wrote the answer in the same statement.
 */
export async function answerPresentedAgain(ctx: FlowContext, token: TokenIds, now: number, dpopJkt?: string): Promise<PresentedAgain> {
  const graceMs = graceMilliseconds(ctx);
  const use = await findRefreshTokenUse(ctx.db, token.id);
  // A request that lost the race may have read its clock before the winner did: never below 0.
  const msSinceRotation = use === undefined || use.used_at === null ? undefined : Math.max(0, now - use.used_at);
  const reuse = { kind: 'reuse', msSinceRotation } as const;
  if (graceMs === 0 || use === undefined || use.used_at === null || use.revoked_at !== null || use.grace_answer_ciphertext === null) return reuse;
  // Strictly before the end: at used_at + grace the token is spent like any other.
  if (now >= use.used_at + graceMs) return reuse;
  let answer: GraceAnswer;
  try {
    answer = JSON.parse(ctx.secretBox.open(use.grace_answer_ciphertext, graceAnswerAad(token))) as GraceAnswer;
  } catch (error) {
    // Moved from another row, tampered with, or sealed under a key no longer configured: no answer
    // can be trusted, so it is reuse — the safe side.
    if (!(error instanceof SecretBoxError)) throw error;
    ctx.diagnostics.warn({ tokenId: token.id, reason: error.message }, 'a refresh grace answer would not open; treated as reuse');
    return reuse;
  }
  // The child must never have been presented: once it has, whoever holds the parent is not the one
  // carrying the family on.
  const child = await findRefreshTokenByHash(ctx.db, sha256Base64url(answer.refreshToken));
  if (child === undefined || child.used_at !== null || child.revoked_at !== null) return reuse;
  if (answer.dpopJkt !== dpopJkt) return { kind: 'other_key' };
  return {
    kind: 'same_answer',
    msSinceRotation: Math.max(0, now - use.used_at),
    response: {
      access_token: answer.accessToken,
      token_type: tokenTypeFor(answer.dpopJkt),
      expires_in: Math.max(0, answer.accessExpiresAtSeconds - Math.floor(now / 1000)),
      refresh_token: answer.refreshToken,
    },
  };
}

/** Wipes the answers whose grace has ended; returns how many. */
export function wipeExpiredGraceAnswers(ctx: Pick<FlowContext, 'db' | 'now' | 'config'>): Promise<number> {
  return wipeGraceAnswersUsedBefore(ctx.db, ctx.now() - graceMilliseconds(ctx));
}

export interface GraceAnswerSweeper {
  /** Stops the timer and waits for a sweep in progress (before the database closes). */
  stop(): Promise<void>;
}

/**
 * Sweeps once now and then every `intervalMs`, so no answer outlives its grace by more than that —
 * also with the grace turned off since (answers sealed before are wiped at start-up). A sweep that
 * finds nothing is one read of an index holding only answers of the last seconds.
 */
export function startGraceAnswerSweeper(ctx: Pick<FlowContext, 'db' | 'now' | 'config' | 'diagnostics'>, intervalMs = 1000): GraceAnswerSweeper {
  let running: Promise<void> | undefined;
  let failing = false;
  let stopped = false;
  const sweep = () => {
    // One sweep at a time: a slow database must not pile them up.
    if (running !== undefined || stopped) return;
    running = wipeExpiredGraceAnswers(ctx)
      .then(
        () => {
          failing = false;
        },
        (error: unknown) => {
          // Once per outage, not once a second: the next successful sweep catches up.
          if (!failing && !stopped) ctx.diagnostics.warn({ err: error }, 'could not wipe expired refresh grace answers; retrying every second');
          failing = true;
        },
      )
      .finally(() => {
        running = undefined;
      });
  };
  sweep();
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
