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
 * what is still pending (one batch: SEARCH_CATCH_UP), so one finds what one just sent; beyond
 * that (a large backlog after an upgrade, say) a search sees only what is indexed so far while
 * the background batches catch up.
 *
 * **Every word is indexed under its chat.** The text given to FTS5 is not the message but its
 * words (searchTerms' rules: NFKC, lower case, letters, digits and marks), each prefixed with a
 * short token of its chat (`chatToken`): "Deploy it" in chat c is `x1f9a0cdz deploy x1f9a0cdz it`
 * in one token each. A search matches `"<token>deploy"*` for each chat the caller is in, so a
 * prefix query reads only the index terms of those chats. Why: FTS5 answers a prefix query by
 * merging the postings of every term with that prefix in the whole index before any other
 * condition applies (a rowid range does not help either), so `a b c d e f g h` limited to an
 * empty chat cost 230–360 ms on the main thread when someone else's room held 3,000 messages of
 * 900 words; now it reads nothing. The token is a hash, so two chats may share one: that costs
 * a little work, never a result (the query still joins the caller's memberships). The index's
 * format is kept in `meta` (`search_index_format`): it is derived data, so a relay that finds an
 * older format empties it and indexes everything again in the background.
 */
import { createHash } from 'node:crypto';
import type { Database as Db, Statement } from 'better-sqlite3';
import { SEARCH_WORD } from '../../protocol/search-terms.js';

/** Keys indexed per transaction: bounds how long one batch holds the event loop. */
const BATCH = 1_000;
/**
 * Characters of message text indexed per transaction, the other bound on a batch: 1,000
 * messages of 900 words held the event loop for about a second; 256 KB take some 30 ms.
 */
const BATCH_CHARS = 256 * 1024;
/** The format of the indexed text; another value in `meta` means: index everything again. */
const FORMAT = 'chat-words-1';
/** Wait after a send before indexing: sends of that moment share one batch. */
const DELAY_MS = 200;
/** Wait before trying again after a failed batch (full disk, read-only file). */
const RETRY_MS = 5_000;
/**
 * Most pending keys a search indexes before it runs: one batch (so at most BATCH_CHARS of text,
 * some 30 ms), not 5,000 keys, which could be 30 MB of text and seconds on the event loop.
 */
export const SEARCH_CATCH_UP = BATCH;

/** The token a chat's words are indexed under: `x`, 7 hex digits of a hash of its id, `z`. */
export function chatToken(chatId: string): string {
  return `x${createHash('sha256').update(chatId).digest('hex').slice(0, 7)}z`;
}

/** What FTS5 indexes for a message: its words, each prefixed with its chat's token. */
export function indexedText(chatId: string, content: string): string {
  const token = chatToken(chatId);
  const words = content.normalize('NFKC').toLowerCase().match(SEARCH_WORD) ?? [];
  return words.map((word) => token + word).join(' ');
}

/**
 * The FTS5 query for `terms` (from searchTerms(): letters, digits and marks only) in the chats
 * `chatIds`: every term, in any one of the chats. A word of one character matches only itself,
 * not every word it starts: as a prefix it would read a sizeable share of the chats' index.
 */
export function scopedMatch(chatIds: readonly string[], terms: readonly string[]): string {
  const tokens = [...new Set(chatIds.map(chatToken))];
  return terms
    .map((term) => {
      const star = [...term].length > 1 ? '*' : '';
      return `(${tokens.map((token) => `"${token}${term}"${star}`).join(' OR ')})`;
    })
    .join(' AND ');
}

export class SqliteSearchIndex {
  readonly #db: Db;
  readonly #pending: Statement;
  readonly #index: Statement;
  readonly #done: Statement;
  readonly #setDone: Statement;
  readonly #batch: (limit: number) => number;
  readonly #searchable: Statement;
  readonly #keysOf: Statement;
  readonly #ftsDelete: Statement;
  readonly #ftsInsert: Statement;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(db: Db) {
    this.#db = db;
    this.#done = db.prepare('SELECT indexed_upto FROM message_search_progress').pluck();
    this.#setDone = db.prepare('UPDATE message_search_progress SET indexed_upto = ?');
    this.#pending = db.prepare(`SELECT k.rowid AS rowid, length(m.content) AS chars
      FROM message_search_keys k JOIN messages m ON m.chat_id = k.chat_id AND m.seq = k.seq
      WHERE k.rowid > ? ORDER BY k.rowid LIMIT ?`);
    db.function('parley_indexed_text', { deterministic: true }, (chatId, content) =>
      indexedText(String(chatId), String(content)),
    );
    this.#index = db.prepare(`INSERT INTO message_search (rowid, content)
      SELECT k.rowid, parley_indexed_text(m.chat_id, m.content) FROM message_search_keys k
      JOIN messages m ON m.chat_id = k.chat_id AND m.seq = k.seq
      WHERE k.rowid > @after AND k.rowid <= @upto`);
    this.#batch = db.transaction((limit: number): number => {
      const after = this.#indexedUpTo();
      const keys = this.#pending.iterate(after, limit) as IterableIterator<{
        rowid: number;
        chars: number;
      }>;
      let upto: number | null = null;
      let chars = 0;
      for (const key of keys) {
        // At least one, however long; then up to BATCH_CHARS.
        if (upto !== null && chars + key.chars > BATCH_CHARS) break;
        upto = key.rowid;
        chars += key.chars;
      }
      if (upto === null) return 0;
      this.#index.run({ after, upto });
      this.#setDone.run(upto);
      return upto - after;
    });
    // The caller's chats whose messages are indexed (ephemeral ones never are).
    this.#searchable = db
      .prepare(
        `SELECT cm.chat_id FROM chat_members cm JOIN chats c ON c.id = cm.chat_id
         WHERE cm.user_id = @user_id AND c.ephemeral_ttl_s IS NULL
           AND (@chat_id IS NULL OR cm.chat_id = @chat_id)`,
      )
      .pluck();
    this.#keysOf = db
      .prepare('SELECT rowid FROM message_search_keys WHERE chat_id = ? AND seq = ?')
      .pluck();
    this.#ftsDelete = db.prepare(`INSERT INTO message_search (message_search, rowid, content)
      VALUES ('delete', @rowid, parley_indexed_text(@chat_id, @content))`);
    this.#ftsInsert = db.prepare(`INSERT INTO message_search (rowid, content)
      VALUES (@rowid, parley_indexed_text(@chat_id, @content))`);
    this.#secureDelete();
    this.#upgradeFormat();
    this.schedule(0);
  }

  /**
   * A message's text changed (an edit: `next` is the new text; a delete: null), inside the
   * transaction that changes it. A key already indexed is taken out of the index with the very
   * text it was indexed with (a contentless FTS5 table can only forget what it is told; with
   * 'secure-delete' on, its words leave the index's segments there and then) and, for
   * an edit, indexed again with the new text at once; a key not indexed yet needs nothing: the
   * background batch reads the message as it is then. Key rows are never deleted, so a rowid is
   * never handed out twice.
   */
  changed(chatId: string, seq: number, previous: string, next: string | null): void {
    const upto = this.#indexedUpTo();
    for (const rowid of this.#keysOf.all(chatId, seq) as number[]) {
      if (rowid > upto) continue;
      this.#ftsDelete.run({ rowid, chat_id: chatId, content: previous });
      if (next !== null) this.#ftsInsert.run({ rowid, chat_id: chatId, content: next });
    }
  }

  /**
   * The FTS5 query for a search by `userId` (in `chatId` only, if given), or null when none of
   * the chats it may search can hold an indexed message.
   */
  match(userId: string, chatId: string | null, terms: readonly string[]): string | null {
    const chatIds = this.#searchable.all({ user_id: userId, chat_id: chatId }) as string[];
    return chatIds.length === 0 ? null : scopedMatch(chatIds, terms);
  }

  /**
   * FTS5's 'secure-delete' (SQLite 3.42+, kept in the index's config): taking an entry out of
   * the index (changed()) removes its words from the segment that holds them, at once. Without
   * it FTS5 only adds a delete marker and the words stay in the older segment until a merge
   * happens to rewrite it, so a deleted message's words could stay in the file for good; the
   * alternative, an 'optimize' after deletes, rewrites the whole index (some 200-450 ms for
   * 100,000 messages) on the relay's thread. A secure delete costs about as much as a plain one
   * (~1.2 ms for 100,000 messages). Inserts, the background indexing, are not affected.
   */
  #secureDelete(): void {
    const on = this.#db
      .prepare("SELECT v FROM message_search_config WHERE k = 'secure-delete'")
      .pluck()
      .get() as number | undefined;
    if (on === 1) return;
    this.#db
      .prepare("INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1)")
      .run();
  }

  /** An index written in another format is emptied, to be indexed again in the background. */
  #upgradeFormat(): void {
    const format = this.#db
      .prepare("SELECT value FROM meta WHERE key = 'search_index_format'")
      .pluck()
      .get() as string | undefined;
    if (format === FORMAT) return;
    this.#db.transaction(() => {
      this.#db.prepare("INSERT INTO message_search (message_search) VALUES ('delete-all')").run();
      this.#setDone.run(0);
      this.#db
        .prepare(
          `INSERT INTO meta (key, value) VALUES ('search_index_format', ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        )
        .run(FORMAT);
    })();
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
      // A batch that indexed anything may have stopped at BATCH_CHARS: look again at once.
      if (step > 0) this.schedule(0);
      else if (step < 0) this.schedule(RETRY_MS);
    }, delayMs);
    this.#timer.unref();
  }

  /**
   * One batch; -1 when it failed (the store's writes report storage errors themselves). It runs
   * with the store's `secure_delete = FAST`, not ON: zeroing the pages FTS5's segment merges
   * free doubled the fan-out p99 (83.6 against 28.1 ms, 1,000 members at 20 msg/s, bench in one
   * invocation, 3 repeats), because a merge's zeroed pages are written on the relay's thread.
   * The cost: words of a message deleted later can stay on such a freed page until SQLite
   * reuses it (relay/PROTOCOL.md, "What a delete leaves on disk").
   */
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
