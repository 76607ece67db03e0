import { describe, expect, it } from 'vitest';
import type { Executor, OidcPayloadRow } from '../database.js';
import { currentClientRowsGeneration, forgetKeptClientRows, keepClientRow, keptClientRow } from './oidc-client-rows-cache.js';

const database = (isTransaction = false) => ({ isTransaction }) as unknown as Executor;
const row = (expiresAt: number | null = null): OidcPayloadRow => ({ kind: 'Client', id: 'app', payload: '{}', grant_id: null, user_code: null, uid: null, expires_at: expiresAt, consumed_at: null, sealed_secret: null });

describe('the kept client rows', () => {
  it('answers a kept row until a client write forgets it', () => {
    const db = database();
    const kept = row();
    keepClientRow(db, 'app', kept, currentClientRowsGeneration());
    expect(keptClientRow(db, 'app', 0)).toBe(kept);
    expect(keptClientRow(database(), 'app', 0)).toBeUndefined(); // another database keeps its own
    forgetKeptClientRows();
    expect(keptClientRow(db, 'app', 0)).toBeUndefined();
  });

  it('does not keep a row read while a client was written, nor one read in a transaction', () => {
    const db = database();
    const readGeneration = currentClientRowsGeneration();
    forgetKeptClientRows(); // a write ends while the read is under way
    keepClientRow(db, 'app', row(), readGeneration);
    expect(keptClientRow(db, 'app', 0)).toBeUndefined();
    const trx = database(true);
    keepClientRow(trx, 'app', row(), currentClientRowsGeneration());
    expect(keptClientRow(trx, 'app', 0)).toBeUndefined();
  });

  it('never answers a kept row past its expiry', () => {
    const db = database();
    keepClientRow(db, 'app', row(1_000), currentClientRowsGeneration());
    expect(keptClientRow(db, 'app', 999)).toBeDefined();
    expect(keptClientRow(db, 'app', 1_000)).toBeUndefined();
  });
});
