// Hot reads run as SQL compiled once per database (src/store/prepared-query.ts): they must answer
// exactly as the query builder would, with the parameters in the right places, inside and outside
// transactions — on SQLite and on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateId } from '../../src/core/crypto/random.js';
import { prepareQuery } from '../../src/store/prepared-query.js';
import { insertFactor, listFactorsOfUser } from '../../src/store/repositories/factors.js';
import { findSession, findSessionWithUser, insertSession, userColumns } from '../../src/store/repositories/sessions.js';
import { findUserById, findUserByUsername, insertUser } from '../../src/store/repositories/users.js';
import { databaseFactories, type TestDatabase } from './databases.js';

const now = Date.UTC(2026, 10, 29, 12);

describe.each(databaseFactories)('prepareQuery() on $name', (factory) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await factory.open();
  });
  afterAll(async () => database.close());

  async function newUser(): Promise<{ id: string; username: string }> {
    const id = generateId('usr');
    const username = id.toLowerCase();
    await insertUser(database.db, { id, username, email: null, phone: null, password_hash: 'x', created_at: now, updated_at: now, disabled_at: null });
    return { id, username };
  }

  it('finds the same rows as the query builder, many times over, for different parameters', async () => {
    const users = await Promise.all([newUser(), newUser(), newUser()]);
    for (let round = 0; round < 3; round += 1) {
      for (const user of users) {
        expect(await findUserById(database.db, user.id)).toEqual(await database.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirst());
        expect((await findUserByUsername(database.db, user.username))?.id).toBe(user.id);
      }
    }
    expect(await findUserById(database.db, 'usr_nobody')).toBeUndefined();
  });

  it('puts several parameters in the order the builder placed them', async () => {
    const user = await newUser();
    const base = { user_id: user.id, type: 'totp' as const, label: null, secret_ciphertext: null, destination: null, created_at: now, activated_at: null, last_used_at: null };
    await insertFactor(database.db, { ...base, id: generateId('fac'), status: 'active' });
    await insertFactor(database.db, { ...base, id: generateId('fac'), status: 'pending', created_at: now + 1 });
    expect((await listFactorsOfUser(database.db, user.id)).map((factor) => factor.status)).toEqual(['active', 'pending']);
    expect((await listFactorsOfUser(database.db, user.id, 'active')).map((factor) => factor.status)).toEqual(['active']);
    expect((await listFactorsOfUser(database.db, user.id, 'pending')).map((factor) => factor.status)).toEqual(['pending']);
  });

  it('runs inside a transaction and sees its uncommitted writes', async () => {
    await database.db.transaction().execute(async (trx) => {
      const id = generateId('usr');
      await insertUser(trx, { id, username: id.toLowerCase(), email: null, phone: null, password_hash: 'x', created_at: now, updated_at: now, disabled_at: null });
      expect((await findUserById(trx, id))?.id).toBe(id);
    });
  });

  it('findSessionWithUser() reads exactly what findSession() and findUserById() read, in one query', async () => {
    const user = await newUser();
    const sessionId = generateId('ses');
    await insertSession(database.db, {
      id: sessionId,
      user_id: user.id,
      state: 'active',
      mfa_jti: null,
      amr: '["pwd","otp","mfa"]',
      acr: 'aal2',
      auth_time: now,
      client_id: 'twofold',
      ip: '127.0.0.1',
      user_agent: 'test',
      created_at: now,
      expires_at: now + 3_600_000,
      last_active_at: now,
    });
    expect(await findSessionWithUser(database.db, sessionId)).toEqual({ session: await findSession(database.db, sessionId), user: await findUserById(database.db, user.id) });
    expect(await findSessionWithUser(database.db, 'ses_nobody')).toBeUndefined();
  });

  it('the joined user columns are every column of the users table (a new column cannot be forgotten)', async () => {
    const user = await newUser();
    const row = await database.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    expect([...userColumns].sort()).toEqual(Object.keys(row).sort());
  });

  it('compiles once per database: the builder runs on the first call only', async () => {
    let builds = 0;
    const query = prepareQuery<{ id: string }>((db) => {
      builds += 1;
      return db.selectFrom('users').select('id').where('id', '=', '?');
    });
    const user = await newUser();
    for (let index = 0; index < 5; index += 1) expect(await query(database.db, [user.id])).toEqual([{ id: user.id }]);
    expect(builds).toBe(1);
  });
});
