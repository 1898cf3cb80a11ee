import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, ENGINES, type TestDb } from '../helpers/db.js';
import { STATUS_OF, toDomainError } from '../../src/http/plugins/problem-errors.js';

/** Errors raised by a real database, mapped to problem codes: the request's fault → 4xx, never 500. */
describe.each(ENGINES)('database errors as problems on %s', (engine) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(engine);
  });
  afterAll(async () => db?.drop());

  const raised = async (text: string) => {
    try {
      await db.handle.executeSql(text, [1]);
    } catch (e) {
      return toDomainError(e);
    }
    throw new Error(`no error from ${text}`);
  };

  it.each([
    ['a number outside its column type', 'SELECT 2147483648::int + $1'],
    ['an unsupported Unicode escape in JSON', `SELECT '{"a":"\\u0000"}'::jsonb, $1::int`],
  ])('%s → 400 validation_failed', async (_what, text) => {
    const e = await raised(text);
    expect(e.code).toBe('validation_failed');
    expect(STATUS_OF[e.code]).toBe(400);
  });

  it('a unique violation (two writers, one key) → 409 conflict, to retry', async () => {
    await db.handle.executeSql('CREATE TABLE u (k int PRIMARY KEY)');
    await db.handle.executeSql('INSERT INTO u VALUES ($1)', [1]);
    const e = await raised('INSERT INTO u VALUES ($1)');
    expect(e.code).toBe('conflict');
    expect(STATUS_OF[e.code]).toBe(409);
  });
});
