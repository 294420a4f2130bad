import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, newMessageId } from '../../core/ids.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { indexedText, SqliteSearchIndex } from './sqlite-search-index.js';
import { SqliteStore } from './sqlite-store.js';
import { describeStoreContract, expectStored } from '../store-contract.js';
import { describeChangeContract } from '../store-contract-changes.js';
import type { AppendRequest, ChangeRequest } from '../../core/store.js';

/** Small enough that the contract's cap test only needs a handful of messages. */
const MAX_PENDING = 5;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
}

const openSqlite = async () => {
  const dir = tempDir();
  const store = new SqliteStore({
    path: join(dir, 'parley.db'),
    synchronous: 'FULL',
    maxPendingPerUser: MAX_PENDING,
  });
  return {
    store,
    maxPendingPerUser: MAX_PENDING,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

describeStoreContract('SqliteStore (file, synchronous FULL)', openSqlite);
describeChangeContract('SqliteStore (file, synchronous FULL)', openSqlite);

describe('SqliteStore specifics', () => {
  let dir: string;
  let path: string;
  const open = (): SqliteStore =>
    new SqliteStore({ path, synchronous: 'FULL', maxPendingPerUser: MAX_PENDING });

  beforeEach(() => {
    dir = tempDir();
    path = join(dir, 'parley.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Reads pragmas through a second, independent connection. */
  function inspect<T>(read: (db: Database.Database) => T): T {
    const db = new Database(path, { readonly: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  }

  async function seed(store: SqliteStore) {
    const now = new Date('2030-01-01T00:00:00.000Z');
    const ana = await store.createUser({ id: newId(), name: 'Ana', now });
    const ben = await store.createUser({ id: newId(), name: 'Ben', now });
    if (ana === null || ben === null) throw new Error('fixture users were not created');
    const chat = await store.createChat({
      id: newId(),
      name: 'general',
      visibility: 'public',
      ephemeralTtlS: null,
      isMain: true,
      createdBy: ana.id,
      now,
    });
    await store.addMember(chat.id, ben.id, now);
    const request = (content: string): AppendRequest => ({
      messageId: newMessageId(),
      chatId: chat.id,
      senderId: ana.id,
      content,
      mobileRefId: `ref-${content}`,
      now,
      notifyUserIds: [ben.id],
      mentionedUserIds: [],
      originConnectionId: null,
    });
    return { ana, ben, chat, now, request };
  }

  it('migrates a new file to the latest schema version, in WAL mode', async () => {
    const store = open();
    await store.close();
    expect(inspect((db) => db.pragma('user_version', { simple: true }))).toBe(
      SQLITE_MIGRATIONS.length,
    );
    expect(inspect((db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
  });

  it('keeps everything across a close and reopen, and continues the seq', async () => {
    const first = open();
    const { ana, ben, chat, request } = await seed(first);
    await first.putMetaIfAbsent('token_secret', 'kept');
    expectStored((await first.appendMessages([request('one'), request('two')]))[1]);
    await first.setReadSeq(chat.id, ben.id, 1);
    await first.close();

    const second = open();
    try {
      expect(await second.getMeta('token_secret')).toBe('kept');
      expect(await second.findUserByName('ana')).toEqual(ana);
      expect(await second.getMainChat()).toMatchObject({ id: chat.id, last_seq: 2 });
      expect(await second.getMembership(chat.id, ben.id)).toEqual({ read_seq: 1 });
      const history = await second.messagesAfter(chat.id, 0, 10, new Date());
      expect(history.map((message) => message.content)).toEqual(['one', 'two']);
      expect((await second.listPending(ben.id, 10, new Date())).map((p) => p.seq)).toEqual([2]);
      const [third] = await second.appendMessages([request('three')]);
      expect(expectStored(third).seq).toBe(3);
    } finally {
      await second.close();
    }
    expect(inspect((db) => db.pragma('user_version', { simple: true }))).toBe(
      SQLITE_MIGRATIONS.length,
    );
  });

  it('indexes for search the messages of a database written before search existed', async () => {
    const old = new Database(path);
    old.exec(SQLITE_MIGRATIONS[0] ?? '');
    old.pragma('user_version = 1');
    const at = '2030-01-01T00:00:00.000Z';
    old.exec(`INSERT INTO users VALUES ('u1', 'Ana', 'ana', '${at}');
      INSERT INTO chats (id, kind, name, visibility, ephemeral_ttl_s, created_at)
        VALUES ('c1', 'room', 'general', 'public', NULL, '${at}'),
               ('c2', 'room', 'fleeting', 'public', 60, '${at}');
      INSERT INTO chat_members VALUES ('c1', 'u1', 0, '${at}'), ('c2', 'u1', 0, '${at}');
      INSERT INTO messages VALUES
        ('c1', 1, 'm1', 'u1', 'old roadmap', 'r1', '${at}', NULL),
        ('c1', 2, 'm2', 'u1', 'newer roadmap draft', 'r2', '2030-01-01T00:00:01.000Z', NULL),
        ('c2', 1, 'm3', 'u1', 'roadmap secret', 'r3', '${at}', '2030-01-01T00:01:00.000Z');`);
    old.close();

    const store = open();
    try {
      const page = await store.searchMessages({
        userId: 'u1',
        terms: ['roadmap'],
        chatId: null,
        before: null,
        limit: 10,
      });
      expect('ok' in page ? page : page.messages.map((m) => m.message_id)).toEqual(['m2', 'm1']);
    } finally {
      await store.close();
    }
  });

  it('searches without regard to accents, and finds runs of unspaced script by their start', async () => {
    const store = open();
    try {
      const { ana, request } = await seed(store);
      await store.appendMessages([request('Le Café est ouvert'), request('会議室の予約')]);
      const found = async (terms: string[]) => {
        const page = await store.searchMessages({
          userId: ana.id,
          terms,
          chatId: null,
          before: null,
          limit: 10,
        });
        return 'ok' in page ? page : page.messages.map((m) => m.content);
      };
      expect(await found(['cafe'])).toEqual(['Le Café est ouvert']);
      expect(await found(['ouvért'])).toEqual(['Le Café est ouvert']);
      expect(await found(['会議'])).toEqual(['会議室の予約']);
      expect(await found(['予約'])).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('indexes sends for search in the background, batch after batch, off the send path', async () => {
    const store = open();
    try {
      const { ana, request } = await seed(store);
      const indexed = () =>
        inspect(
          (db) =>
            db.prepare('SELECT indexed_upto FROM message_search_progress').pluck().get() as number,
        );
      // More than one batch of 1,000, in batches of sends like the message writer's.
      for (let batch = 0; batch < 5; batch += 1) {
        const sent = await store.appendMessages(
          Array.from({ length: 500 }, (_, i) => request(`note ${batch * 500 + i}`)),
        );
        expect(sent.every((result) => result.ok)).toBe(true);
      }
      // The send's own transaction only queued the keys.
      expect(indexed()).toBeLessThan(2_500);
      const deadline = Date.now() + 10_000;
      while (indexed() < 2_500 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(indexed()).toBe(2_500);
      const page = await store.searchMessages({
        userId: ana.id,
        terms: ['2499'],
        chatId: null,
        before: null,
        limit: 5,
      });
      expect('ok' in page ? page : page.messages.map((m) => m.content)).toEqual(['note 2499']);
    } finally {
      await store.close();
    }
  });

  it('empties a search index of an older format and indexes every message again', async () => {
    const store = open();
    const { ana, request } = await seed(store);
    await store.appendMessages([request('quarterly roadmap'), request('roadmap draft')]);
    await store.close();
    // As an older relay left it: the words indexed without their chat, another format.
    const older = new Database(path);
    older
      .prepare("INSERT INTO message_search (rowid, content) VALUES (999, 'quarterly roadmap')")
      .run();
    older.prepare("UPDATE meta SET value = 'old' WHERE key = 'search_index_format'").run();
    older.close();
    const reopened = open();
    try {
      const page = await reopened.searchMessages({
        userId: ana.id,
        terms: ['roadmap'],
        chatId: null,
        before: null,
        limit: 10,
      });
      expect('ok' in page ? page : page.messages.map((m) => m.content)).toEqual([
        'roadmap draft',
        'quarterly roadmap',
      ]);
    } finally {
      await reopened.close();
    }
  });

  it('refuses to open a database written by a newer relay, and leaves it untouched', () => {
    const newer = SQLITE_MIGRATIONS.length + 1;
    const db = new Database(path);
    db.pragma(`user_version = ${newer}`);
    db.close();
    expect(open).toThrow(
      `database schema version ${newer} is newer than this relay understands (${SQLITE_MIGRATIONS.length})`,
    );
    expect(inspect((check) => check.pragma('user_version', { simple: true }))).toBe(newer);
    expect(
      inspect((check) => check.prepare('SELECT count(*) AS n FROM sqlite_master').get()),
    ).toEqual({ n: 0 });
  });

  it('passes PRAGMA integrity_check after writes', async () => {
    const store = open();
    try {
      const { request } = await seed(store);
      await store.appendMessages(Array.from({ length: 50 }, (_, i) => request(`m${i}`)));
      expect(store.integrityCheck()).toBe('ok');
    } finally {
      await store.close();
    }
  });

  it('fails a whole batch with storage_error and stores nothing when the database errors midway', async () => {
    const store = open();
    try {
      const { ana, ben, chat, request } = await seed(store);
      // Another connection adds a trigger that makes SQLite fail (not a constraint: a plain
      // SQLITE_ERROR) on the third insert, after two messages of the batch were written.
      const saboteur = new Database(path);
      saboteur.exec(`CREATE TRIGGER fail_on_boom BEFORE INSERT ON messages
        WHEN NEW.content = 'boom' BEGIN SELECT json('{'); END`);
      const batch = [request('one'), request('two'), request('boom')];
      const results = await store.appendMessages(batch);
      expect(results).toHaveLength(3);
      for (const result of results) {
        expect(result).toMatchObject({ ok: false, code: 'storage_error' });
      }
      expect((await store.getChat(chat.id))?.last_seq).toBe(0);
      expect(await store.messagesAfter(chat.id, 0, 10, new Date())).toEqual([]);
      expect(await store.listPending(ben.id, 10, new Date())).toEqual([]);
      expect(await store.getMembership(chat.id, ana.id)).toEqual({ read_seq: 0 });

      // Once the database works again, the client's retry (same mobile_ref_ids) is stored as new.
      saboteur.exec('DROP TRIGGER fail_on_boom');
      saboteur.close();
      const retried = await store.appendMessages(batch);
      expect(retried.map((result) => result.ok && !result.duplicate)).toEqual([true, true, true]);
      expect(retried.map((result) => expectStored(result).seq)).toEqual([1, 2, 3]);
    } finally {
      await store.close();
    }
  });

  it('answers storage_error for every message instead of throwing once closed', async () => {
    const store = open();
    const { chat, request } = await seed(store);
    await store.close();
    const results = await store.appendMessages([request('late'), request('later')]);
    expect(results.map((result) => !result.ok && result.code)).toEqual([
      'storage_error',
      'storage_error',
    ]);
    const reopened = open();
    try {
      expect((await reopened.getChat(chat.id))?.last_seq).toBe(0);
    } finally {
      await reopened.close();
    }
  });

  it('fails only the message that breaks a constraint, not its batch', async () => {
    const store = open();
    try {
      const { chat, request } = await seed(store);
      const first = request('first');
      const reusedId = { ...request('reused id'), messageId: first.messageId };
      const results = await store.appendMessages([first, reusedId, request('third')]);
      expect(results.map((result) => (result.ok ? result.message.seq : result.code))).toEqual([
        1,
        'storage_error',
        2,
      ]);
      const stored = await store.messagesAfter(chat.id, 0, 10, new Date());
      expect(stored.map((message) => message.content)).toEqual(['first', 'third']);
    } finally {
      await store.close();
    }
  });

  /** What FTS5 holds per indexed row (deletes applied), read through fts5vocab. */
  function indexedRows(): Map<number, string> {
    return inspect((db) => {
      db.exec(`CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, message_search, 'instance')`);
      const rows = db.prepare('SELECT doc, term FROM temp.vocab ORDER BY doc, offset').all() as {
        doc: number;
        term: string;
      }[];
      const byDoc = new Map<number, string[]>();
      for (const row of rows) byDoc.set(row.doc, [...(byDoc.get(row.doc) ?? []), row.term]);
      return new Map([...byDoc].map(([doc, terms]) => [doc, terms.join(' ')]));
    });
  }

  it('keeps the FTS5 index exactly on the current text through edits and deletes, indexed or not', async () => {
    const store = open();
    try {
      const { ana, chat, request } = await seed(store);
      const sent = await store.appendMessages(
        ['alpha one', 'beta two', 'gamma three', 'delta four'].map(request),
      );
      const [a, b, c, d] = sent.map(expectStored);
      if (a === undefined || b === undefined || c === undefined || d === undefined) {
        throw new Error('four messages expected');
      }
      const change = (target: typeof a, content: string | null, at: number): ChangeRequest =>
        content === null
          ? {
              kind: 'delete',
              chatId: chat.id,
              messageId: target.message_id,
              actorId: ana.id,
              now: new Date(Date.UTC(2030, 0, 1, 0, 0, at)),
              originConnectionId: null,
            }
          : {
              kind: 'edit',
              chatId: chat.id,
              messageId: target.message_id,
              actorId: ana.id,
              content,
              refId: `r${at}`,
              now: new Date(Date.UTC(2030, 0, 1, 0, 0, at)),
              originConnectionId: null,
            };
      // a and b change before they are indexed, then everything is indexed (a search catches up).
      await store.changeMessages([change(a, 'alpha edited', 1), change(b, null, 2)]);
      const search = (term: string) =>
        store.searchMessages({
          userId: ana.id,
          terms: [term],
          chatId: null,
          before: null,
          limit: 9,
        });
      await search('alpha');
      // c and d change once indexed, c twice; a again.
      await store.changeMessages([
        change(c, 'gamma edited', 3),
        change(c, 'gamma final', 4),
        change(d, null, 5),
        change(a, 'alpha last', 6),
      ]);
      const keys = inspect(
        (db) =>
          db.prepare('SELECT rowid, seq FROM message_search_keys ORDER BY rowid').all() as {
            rowid: number;
            seq: number;
          }[],
      );
      const expected = new Map(
        keys
          .map((key): [number, string] => {
            const content = { 1: 'alpha last', 3: 'gamma final' }[key.seq] ?? '';
            return [key.rowid, indexedText(chat.id, content)];
          })
          .filter(([, text]) => text !== ''),
      );
      expect(indexedRows()).toEqual(expected);
      // FTS5's own check of its index structure (a write statement: its own connection).
      const checker = new Database(path);
      try {
        const check = checker.prepare(
          "INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 0)",
        );
        expect(() => check.run()).not.toThrow();
      } finally {
        checker.close();
      }
      expect(store.integrityCheck()).toBe('ok');
      expect(await search('gamma')).toMatchObject({ messages: [{ content: 'gamma final' }] });
    } finally {
      await store.close();
    }
  });

  it('fails a whole batch of changes with storage_error and changes nothing when the database errors midway', async () => {
    const store = open();
    try {
      const { ana, ben, chat, request } = await seed(store);
      const [first, second] = (
        await store.appendMessages([request('keep me'), request('and me')])
      ).map(expectStored);
      if (first === undefined || second === undefined) throw new Error('two messages expected');
      await store.searchMessages({
        userId: ana.id,
        terms: ['keep'],
        chatId: null,
        before: null,
        limit: 9,
      });
      const now = new Date('2030-01-01T00:01:00.000Z');
      const batch: ChangeRequest[] = [
        {
          kind: 'delete',
          chatId: chat.id,
          messageId: first.message_id,
          actorId: ana.id,
          now,
          originConnectionId: null,
        },
        {
          kind: 'edit',
          chatId: chat.id,
          messageId: second.message_id,
          actorId: ana.id,
          content: 'fine',
          refId: 'e1',
          now,
          originConnectionId: null,
        },
        {
          kind: 'edit',
          chatId: chat.id,
          messageId: second.message_id,
          actorId: ana.id,
          content: 'boom',
          refId: 'e2',
          now,
          originConnectionId: null,
        },
      ];
      const saboteur = new Database(path);
      saboteur.exec(`CREATE TRIGGER fail_on_boom BEFORE INSERT ON chat_events
        WHEN NEW.content = 'boom' BEGIN SELECT json('{'); END`);
      const results = await store.changeMessages(batch);
      expect(results.map((result) => !result.ok && result.code)).toEqual([
        'storage_error',
        'storage_error',
        'storage_error',
      ]);
      expect((await store.getChat(chat.id))?.last_seq).toBe(2);
      expect(await store.eventsAfter(chat.id, 0, 10)).toEqual([]);
      expect(
        (await store.messagesAfter(chat.id, 0, 10, now)).map((m) => [m.content, m.version_seq]),
      ).toEqual([
        ['keep me', 1],
        ['and me', 2],
      ]);
      expect((await store.listPending(ben.id, 10, now)).map((p) => p.content)).toEqual([
        'keep me',
        'and me',
      ]);
      expect(
        await store.searchMessages({
          userId: ana.id,
          terms: ['keep'],
          chatId: null,
          before: null,
          limit: 9,
        }),
      ).toMatchObject({ messages: [{ content: 'keep me' }] });

      saboteur.exec('DROP TRIGGER fail_on_boom');
      saboteur.close();
      const retried = await store.changeMessages(batch);
      expect(retried.map((result) => result.ok && !result.duplicate && result.event.seq)).toEqual([
        3, 4, 5,
      ]);
      await store.close();
      const late = await store.changeMessages(batch.slice(0, 1));
      expect(late).toMatchObject([{ ok: false, code: 'storage_error' }]);
    } finally {
      await store.close();
    }
  });

  it('indexes without touching the connection’s secure_delete setting (FAST: merges off the send path stay cheap)', async () => {
    const store = open();
    const { request } = await seed(store);
    await store.appendMessages([request('first words'), request('second words')]);
    await store.close();
    const db = new Database(path);
    try {
      db.pragma('secure_delete = FAST');
      const index = new SqliteSearchIndex(db);
      expect(index.catchUp()).toBe(2);
      expect(db.pragma('secure_delete', { simple: true })).toBe(2);
      index.close();
    } finally {
      db.close();
    }
  });

  it('works in memory', async () => {
    const store = new SqliteStore({
      path: ':memory:',
      synchronous: 'NORMAL',
      maxPendingPerUser: MAX_PENDING,
    });
    try {
      const { request } = await seed(store);
      expect(expectStored((await store.appendMessages([request('hi')]))[0]).seq).toBe(1);
    } finally {
      await store.close();
    }
  });
});
