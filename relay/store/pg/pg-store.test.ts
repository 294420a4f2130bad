/**
 * The PostgreSQL store: the same contract suite as SQLite (each test in a fresh schema of one
 * throwaway server), then what only a shared database has to get right: concurrent writers on
 * separate pools ("nodes"), concurrent migrations, the server going away mid-traffic.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, newMessageId } from '../../core/ids.js';
import { PG_MIGRATIONS } from './pg-migrations.js';
import { PgStore, PgStoreError } from './pg-store.js';
import { describeStoreContract, expectStored } from '../store-contract.js';
import { describeChangeContract } from '../store-contract-changes.js';
import type { AppendRequest, AppendResult } from '../../core/store.js';
import { startPostgres, type PostgresServer } from '../../testing/services.js';

/** Small enough that the contract's cap test only needs a handful of messages. */
const MAX_PENDING = 5;

let server: PostgresServer;
let admin: pg.Pool;
let schemas = 0;

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Pool({ connectionString: server.url, max: 2 });
  // The server stops at the end while the pool may still be closing: not an error of any test.
  admin.on('error', () => undefined);
  admin.on('connect', (client) => client.on('error', () => undefined));
}, 60_000);

afterAll(async () => {
  await admin?.end();
  await server?.remove();
});

function freshSchema(): string {
  schemas += 1;
  return `t${schemas}_${newId()
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
}

async function openStore(schema: string = freshSchema()): Promise<PgStore> {
  return PgStore.open({
    connectionString: server.url,
    schema,
    maxPendingPerUser: MAX_PENDING,
  });
}

async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

const openPg = async () => {
  const schema = freshSchema();
  const store = await openStore(schema);
  return {
    store,
    maxPendingPerUser: MAX_PENDING,
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
};

describeStoreContract('PgStore (PostgreSQL)', openPg);
describeChangeContract('PgStore (PostgreSQL)', openPg);

describe('PgStore specifics', () => {
  async function seed(store: PgStore, members = 1) {
    const now = new Date('2030-01-01T00:00:00.000Z');
    const ana = await store.createUser({ id: newId(), name: 'Ana', now });
    if (ana === null) throw new Error('fixture user was not created');
    const chat = await store.createChat({
      id: newId(),
      name: 'general',
      visibility: 'public',
      ephemeralTtlS: null,
      isMain: false,
      createdBy: ana.id,
      now,
    });
    const others = [];
    for (let i = 0; i < members; i += 1) {
      const user = await store.createUser({ id: newId(), name: `Member ${i}`, now });
      if (user === null) throw new Error('fixture user was not created');
      await store.addMember(chat.id, user.id, now);
      others.push(user);
    }
    const request = (
      content: string,
      input: { senderId?: string; ref?: string; notify?: string[] } = {},
    ): AppendRequest => ({
      messageId: newMessageId(),
      chatId: chat.id,
      senderId: input.senderId ?? ana.id,
      content,
      mobileRefId: input.ref ?? `ref-${content}`,
      now,
      notifyUserIds: input.notify ?? [],
      mentionedUserIds: [],
      originConnectionId: null,
    });
    return { ana, chat, others, now, request };
  }

  it('migrates a fresh schema to the latest version, and again is a no-op', async () => {
    const schema = freshSchema();
    const first = await openStore(schema);
    const second = await openStore(schema);
    try {
      expect(await first.schemaVersion()).toBe(PG_MIGRATIONS.length);
      expect(await second.schemaVersion()).toBe(PG_MIGRATIONS.length);
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM ${schema}.schema_migrations`,
      );
      expect(rows[0]).toEqual({ n: PG_MIGRATIONS.length });
    } finally {
      await first.close();
      await second.close();
      await dropSchema(schema);
    }
  });

  it('applies migrations once when several nodes start at the same moment', async () => {
    const schema = freshSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(schema)));
    try {
      const { rows } = await admin.query(
        `SELECT version, count(*)::int AS n FROM ${schema}.schema_migrations GROUP BY version ORDER BY version`,
      );
      expect(rows).toEqual(PG_MIGRATIONS.map((_, index) => ({ version: index + 1, n: 1 })));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await dropSchema(schema);
    }
  });

  it('refuses a schema written by a newer relay, and leaves it untouched', async () => {
    const schema = freshSchema();
    const store = await openStore(schema);
    await store.close();
    const newer = PG_MIGRATIONS.length + 1;
    await admin.query(`INSERT INTO ${schema}.schema_migrations (version) VALUES ($1)`, [newer]);
    try {
      const error = await openStore(schema).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(PgStoreError);
      expect(error).toMatchObject({
        code: 'ERR_PG_SCHEMA_NEWER',
        message: `database schema version ${newer} is newer than this relay understands (${PG_MIGRATIONS.length})`,
      });
      const { rows } = await admin.query(
        `SELECT max(version) AS v FROM ${schema}.schema_migrations`,
      );
      expect(rows[0]).toEqual({ v: newer });
    } finally {
      await dropSchema(schema);
    }
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(
      PgStore.open({ connectionString: server.url, schema: 'x; DROP', maxPendingPerUser: 1 }),
    ).rejects.toMatchObject({ code: 'ERR_PG_OPTION' });
  });

  it('keeps one main room when two fresh nodes create it at once', async () => {
    const schema = freshSchema();
    const [a, b] = [await openStore(schema), await openStore(schema)];
    try {
      const now = new Date();
      const main = (id: string) =>
        ({
          id,
          name: 'general',
          visibility: 'public',
          ephemeralTtlS: null,
          isMain: true,
          createdBy: null,
          now,
        }) as const;
      const [first, second] = await Promise.all([
        a.createChat(main(newId())),
        b.createChat(main(newId())),
      ]);
      expect(second.id).toBe(first.id);
      expect((await a.listPublicChats(10)).length).toBe(1);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  });

  it('numbers one chat gap-free while four nodes append concurrently', async () => {
    const schema = freshSchema();
    const nodes = [await openStore(schema)];
    try {
      const { chat, others, request } = await seed(nodes[0] as PgStore, 4);
      for (let i = 0; i < 3; i += 1) nodes.push(await openStore(schema));
      const senders = others.map((user) => user.id);
      // Each node sends 25 batches of 1 to 8 messages, all at once, with a resend mixed in.
      const results = await Promise.all(
        nodes.map(async (node, n) => {
          const mine: AppendResult[] = [];
          const batches = Array.from({ length: 25 }, (_, b) =>
            Array.from({ length: 1 + ((b * 7 + n) % 8) }, (_, i) =>
              request(`n${n}-b${b}-${i}`, { senderId: senders[n] ?? '' }),
            ),
          );
          await Promise.all(
            batches.map(async (batch) => {
              mine.push(...(await node.appendMessages(batch)));
              // A client that lost its ack resends through another node: a duplicate, not new.
              const [again] = await (nodes[(n + 1) % nodes.length] as PgStore).appendMessages([
                batch[0] as AppendRequest,
              ]);
              expect(again).toMatchObject({ ok: true, duplicate: true });
            }),
          );
          return mine;
        }),
      );
      const all = results.flat().map(expectStored);
      const seqs = all.map((message) => message.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(all.map((_, index) => index + 1));
      const history = await (nodes[1] as PgStore).messagesAfter(chat.id, 0, 10_000, new Date());
      expect(history.map((message) => message.seq)).toEqual(seqs);
      expect((await (nodes[2] as PgStore).getChat(chat.id))?.last_seq).toBe(all.length);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
      await dropSchema(schema);
    }
  });

  it('stores a resend once when two nodes get it at the same moment', async () => {
    const schema = freshSchema();
    const a = await openStore(schema);
    const b = await openStore(schema);
    try {
      const { chat, request } = await seed(a);
      for (let round = 0; round < 20; round += 1) {
        const original = request(`resend ${round}`);
        // Each node makes its own message id, as relays do.
        const [[x], [y]] = await Promise.all([
          a.appendMessages([original]),
          b.appendMessages([{ ...original, messageId: newMessageId() }]),
        ]);
        const results = [expectStored(x), expectStored(y)];
        expect(results[0]).toEqual(results[1]);
        expect([x, y].filter((result) => result?.ok === true && result.duplicate)).toHaveLength(1);
      }
      const stored = await a.messagesAfter(chat.id, 0, 100, new Date());
      expect(stored.map((message) => message.seq)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  });

  it('fails a whole batch with storage_error and stores nothing when the database errors midway', async () => {
    const schema = freshSchema();
    const store = await openStore(schema);
    try {
      const { ana, chat, others, request } = await seed(store);
      const ben = others[0]?.id ?? '';
      // Not a constraint: a plain error raised by a trigger on the third message of the batch.
      await admin.query(`CREATE FUNCTION ${schema}.boom() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN IF NEW.content LIKE '%boom%' THEN RAISE EXCEPTION 'boom'; END IF;
        RETURN NEW; END $$`);
      await admin.query(`CREATE TRIGGER boom BEFORE INSERT ON ${schema}.messages
        FOR EACH ROW EXECUTE FUNCTION ${schema}.boom()`);
      const batch = [
        request('one', { notify: [ben] }),
        request('two', { notify: [ben] }),
        request('boom'),
      ];
      const results = await store.appendMessages(batch);
      expect(results.map((result) => !result.ok && result.code)).toEqual([
        'storage_error',
        'storage_error',
        'storage_error',
      ]);
      expect((await store.getChat(chat.id))?.last_seq).toBe(0);
      expect(await store.messagesAfter(chat.id, 0, 10, new Date())).toEqual([]);
      expect(await store.listPending(ben, 10, new Date())).toEqual([]);
      expect(await store.getMembership(chat.id, ana.id)).toEqual({ read_seq: 0 });

      await admin.query(`DROP TRIGGER boom ON ${schema}.messages`);
      const retried = await store.appendMessages(batch);
      expect(retried.map((result) => expectStored(result).seq)).toEqual([1, 2, 3]);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('fails only the message that breaks a constraint, not its batch', async () => {
    const schema = freshSchema();
    const store = await openStore(schema);
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
      await dropSchema(schema);
    }
  });

  it('answers storage_error while the server is down, and works again once it is back', async () => {
    // Its own server: stopping the shared one would break the tests running beside this one.
    const own = await startPostgres();
    const store = await PgStore.open({
      connectionString: own.url,
      maxPendingPerUser: MAX_PENDING,
      connectTimeoutMs: 500,
      onPoolError: () => undefined,
    });
    try {
      const { chat, request } = await seed(store);
      expectStored((await store.appendMessages([request('before')]))[0]);
      await own.stop();
      const during = await store.appendMessages([request('during-1'), request('during-2')]);
      expect(during.map((result) => !result.ok && result.code)).toEqual([
        'storage_error',
        'storage_error',
      ]);
      await expect(store.ping()).rejects.toThrow();
      await own.start();
      const after = await store.appendMessages([request('during-1'), request('after')]);
      expect(after.map((result) => expectStored(result).seq)).toEqual([2, 3]);
      const history = await store.messagesAfter(chat.id, 0, 10, new Date());
      expect(history.map((message) => message.content)).toEqual(['before', 'during-1', 'after']);
    } finally {
      await store.close();
      await own.remove();
    }
  });

  it('answers storage_error for every message instead of throwing once closed', async () => {
    const schema = freshSchema();
    const store = await openStore(schema);
    const { request } = await seed(store);
    await store.close();
    const results = await store.appendMessages([request('late'), request('later')]);
    expect(results.map((result) => !result.ok && result.code)).toEqual([
      'storage_error',
      'storage_error',
    ]);
    await dropSchema(schema);
  });
});
