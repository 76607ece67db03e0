// The store's guarantees, tested on the real database: every compare-and-set that the flow's
// single-use rules rest on succeeds exactly once under concurrency, and transactions are atomic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateId } from '../../src/core/crypto/random.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { activateFactor, claimTotpStep, deleteFactor, findFactor, insertFactor } from '../../src/store/repositories/factors.js';
import { consumeRecoveryCode, countUnusedRecoveryCodes, replaceRecoveryCodes } from '../../src/store/repositories/recovery-codes.js';
import { findRefreshTokenByHash, findRefreshTokenUse, insertRefreshToken, markRefreshTokenUsed, wipeGraceAnswersUsedBefore } from '../../src/store/repositories/refresh-tokens.js';
import { findServerSecret, insertServerSecretIfAbsent } from '../../src/store/repositories/server-secrets.js';
import { activateSession, cancelPendingSession, findSession, insertSession, revokeSessions, spendMfaAttempt } from '../../src/store/repositories/sessions.js';
import { findUserById, incrementFailedAttempts, insertUser, stampCredentialsChange } from '../../src/store/repositories/users.js';
import { consumeChallenge, findOpenChallenge, insertChallenge, spendChallengeAttempt } from '../../src/store/repositories/challenges.js';
import { advanceSignCount, findWebauthnCredentialById, lockWebauthnCredential, insertWebauthnCredential } from '../../src/store/repositories/webauthn-credentials.js';
import { isUniqueViolation } from '../../src/store/connect.js';
import { databaseFactories, type TestDatabase } from './databases.js';

const now = Date.UTC(2026, 10, 29, 12);

describe.each(databaseFactories)('store on $name', (factory) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await factory.open();
  });
  afterAll(async () => database.close());

  async function newUser(): Promise<string> {
    const id = generateId('usr');
    await insertUser(database.db, { id, username: id.toLowerCase(), email: null, phone: null, password_hash: 'x', created_at: now, updated_at: now, disabled_at: null });
    return id;
  }

  async function newPendingSession(userId: string, jti = generateId('jti')): Promise<{ id: string; jti: string }> {
    const id = generateId('ses');
    await insertSession(database.db, {
      id,
      user_id: userId,
      state: 'pending',
      mfa_jti: jti,
      amr: '["pwd"]',
      acr: 'aal1',
      auth_time: null,
      client_id: 'twofold',
      ip: null,
      user_agent: null,
      created_at: now,
      expires_at: now + 300_000,
      last_active_at: now,
      revoked_at: null,
      revoke_reason: null,
    });
    return { id, jti };
  }

  async function newFactor(userId: string, status: 'pending' | 'active'): Promise<string> {
    const id = generateId('fac');
    await insertFactor(database.db, { id, user_id: userId, type: 'totp', label: null, status, secret_ciphertext: 'v1.x.y.z.w', created_at: now, activated_at: null, last_used_at: null });
    return id;
  }

  it('migrating again applies nothing', async () => {
    expect((await migrateToLatest(database.db)).applied).toEqual([]);
  });

  it('OT-04: claimTotpStep() accepts only steps later than the last one', async () => {
    const factorId = await newFactor(await newUser(), 'active');
    expect(await claimTotpStep(database.db, factorId, 100, now)).toBe(true);
    expect(await claimTotpStep(database.db, factorId, 100, now)).toBe(false);
    expect(await claimTotpStep(database.db, factorId, 99, now)).toBe(false);
    expect(await claimTotpStep(database.db, factorId, 101, now)).toBe(true);
  });

  it('OT-04: claimTotpStep() raced 30 times for one step succeeds once', async () => {
    const factorId = await newFactor(await newUser(), 'active');
    const results = await Promise.all(Array.from({ length: 30 }, () => claimTotpStep(database.db, factorId, 500, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('activateFactor() activates a pending factor once and claims its step', async () => {
    const factorId = await newFactor(await newUser(), 'pending');
    const results = await Promise.all(Array.from({ length: 10 }, () => activateFactor(database.db, factorId, 42, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await claimTotpStep(database.db, factorId, 42, now)).toBe(false);
  });

  it('MG-05: deleteFactor() removes a factor only in the status the caller checked: a pending one activated meanwhile stays', async () => {
    const factorId = await newFactor(await newUser(), 'pending');
    expect(await activateFactor(database.db, factorId, 7, now)).toBe(true);
    expect(await deleteFactor(database.db, factorId, 'pending')).toBe(false);
    expect((await findFactor(database.db, factorId))?.status).toBe('active');
    expect(await deleteFactor(database.db, factorId, 'active')).toBe(true);
  });

  it('RC-03: stampCredentialsChange() always moves forward — several changes in one millisecond, a clock behind, 20 at once', async () => {
    const userId = await newUser();
    const first = await stampCredentialsChange(database.db, userId, now);
    expect(first).toBe(now);
    const second = await stampCredentialsChange(database.db, userId, now);
    expect(second).toBeGreaterThan(first);
    // An instance whose clock is behind still moves it forward.
    expect(await stampCredentialsChange(database.db, userId, now - 60_000)).toBeGreaterThan(second);
    const raced = await Promise.all(Array.from({ length: 20 }, () => stampCredentialsChange(database.db, userId, now)));
    expect(new Set(raced).size).toBe(20);
    expect((await findUserById(database.db, userId))?.credentials_changed_at).toBe(Math.max(...raced));
  });

  it('FL-05: spendMfaAttempt() hands out at most maxAttempts attempts under 200 parallel calls', async () => {
    const session = await newPendingSession(await newUser());
    const attempts = await Promise.all(Array.from({ length: 200 }, () => spendMfaAttempt(database.db, { sessionId: session.id, jti: session.jti, maxAttempts: 5, now })));
    expect(attempts.filter((attempt) => attempt !== undefined).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('spendMfaAttempt() refuses an expired session and a different jti', async () => {
    const session = await newPendingSession(await newUser());
    expect(await spendMfaAttempt(database.db, { sessionId: session.id, jti: 'jti_other', maxAttempts: 5, now })).toBeUndefined();
    expect(await spendMfaAttempt(database.db, { sessionId: session.id, jti: session.jti, maxAttempts: 5, now: now + 300_000 })).toBeUndefined();
  });

  it('FL-03: activateSession() completes a pending session exactly once under 20 parallel calls', async () => {
    const session = await newPendingSession(await newUser());
    const input = { sessionId: session.id, jti: session.jti, amr: ['pwd', 'otp', 'mfa'], authTime: now, expiresAt: now + 1000 };
    const results = await Promise.all(Array.from({ length: 20 }, () => activateSession(database.db, input)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await findSession(database.db, session.id)).toMatchObject({ state: 'active', mfa_jti: null, acr: 'aal2', auth_time: now });
  });

  it('cancelPendingSession() never ends a session that a concurrent request has just completed', async () => {
    const pending = await newPendingSession(await newUser());
    expect(await cancelPendingSession(database.db, pending.id, 'too_many_attempts', now)).toBe(true);
    const completed = await newPendingSession(await newUser());
    await activateSession(database.db, { sessionId: completed.id, jti: completed.jti, amr: ['pwd', 'otp', 'mfa'], authTime: now, expiresAt: now + 1000 });
    expect(await cancelPendingSession(database.db, completed.id, 'too_many_attempts', now)).toBe(false);
    expect(await findSession(database.db, completed.id)).toMatchObject({ state: 'active' });
  });

  it('RC-02: consumeRecoveryCode() raced 30 times succeeds once', async () => {
    const userId = await newUser();
    await replaceRecoveryCodes(database.db, userId, [{ id: generateId('rc'), codeHash: `hash-${userId}` }], now);
    const results = await Promise.all(Array.from({ length: 30 }, () => consumeRecoveryCode(database.db, userId, `hash-${userId}`, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await countUnusedRecoveryCodes(database.db, userId)).toBe(0);
  });

  it('replaceRecoveryCodes() kills the old codes', async () => {
    const userId = await newUser();
    await replaceRecoveryCodes(database.db, userId, [{ id: generateId('rc'), codeHash: `old-${userId}` }], now);
    await replaceRecoveryCodes(database.db, userId, [{ id: generateId('rc'), codeHash: `new-${userId}` }], now);
    expect(await consumeRecoveryCode(database.db, userId, `old-${userId}`, now)).toBe(false);
    expect(await consumeRecoveryCode(database.db, userId, `new-${userId}`, now)).toBe(true);
  });

  it('SS-02: markRefreshTokenUsed() raced 20 times succeeds once; revokeSessions() revokes the family', async () => {
    const userId = await newUser();
    const session = await newPendingSession(userId);
    const tokenId = generateId('rt');
    await insertRefreshToken(database.db, { id: tokenId, session_id: session.id, token_hash: `rt-${tokenId}`, parent_id: null, created_at: now, expires_at: now + 1000, used_at: null, revoked_at: null });
    const results = await Promise.all(Array.from({ length: 20 }, () => markRefreshTokenUsed(database.db, tokenId, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await revokeSessions(database.db, [session.id], 'test', now);
    expect(await findRefreshTokenByHash(database.db, `rt-${tokenId}`)).toMatchObject({ revoked_at: now });
    expect(await findSession(database.db, session.id)).toMatchObject({ state: 'revoked', revoke_reason: 'test' });
  });

  it('SS-02: markRefreshTokenUsed() raced 20 times with 20 different answers keeps exactly the winner\'s; the sweep and revokeSessions() wipe answers', async () => {
    const userId = await newUser();
    const session = await newPendingSession(userId);
    const newToken = async (usedAt: number | null = null, answer: string | null = null) => {
      const id = generateId('rt');
      await insertRefreshToken(database.db, { id, session_id: session.id, token_hash: `rt-${id}`, parent_id: null, created_at: now, expires_at: now + 100_000, used_at: usedAt, revoked_at: null, grace_answer_ciphertext: answer });
      return id;
    };
    const raced = await newToken();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => markRefreshTokenUsed(database.db, raced, now, `answer-${i}`)));
    expect(results.filter(Boolean)).toHaveLength(1);
    // Whoever sees the token used sees the answer of the one that used it.
    expect(await findRefreshTokenUse(database.db, raced)).toEqual({ used_at: now, revoked_at: null, grace_answer_ciphertext: `answer-${results.indexOf(true)}` });

    const ended = await newToken(now - 10_000, 'ended');
    const inside = await newToken(now - 9_999, 'inside');
    expect(await wipeGraceAnswersUsedBefore(database.db, now - 10_000)).toBeGreaterThanOrEqual(1);
    expect((await findRefreshTokenUse(database.db, ended))?.grace_answer_ciphertext).toBeNull();
    expect((await findRefreshTokenUse(database.db, inside))?.grace_answer_ciphertext).toBe('inside');
    expect(await wipeGraceAnswersUsedBefore(database.db, now - 10_000)).toBe(0);

    await revokeSessions(database.db, [session.id], 'test', now);
    for (const id of [raced, inside]) expect(await findRefreshTokenUse(database.db, id)).toEqual({ used_at: expect.any(Number), revoked_at: now, grace_answer_ciphertext: null });
  });

  it('incrementFailedAttempts() counts every concurrent failure', async () => {
    const userId = await newUser();
    await Promise.all(Array.from({ length: 25 }, () => incrementFailedAttempts(database.db, userId)));
    expect((await findUserById(database.db, userId))?.failed_attempts).toBe(25);
  });

  it('insertServerSecretIfAbsent() keeps the first secret', async () => {
    await insertServerSecretIfAbsent(database.db, { name: 'test-secret', ciphertext: 'first', created_at: now });
    await insertServerSecretIfAbsent(database.db, { name: 'test-secret', ciphertext: 'second', created_at: now });
    expect((await findServerSecret(database.db, 'test-secret'))?.ciphertext).toBe('first');
  });

  async function newChallenge(userId: string, factorId: string, sessionId: string, createdAt = now): Promise<string> {
    const id = generateId('chl');
    await insertChallenge(database.db, {
      id,
      user_id: userId,
      factor_id: factorId,
      session_id: sessionId,
      kind: 'otp',
      purpose: 'login',
      secret: 'hash',
      created_at: createdAt,
      expires_at: createdAt + 300_000,
      used_at: null,
      superseded_at: null,
    });
    return id;
  }

  it('OB-02: consumeChallenge() raced 20 times succeeds once; a consumed challenge is no longer open', async () => {
    const userId = await newUser();
    const factorId = await newFactor(userId, 'active');
    const session = await newPendingSession(userId);
    const challengeId = await newChallenge(userId, factorId, session.id);
    const results = await Promise.all(Array.from({ length: 20 }, () => consumeChallenge(database.db, challengeId, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await findOpenChallenge(database.db, factorId, session.id, now)).toBeUndefined();
  });

  it('OB-03: a new challenge supersedes the open one of the same factor and session', async () => {
    const userId = await newUser();
    const factorId = await newFactor(userId, 'active');
    const session = await newPendingSession(userId);
    const first = await newChallenge(userId, factorId, session.id);
    const second = await newChallenge(userId, factorId, session.id, now + 1);
    expect((await findOpenChallenge(database.db, factorId, session.id, now + 2))?.id).toBe(second);
    expect(await consumeChallenge(database.db, first, now + 2)).toBe(false);
    expect(await spendChallengeAttempt(database.db, first, 5, now + 2)).toBeUndefined();
    expect(await consumeChallenge(database.db, second, now + 2)).toBe(true);
  });

  it('spendChallengeAttempt() hands out at most maxAttempts under 50 parallel calls, and nothing after expiry', async () => {
    const userId = await newUser();
    const factorId = await newFactor(userId, 'active');
    const session = await newPendingSession(userId);
    const challengeId = await newChallenge(userId, factorId, session.id);
    const attempts = await Promise.all(Array.from({ length: 50 }, () => spendChallengeAttempt(database.db, challengeId, 5, now)));
    expect(attempts.filter((attempt) => attempt !== undefined).sort()).toEqual([1, 2, 3, 4, 5]);
    const other = await newChallenge(userId, factorId, (await newPendingSession(userId)).id);
    expect(await spendChallengeAttempt(database.db, other, 5, now + 300_000)).toBeUndefined();
  });

  it('WA-05/WA-06: advanceSignCount() moves only from the expected value; a credential id is unique', async () => {
    const userId = await newUser();
    const factorId = await newFactor(userId, 'active');
    const credential = { factor_id: factorId, credential_id: `cred-${factorId}`, public_key: 'pk', sign_count: 5, transports: null, device_type: 'singleDevice', backed_up: 0, created_at: now };
    await insertWebauthnCredential(database.db, credential);
    const results = await Promise.all([advanceSignCount(database.db, factorId, 5, 6, false), advanceSignCount(database.db, factorId, 5, 7, false)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await advanceSignCount(database.db, factorId, 5, 8, false)).toBe(false);
    const otherFactor = await newFactor(await newUser(), 'active');
    const error = await insertWebauthnCredential(database.db, { ...credential, factor_id: otherFactor }).then(() => undefined, (caught: unknown) => caught);
    expect(isUniqueViolation(error)).toBe(true);
  });

  it('WA-13: a locked credential moves no more; findWebauthnCredentialById() names its owner and records BS', async () => {
    const userId = await newUser();
    const factorId = await newFactor(userId, 'active');
    await insertWebauthnCredential(database.db, { factor_id: factorId, credential_id: `cred-${factorId}`, public_key: 'pk', sign_count: 5, transports: null, device_type: 'multiDevice', backed_up: 0, created_at: now, discoverable: 1 });
    expect(await advanceSignCount(database.db, factorId, 5, 6, true)).toBe(true);
    const found = await findWebauthnCredentialById(database.db, `cred-${factorId}`);
    expect(found).toMatchObject({ user_id: userId, factor_status: 'active', factor_id: factorId, discoverable: 1, locked_at: null, backed_up: 1 });
    expect(Number(found?.sign_count)).toBe(6);
    expect(await lockWebauthnCredential(database.db, factorId, now)).toBe(true);
    expect(await lockWebauthnCredential(database.db, factorId, now + 1)).toBe(false);
    expect(await advanceSignCount(database.db, factorId, 6, 7, true)).toBe(false);
    expect(Number((await findWebauthnCredentialById(database.db, `cred-${factorId}`))?.locked_at)).toBe(now);
    expect(await findWebauthnCredentialById(database.db, 'no-such-credential')).toBeUndefined();
  });

  it('a failed transaction leaves nothing behind', async () => {
    const id = generateId('usr');
    await expect(
      database.db.transaction().execute(async (trx) => {
        await insertUser(trx, { id, username: id.toLowerCase(), email: null, phone: null, password_hash: 'x', created_at: now, updated_at: now, disabled_at: null });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await findUserById(database.db, id)).toBeUndefined();
  });

  it('deleting a user cascades to factors, sessions and refresh tokens', async () => {
    const userId = await newUser();
    await newFactor(userId, 'active');
    const session = await newPendingSession(userId);
    await database.db.deleteFrom('users').where('id', '=', userId).execute();
    expect(await findSession(database.db, session.id)).toBeUndefined();
    expect(await database.db.selectFrom('factors').selectAll().where('user_id', '=', userId).execute()).toEqual([]);
  });
});
