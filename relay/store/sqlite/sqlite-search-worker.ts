/**
 * Runs the SQLite search query off the event loop: in a worker thread with its own read-only
 * connection to the same file (WAL lets it read while the relay writes). The relay thread only
 * catches the index up and builds the query; the FTS5 work, which grows with what the caller
 * may search (a room of their own full of long messages, say: ~260 ms for `"x…zab"*`), happens
 * here, so other users' sends and deliveries do not wait for it.
 *
 * At most MAX_QUEUED searches wait (beyond: `overloaded`). If the worker cannot start (a
 * runtime without worker threads or without the driver's binding there), searches run on the
 * calling thread as before, and the reason is kept in `fallbackReason`.
 *
 * The worker's code is a string of plain JavaScript evaluated by `new Worker(…, {eval: true})`:
 * a `.ts` file would need a loader in the worker under tsx and vitest, and a separate entry in
 * the desktop app's bundle. It only opens the database, prepares the one statement it is given
 * and answers `{id, rows}` or `{id, error}`.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { failure, type Failure } from '../../protocol/errors.js';

/**
 * The worker thread's nice value (Linux): with one user's costly searches in their own full room
 * the canary's send → ack p99 was 92 ms at the same priority (2 cores, shared).
 */
const SEARCH_NICE = 10;
/** Searches waiting for the worker, beyond which a search is refused with `overloaded`. */
export const MAX_QUEUED = 64;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// A lower CPU priority for this thread only (Linux schedules threads by their own nice value):
// on a busy machine, sends and deliveries on the relay's thread go first.
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, workerData.nice);
} catch {
  // Not Linux, or not allowed: the thread keeps the process's priority.
}
const Database = require(workerData.driver);
const db = new Database(workerData.path, {
  readonly: true,
  fileMustExist: true,
  ...(workerData.nativeBinding ? { nativeBinding: workerData.nativeBinding } : {}),
});
db.pragma('busy_timeout = 5000');
const statement = db.prepare(workerData.sql);
parentPort.on('message', (request) => {
  try {
    parentPort.postMessage({ id: request.id, rows: statement.all(request.params) });
  } catch (error) {
    parentPort.postMessage({ id: request.id, error: String((error && error.message) || error) });
  }
});
parentPort.postMessage({ ready: true });
`;

export interface SearchWorkerOptions {
  /** The database file (never `:memory:`: another connection could not see it). */
  path: string;
  /** The one statement the worker runs, with named parameters. */
  sql: string;
  /** better_sqlite3.node for this runtime, as the store was given. */
  nativeBinding?: string;
}

type Reply = { id: number; rows: unknown[] } | { id: number; error: string } | { ready: true };

interface Waiting {
  resolve: (result: unknown[] | Failure) => void;
}

export class SqliteSearchWorker {
  readonly #options: SearchWorkerOptions;
  readonly #waiting = new Map<number, Waiting>();
  #worker: Worker | null = null;
  #nextId = 1;
  #ready = false;
  #closed = false;
  /** Why searches run on the calling thread instead (the worker failed before it was ready). */
  fallbackReason: string | null = null;

  constructor(options: SearchWorkerOptions) {
    this.#options = options;
  }

  /** True when searches should run on the calling thread (see fallbackReason). */
  get unavailable(): boolean {
    return this.fallbackReason !== null || this.#closed;
  }

  /** Runs the statement with `params` in the worker: its rows, or a Failure. */
  run(params: Record<string, unknown>): Promise<unknown[] | Failure> {
    if (this.#waiting.size >= MAX_QUEUED) {
      return Promise.resolve(failure('overloaded', 'too many searches at once; try again'));
    }
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      // Held open while a search waits, so a process has to stay for its answer.
      if (this.#waiting.size === 0) worker.ref();
      this.#waiting.set(id, { resolve });
      worker.postMessage({ id, params });
    });
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path: this.#options.path,
        sql: this.#options.sql,
        nativeBinding: this.#options.nativeBinding ?? null,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        nice: SEARCH_NICE,
      },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      if ('ready' in reply) {
        this.#ready = true;
        return;
      }
      const waiting = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) worker.unref();
      if ('error' in reply) waiting?.resolve(failure('storage_error', reply.error));
      else waiting?.resolve(reply.rows);
    });
    const stopped = (reason: string): void => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      // A worker that never became ready will not next time either: search here instead.
      if (!this.#ready && !this.#closed) this.fallbackReason = reason;
      this.#ready = false;
      for (const waiting of this.#waiting.values()) {
        waiting.resolve(failure('storage_error', `search worker stopped: ${reason}`));
      }
      this.#waiting.clear();
    };
    worker.on('error', (error) => stopped(error.message));
    worker.on('exit', (code) => stopped(`exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (worker !== null) await worker.terminate();
  }
}
