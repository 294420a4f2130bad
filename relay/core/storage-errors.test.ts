import { describe, expect, it } from 'vitest';
import { databaseUnavailable, storageOrDatabaseFailure } from './storage-errors.js';

const coded = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('databaseUnavailable: PostgreSQL unreachable or too busy right now', () => {
  it('recognises refused and dropped connections, shutdowns, full servers and pool timeouts', () => {
    for (const error of [
      coded('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      coded('read ECONNRESET', 'ECONNRESET'),
      coded('terminating connection due to administrator command', '57P01'),
      coded('the database system is starting up', '57P03'),
      coded('sorry, too many clients already', '53300'),
      coded('connection failure', '08006'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
    ]) {
      expect(databaseUnavailable(error), error.message).toBe(true);
      expect(storageOrDatabaseFailure(error, null)?.code).toBe('storage_error');
    }
  });

  it('leaves query errors and anything else to the caller', () => {
    for (const error of [
      coded('duplicate key value violates unique constraint', '23505'),
      coded('syntax error at or near', '42601'),
      new TypeError('x is not a function'),
      'a string',
      null,
    ]) {
      expect(databaseUnavailable(error)).toBe(false);
      expect(storageOrDatabaseFailure(error, null)).toBeNull();
    }
  });

  it('keeps the SQLite classification first', () => {
    expect(storageOrDatabaseFailure(coded('disk full', 'SQLITE_FULL'), null)?.code).toBe(
      'storage_full',
    );
  });
});
