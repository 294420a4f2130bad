/**
 * What a failing disk looks like from the relay: SQLite's error codes turned into the documented
 * send failures (`storage_full`, `storage_read_only`, `storage_error`), a clear start-up error
 * for a data folder the relay cannot write, and a log that reports a storage outage without
 * writing one line per refused message.
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import type { Logger } from 'pino';
import { failure, type Failure } from '../protocol/errors.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** The error's code: SQLite's extended result code (`SQLITE_FULL`, …) or Node's errno name. */
function errorCode(error: unknown): string | null {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : null;
}

/** True when the file system holding `dir` has no block left for an unprivileged writer. */
function diskFull(dir: string | null): boolean {
  if (dir === null) return false;
  try {
    return statfsSync(dir).bavail === 0;
  } catch {
    // The folder is gone or unreadable: say nothing about space; the caller reports the error.
    return false;
  }
}

/** True when `dir` cannot be written (a read-only mount answers EROFS even to root). */
function readOnlyDir(dir: string | null): boolean {
  if (dir === null) return false;
  try {
    accessSync(dir, constants.W_OK);
    return false;
  } catch (error) {
    const code = errorCode(error);
    return code === 'EROFS' || code === 'EACCES' || code === 'EPERM';
  }
}

export type StorageProblem = 'full' | 'read_only' | 'other';

/**
 * Classifies a SQLite or file-system error; null when it is neither. `dir` (the data folder)
 * lets a vaguer SQLite error read as what it is: a shared-memory file that cannot grow on a full
 * disk is `SQLITE_IOERR_SHMSIZE`, a database on a read-only mount is `SQLITE_CANTOPEN`.
 */
export function storageProblem(error: unknown, dir: string | null): StorageProblem | null {
  const code = errorCode(error);
  if (code === null) return null;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return 'full';
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return 'read_only';
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN') {
    if (diskFull(dir)) return 'full';
    if (readOnlyDir(dir)) return 'read_only';
  }
  return code.startsWith('SQLITE_') ? 'other' : null;
}

/** The send failure for a write that a storage problem refused; null for other errors. */
export function storageFailure(error: unknown, dir: string | null): Failure | null {
  const problem = storageProblem(error, dir);
  if (problem === null) return null;
  const detail = error instanceof Error ? error.message : String(error);
  switch (problem) {
    case 'full':
      return failure('storage_full', `the relay's disk is full; nothing was stored (${detail})`);
    case 'read_only':
      return failure(
        'storage_read_only',
        `the relay's data folder is read-only; nothing was stored (${detail})`,
      );
    default:
      return failure('storage_error', `database write failed: ${detail}`);
  }
}

/** Node's errno names for a database server that cannot be reached or dropped the connection. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/**
 * True for a cluster's PostgreSQL being unreachable or too busy right now: the server refused or
 * dropped the connection, is shutting down or starting (SQLSTATE 57P01–57P03), has no
 * connection left (53300), a connection exception (class 08), or this node's pool waited past
 * `connectTimeoutMs` for a free connection (a connect storm). Trying again later may succeed.
 */
export function databaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = errorCode(error) ?? '';
  if (UNREACHABLE.has(code) || code.startsWith('08') || code === '53300') return true;
  if (/^57P0[1-3]$/.test(code)) return true;
  // pg-pool's own errors carry no code.
  return /^(timeout exceeded when trying to connect|Connection terminated)/.test(error.message);
}

/**
 * `storageFailure`, and for a database that is unreachable or too busy (databaseUnavailable) a
 * `storage_error` failure: the request is answered (socket frames: an error reply; the socket
 * stays open) instead of failing as an unexpected error.
 */
export function storageOrDatabaseFailure(error: unknown, dir: string | null): Failure | null {
  const refused = storageFailure(error, dir);
  if (refused !== null) return refused;
  return databaseUnavailable(error)
    ? failure('storage_error', 'the database is unavailable or busy; try again')
    : null;
}

export type StorageOpenErrorCode =
  'ERR_STORAGE_FULL' | 'ERR_STORAGE_READ_ONLY' | 'ERR_STORAGE_OPEN';

/**
 * The database cannot be opened or prepared (read-only or full data folder, unreadable file).
 * An operating condition, not a bug: its `code` starts with `ERR_`, so the CLI prints its message
 * (one clear line), not its stack; the original error is kept as `cause`.
 */
export class StorageOpenError extends Error {
  constructor(
    readonly code: StorageOpenErrorCode,
    readonly path: string,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const why =
      code === 'ERR_STORAGE_READ_ONLY'
        ? 'the data folder is read-only; make it writable or choose another data folder'
        : code === 'ERR_STORAGE_FULL'
          ? 'the disk is full; free some space and start again'
          : 'the database could not be opened';
    super(`cannot open the database ${path}: ${why} (${code}: ${detail})`, { cause });
    this.name = 'StorageOpenError';
  }
}

export function storageOpenError(error: unknown, path: string, dir: string | null): Error {
  const problem = storageProblem(error, dir);
  if (problem === null) return error instanceof Error ? error : new Error(String(error));
  const code =
    problem === 'full'
      ? 'ERR_STORAGE_FULL'
      : problem === 'read_only'
        ? 'ERR_STORAGE_READ_ONLY'
        : 'ERR_STORAGE_OPEN';
  return new StorageOpenError(code, path, error);
}

/**
 * A storage outage in the log: the first failure at once, then at most one line per
 * `intervalMs` with how many failures it stands for, and one line when writes work again
 * (relay/core/rate-limited-log.ts). `what` names the writes: the message writer's log says
 * "message writes failing"; other writes (read markers, acks, memberships) log on their own.
 */
export class StorageFailureLog {
  readonly #log: RateLimitedLog;

  constructor(logger: Logger, intervalMs: number, what = 'message') {
    this.#log = new RateLimitedLog({
      logger,
      intervalMs,
      level: 'error',
      message: `${what} writes failing`,
      recoveredMessage: `${what} writes work again`,
      // `messages`: failures since the last line, which no line has counted yet.
      countField: what === 'message' ? 'messages' : 'writes',
    });
  }

  failed(problem: Failure, count: number): void {
    this.#log.occurred({ code: problem.code, reason: problem.message }, count);
  }

  succeeded(): void {
    this.#log.recovered();
  }
}
