import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, newMessageId } from './ids.js';
import { LocalBus, type BusEvent } from './bus.js';
import { MessageWriter, type MessageWriterOptions } from './message-writer.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { AppendRequest, AppendResult, ChangeRequest, ChangeResult } from './store.js';

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

  /** Every store call: its kind and size, in order. */
  readonly calls: string[] = [];

  override async appendMessages(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    this.batches.push(requests.length);
    this.calls.push(`append ${requests.length}`);
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

  override async changeMessages(requests: readonly ChangeRequest[]): Promise<ChangeResult[]> {
    this.calls.push(`change ${requests.length}`);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      return await super.changeMessages(requests);
    } finally {
      this.inFlight -= 1;
    }
  }
}

describe('MessageWriter', () => {
  let store: RecordingStore;
  let chatId: string;
  let senderId: string;
  let bus: LocalBus;
  /** What the writer published, in order. */
  let published: BusEvent[];
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
    bus = new LocalBus();
    published = [];
    bus.subscribe((event) => published.push(event));
    errors = [];
  });
  afterEach(async () => {
    await store.close();
  });

  function writer(options: Partial<MessageWriterOptions> = {}): MessageWriter {
    return new MessageWriter({
      store,
      bus,
      maxQueue: 100,
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

  it('publishes stored messages in seq order with their origin, and not duplicates', async () => {
    const counted: string[] = [];
    const w = writer({ onCommitted: (kind) => counted.push(kind) });
    const results = await Promise.all([
      w.write(request('x', 'one')),
      w.write(request('y', 'two')),
      w.write(request('x', 'one again')),
    ]);
    expect(results.map((result) => result.ok && result.duplicate)).toEqual([false, false, true]);
    expect(
      published.map((event) =>
        event.type === 'message'
          ? [event.message.seq, event.message.mobile_ref_id, event.originConnectionId]
          : event.type,
      ),
    ).toEqual([
      [1, 'x', 'conn-1'],
      [2, 'y', 'conn-1'],
    ]);
    expect(counted).toEqual(['message', 'message']);
    // A retry in a later batch is still not announced again.
    await w.write(request('y'));
    expect(published).toHaveLength(2);
  });

  function edit(messageId: string, refId: string, content: string): ChangeRequest {
    return {
      kind: 'edit',
      chatId,
      messageId,
      actorId: senderId,
      content,
      refId,
      now: new Date(),
      originConnectionId: 'conn-1',
    };
  }

  it('stores sends and changes in arrival order, one store call per run of one kind', async () => {
    const w = writer();
    const first = await w.write(request('a'));
    if (!first.ok) throw new Error(`fixture send failed: ${first.code}`);
    const id = first.message.message_id;
    store.calls.length = 0;
    published.length = 0;
    const results = await Promise.all([
      w.write(request('b')),
      w.change(edit(id, 'e1', 'a, edited')),
      w.change(edit(id, 'e2', 'a, edited twice')),
      w.write(request('c')),
      w.change({
        kind: 'delete',
        chatId,
        messageId: id,
        actorId: senderId,
        now: new Date(),
        originConnectionId: null,
      }),
    ]);
    expect(store.calls).toEqual(['append 1', 'change 2', 'append 1', 'change 1']);
    expect(store.maxInFlight).toBe(1);
    const seqs = results.map((result) =>
      !result.ok ? result.code : 'event' in result ? result.event.seq : result.message.seq,
    );
    expect(seqs).toEqual([2, 3, 4, 5, 6]);
    expect(published.map((event) => event.type)).toEqual([
      'message',
      'change',
      'change',
      'message',
      'change',
    ]);
    const last = published.at(-1);
    expect(last?.type === 'change' && last.event.type).toBe('message_deleted');
    expect(last?.type === 'change' && last.originConnectionId).toBeNull();
  });

  it('publishes no change for a retried edit, and answers it as a duplicate', async () => {
    const w = writer();
    const sent = await w.write(request('a'));
    if (!sent.ok) throw new Error(`fixture send failed: ${sent.code}`);
    const first = await w.change(edit(sent.message.message_id, 'e1', 'new text'));
    const again = await w.change(edit(sent.message.message_id, 'e1', 'new text'));
    expect(first.ok && again.ok && [first.duplicate, again.duplicate]).toEqual([false, true]);
    expect(first.ok && again.ok && again.event.seq === first.event.seq).toBe(true);
    expect(published.map((event) => event.type)).toEqual(['message', 'change']);
    expect((await store.getChat(chatId))?.last_seq).toBe(2);
  });

  it('answers a change overloaded when the queue is full, behind the sends before it', async () => {
    const w = writer({ maxQueue: 1 });
    const accepted = w.write(request('a'));
    const refused = await w.change(edit('no-such-message', 'e1', 'text'));
    expect(refused).toMatchObject({ ok: false, code: 'overloaded' });
    expect(seqOf(await accepted)).toBe(1);
    expect(store.calls).toEqual(['append 1']);
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

  it('keeps answering when publishing throws, and reports the error', async () => {
    const boom = new Error('broadcast failed');
    bus.subscribe(() => {
      throw boom;
    });
    const w = writer();
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
    expect(published).toEqual([]);
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
