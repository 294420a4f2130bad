/**
 * Keeps the SQLite message search index (FTS5 table `message_search`) up to date, off the send
 * path. A send only appends the message's key to `message_search_keys` (a trigger, one small
 * b-tree append in the send's own transaction); this indexes those keys in batches, in its own
 * transactions, a moment later. Indexed in the send's transaction, FTS5 wrote a new index
 * segment with every group commit: durable sends fell from 5,608 to 3,661 a second (bench,
 * `--only durable`, 3 repeats).
 *
 * How far indexing got is the one row of `message_search_progress`, written in the same
 * transaction as the batch it covers, so a crash loses no key and indexes none twice. A search first indexes
 * what is still pending (up to SEARCH_CATCH_UP rows), so one finds what one just sent; beyond
 * that (a large backlog after an upgrade, say) a search sees only what is indexed so far while
 * the background batches catch up.
 */
import type { Database as Db, Statement } from 'better-sqlite3';

/** Keys indexed per transaction: bounds how long one batch holds the event loop. */
const BATCH = 1_000;
/** Wait after a send before indexing: sends of that moment share one batch. */
const DELAY_MS = 200;
/** Wait before trying again after a failed batch (full disk, read-only file). */
const RETRY_MS = 5_000;
/** Most pending keys a search indexes before it runs. */
export const SEARCH_CATCH_UP = 5_000;

export class SqliteSearchIndex {
  readonly #db: Db;
  readonly #pending: Statement;
  readonly #index: Statement;
  readonly #done: Statement;
  readonly #setDone: Statement;
  readonly #batch: (limit: number) => number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(db: Db) {
    this.#db = db;
    this.#done = db.prepare('SELECT indexed_upto FROM message_search_progress').pluck();
    this.#setDone = db.prepare('UPDATE message_search_progress SET indexed_upto = ?');
    this.#pending = db
      .prepare(
        'SELECT max(rowid) FROM (SELECT rowid FROM message_search_keys WHERE rowid > ? ORDER BY rowid LIMIT ?)',
      )
      .pluck();
    this.#index = db.prepare(`INSERT INTO message_search (rowid, content)
      SELECT k.rowid, m.content FROM message_search_keys k
      JOIN messages m ON m.chat_id = k.chat_id AND m.seq = k.seq
      WHERE k.rowid > @after AND k.rowid <= @upto`);
    this.#batch = db.transaction((limit: number): number => {
      const after = this.#indexedUpTo();
      const upto = this.#pending.get(after, limit) as number | null;
      if (upto === null) return 0;
      this.#index.run({ after, upto });
      this.#setDone.run(upto);
      return upto - after;
    });
    this.schedule(0);
  }

  #indexedUpTo(): number {
    return (this.#done.get() as number | undefined) ?? 0;
  }

  /** Indexes pending keys now, at most `max` (in batches); returns how many were indexed. */
  catchUp(max: number = SEARCH_CATCH_UP): number {
    let indexed = 0;
    while (indexed < max && !this.#closed) {
      const step = this.#runBatch(Math.min(BATCH, max - indexed));
      if (step <= 0) break;
      indexed += step;
    }
    return indexed;
  }

  /** Indexes a batch `delayMs` from now (unless one is due already), then the rest in turn. */
  schedule(delayMs: number = DELAY_MS): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const step = this.#runBatch(BATCH);
      if (step === BATCH) this.schedule(0);
      else if (step < 0) this.schedule(RETRY_MS);
    }, delayMs);
    this.#timer.unref();
  }

  /** One batch; -1 when it failed (the store's writes report storage errors themselves). */
  #runBatch(limit: number): number {
    if (!this.#db.open) return 0;
    try {
      return this.#batch(limit);
    } catch {
      if (this.#db.inTransaction) {
        try {
          this.#db.prepare('ROLLBACK').run();
        } catch {
          // The next write's own rollback handling reports what is wrong with the file.
        }
      }
      return -1;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
