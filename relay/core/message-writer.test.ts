import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, newMessageId } from './ids.js';
import { MessageWriter, type MessageWriterOptions } from './message-writer.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { AppendRequest, AppendResult } from './store.js';

/**
 * The real SQLite store, answering a turn of the event loop later (as a networked database
 * would) and recording every batch the writer hands it.
 */
class RecordingStore extends SqliteStore {
  readonly batches: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Runs once, while the next batch is being committed. */
  duringCommit: (() => void) | null = null;
  /** Makes the next batch fail as a whole, as a lost database connection would. */
  failNext: Error | null = null;

  override async appendMessages(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    this.batches.push(requests.length);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const hook = this.duringCommit;
      this.duringCommit = null;
      hook?.();
      await new Promise((resolve) => setImmediate(resolve));
      const failure = this.failNext;
      this.failNext = null;
      if (failure !== null) throw failure;
      return await super.appendMessages(requests);
    } finally {
      this.inFlight -= 1;
    }
  }
}

type Committed = Parameters<MessageWriterOptions['onCommitted']>;

describe('MessageWriter', () => {
  let store: RecordingStore;
  let chatId: string;
  let senderId: string;
  let committed: Committed[];
  let errors: unknown[];

  beforeEach(async () => {
    store = new RecordingStore({ path: ':memory:', synchronous: 'NORMAL', maxPendingPerUser: 10 });
    const now = new Date();
    const sender = await store.createUser({ id: newId(), name: 'Ana', now });
    if (sender === null) throw new Error('fixture user was not created');
    senderId = sender.id;
    chatId = (
      await store.createChat({
        id: newId(),
        name: 'general',
        visibility: 'public',
        ephemeralTtlS: null,
        isMain: true,
        createdBy: senderId,
        now,
      })
    ).id;
    committed = [];
    errors = [];
  });
  afterEach(async () => {
    await store.close();
  });

  function writer(options: Partial<MessageWriterOptions> = {}): MessageWriter {
    return new MessageWriter({
      store,
      maxQueue: 100,
      onCommitted: (...args) => committed.push(args),
      onError: (error) => errors.push(error),
      ...options,
    });
  }

  function request(mobileRefId: string, content = mobileRefId): AppendRequest {
    return {
      messageId: newMessageId(),
      chatId,
      senderId,
      content,
      mobileRefId,
      now: new Date(),
      notifyUserIds: [],
      mentionedUserIds: [],
      originConnectionId: 'conn-1',
    };
  }

  const seqOf = (result: AppendResult): number | string =>
    result.ok ? result.message.seq : result.code;

  it('commits requests made in the same tick as one batch and answers them in order', async () => {
    const w = writer();
    const answered: string[] = [];
    const pending = ['a', 'b', 'c', 'd'].map((ref) =>
      w.write(request(ref)).then((result) => {
        answered.push(ref);
        return result;
      }),
    );
    expect(w.queued).toBe(4);
    const results = await Promise.all(pending);
    expect(store.batches).toEqual([4]);
    expect(results.map(seqOf)).toEqual([1, 2, 3, 4]);
    expect(answered).toEqual(['a', 'b', 'c', 'd']);
    expect(w.queued).toBe(0);
  });

  it('splits a long queue into batches of at most maxBatch', async () => {
    const w = writer({ maxBatch: 3 });
    const results = await Promise.all(
      Array.from({ length: 7 }, (_, i) => w.write(request(`r${i}`))),
    );
    expect(store.batches).toEqual([3, 3, 1]);
    expect(store.maxInFlight).toBe(1);
    expect(results.map(seqOf)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('queues requests made during a commit for the next batch, one batch at a time', async () => {
    const w = writer();
    const later: Promise<AppendResult>[] = [];
    store.duringCommit = () => {
      later.push(w.write(request('second')), w.write(request('third')));
    };
    const first = await w.write(request('first'));
    expect(seqOf(first)).toBe(1);
    expect((await Promise.all(later)).map(seqOf)).toEqual([2, 3]);
    expect(store.batches).toEqual([1, 2]);
    expect(store.maxInFlight).toBe(1);
  });

  it('calls onCommitted in seq order with the request, and not for duplicates', async () => {
    const w = writer();
    const results = await Promise.all([
      w.write(request('x', 'one')),
      w.write(request('y', 'two')),
      w.write(request('x', 'one again')),
    ]);
    expect(results.map((result) => result.ok && result.duplicate)).toEqual([false, false, true]);
    expect(committed.map(([result, req]) => [result.message.seq, req.mobileRefId])).toEqual([
      [1, 'x'],
      [2, 'y'],
    ]);
    expect(committed.every(([result]) => !result.duplicate)).toBe(true);
    // A retry in a later batch is still not announced again.
    await w.write(request('y'));
    expect(committed).toHaveLength(2);
  });

  it('answers overloaded when the queue is full, without storing the message', async () => {
    const w = writer({ maxQueue: 2 });
    const accepted = [w.write(request('a')), w.write(request('b'))];
    const refused = await w.write(request('c'));
    expect(refused).toMatchObject({ ok: false, code: 'overloaded' });
    expect((await Promise.all(accepted)).map(seqOf)).toEqual([1, 2]);
    expect(store.batches).toEqual([2]);
    expect((await store.getChat(chatId))?.last_seq).toBe(2);
    // Room again once the queue drained.
    expect(seqOf(await w.write(request('c')))).toBe(3);
  });

  it('keeps answering when onCommitted throws, and reports the error', async () => {
    const boom = new Error('broadcast failed');
    const w = writer({
      onCommitted: () => {
        throw boom;
      },
    });
    const results = await Promise.all([w.write(request('a')), w.write(request('b'))]);
    expect(results.map(seqOf)).toEqual([1, 2]);
    expect(errors).toEqual([boom, boom]);
  });

  it('answers storage_error for the whole batch when the store throws, then carries on', async () => {
    const boom = new Error('connection lost');
    store.failNext = boom;
    const w = writer();
    const failed = await Promise.all([w.write(request('a')), w.write(request('b'))]);
    expect(failed.map(seqOf)).toEqual(['storage_error', 'storage_error']);
    expect(errors).toEqual([boom]);
    expect(committed).toEqual([]);
    expect(seqOf(await w.write(request('a')))).toBe(1);
  });

  it('reports a refused batch once with its size, and the next stored batch as storage working', async () => {
    const reports: string[] = [];
    store.failNext = new Error('disk I/O error');
    const w = writer({
      onStorageFailure: (problem, messages) => reports.push(`failed ${problem.code} ${messages}`),
      onStorageOk: () => reports.push('ok'),
    });
    await Promise.all([w.write(request('a')), w.write(request('b')), w.write(request('c'))]);
    expect(reports).toEqual(['failed storage_error 3']);
    expect(seqOf(await w.write(request('a')))).toBe(1);
    expect(reports).toEqual(['failed storage_error 3', 'ok']);
  });

  it('drain() resolves at once when idle, and after every queued request otherwise', async () => {
    const w = writer();
    await w.drain();
    const answered: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      void w.write(request(`r${i}`)).then((result) => answered.push(Number(seqOf(result))));
    }
    await w.drain();
    expect(answered).toEqual([1, 2, 3, 4, 5]);
    expect(w.queued).toBe(0);
  });
});
