/**
 * Sends, edits and deletes through one ordered, persisted outbox (MessageActions + OutboxSender),
 * with a scripted channel standing in for `chat:<id>`: what goes on the wire, in which order,
 * with which ref_ids, across a restart, and what each answer does to the store.
 */
import type { Channel } from 'phoenix';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatEvent, MessageChanged } from '../../relay/protocol/events.js';
import { ChatSync } from './chat-sync.js';
import { MessageActions } from './message-actions.js';
import { Outbox } from './outbox.js';
import { OutboxSender, type ChangeFailure } from './outbox-sender.js';
import { MemoryStorage } from './storage.js';
import { CHAT, ME, deleted, edited, message, shown, storeWith } from './test-fixtures.js';

type Status = 'ok' | 'error' | 'timeout';

interface Pushed {
  event: string;
  payload: Record<string, unknown>;
  answer: (status: Status, response?: unknown) => void;
}

/** A joined channel that records pushes; each is answered by the test. */
class ScriptedChannel {
  readonly state = 'joined';
  readonly pushes: Pushed[] = [];

  push(event: string, payload: Record<string, unknown>) {
    const handlers = new Map<Status, (response: unknown) => void>();
    const push = {
      receive(status: Status, handle: (response: unknown) => void) {
        handlers.set(status, handle);
        return push;
      },
    };
    this.pushes.push({
      event,
      payload,
      answer: (status, response) => handlers.get(status)?.(response),
    });
    return push;
  }

  /** The pushes so far as [event, content or message id]. */
  wire(): [string, unknown][] {
    return this.pushes.map((p) => [p.event, p.payload.content ?? p.payload.message_id]);
  }
}

function changedReply(event: ChatEvent): MessageChanged {
  const base = message(event.message_seq, event.type === 'message_edited' ? event.content : '');
  return {
    message: {
      ...base,
      version_seq: event.seq,
      ...(event.type === 'message_edited'
        ? { edited_at: event.edited_at }
        : { deleted_at: event.deleted_at }),
    },
    event,
    duplicate: false,
  };
}

/** Lets the send loop take its next steps (it awaits each push's answer; retries wait 200 ms+). */
const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

function client(
  storage = new MemoryStorage(),
  store = storeWith([message(1, 'first'), message(2, 'second')], 2),
) {
  let online: ScriptedChannel | null = null;
  const failures: ChangeFailure[] = [];
  const sync = new ChatSync(store, () => null);
  const sender = new OutboxSender({
    store,
    sync,
    pushTimeoutMs: 1_000,
    backoff: () => 0,
    channel: () => online as unknown as Channel | null,
    onChangeFailed: (failure) => failures.push(failure),
  });
  sender.use(new Outbox(storage, ME.id));
  const actions = new MessageActions(store, sender);
  actions.restore();
  return {
    store,
    storage,
    sender,
    actions,
    failures,
    goOnline(): ScriptedChannel {
      online = new ScriptedChannel();
      void sender.flush();
      return online;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('edits and deletes through the outbox', () => {
  it('rewrites a message still in the outbox, without the network, and sends the new text', async () => {
    const c = client();
    const sent = c.actions.send(CHAT, 'helo wrld');
    if (!sent.ok) throw new Error(sent.code);
    expect(c.actions.edit(CHAT, { mobileRefId: sent.mobileRefId }, 'hello world')).toEqual({
      ok: true,
      refId: null,
    });
    const pending = c.store.getState().timelines[CHAT]?.pending ?? [];
    expect(pending.map((m) => m.content)).toEqual(['hello world']);
    expect(c.sender.outbox?.items()).toMatchObject([{ content: 'hello world' }]);
    const channel = c.goOnline();
    await tick();
    expect(channel.wire()).toEqual([['send_message', 'hello world']]);
  });

  it('drops a message still in the outbox when it is deleted, without the network', async () => {
    const c = client();
    const kept = c.actions.send(CHAT, 'keep');
    const dropped = c.actions.send(CHAT, 'oops');
    if (!dropped.ok || !kept.ok) throw new Error('not queued');
    expect(c.actions.delete(CHAT, { mobileRefId: dropped.mobileRefId })).toEqual({
      ok: true,
      refId: null,
    });
    expect(c.store.getState().timelines[CHAT]?.pending.map((m) => m.content)).toEqual(['keep']);
    expect(c.store.getState().outboxCount).toBe(1);
    const channel = c.goOnline();
    await tick();
    expect(channel.wire()).toEqual([['send_message', 'keep']]);
  });

  it('sends edits and deletes queued offline in order with the sends around them, after a restart, each once', async () => {
    const storage = new MemoryStorage();
    const before = client(storage);
    before.actions.send(CHAT, 'one');
    const edit = before.actions.edit(CHAT, { messageId: 'm1' }, 'first, fixed');
    before.actions.send(CHAT, 'two');
    const del = before.actions.delete(CHAT, { messageId: 'm2' });
    if (!edit.ok || !del.ok) throw new Error('not queued');
    before.sender.stop();

    // The app restarts: the outbox is read back from storage.
    const c = client(storage);
    expect(c.store.getState().outboxCount).toBe(4);
    const channel = c.goOnline();
    await tick();
    channel.pushes[0]?.answer('ok', sentReply('one', 3));
    await tick();
    // The edit's answer is lost: it is sent again with the same ref_id.
    channel.pushes[1]?.answer('timeout');
    await tick(1_000);
    expect(channel.pushes.map((p) => p.payload.ref_id)).toEqual([
      undefined,
      edit.refId,
      edit.refId,
    ]);
    channel.pushes[2]?.answer('ok', changedReply(edited(4, 1, 'first, fixed')));
    await tick();
    channel.pushes[3]?.answer('ok', sentReply('two', 5));
    await tick();
    channel.pushes[4]?.answer('ok', changedReply(deleted(6, 2)));
    await tick();
    expect(channel.wire()).toEqual([
      ['send_message', 'one'],
      ['edit_message', 'first, fixed'],
      ['edit_message', 'first, fixed'],
      ['send_message', 'two'],
      ['delete_message', 'm2'],
    ]);
    expect(shown(c.store)).toEqual([
      [1, 'first, fixed', true, false],
      [2, '', false, true],
      [3, 'one', false, false],
      [5, 'two', false, false],
    ]);
    expect(c.store.getState().outboxCount).toBe(0);
    expect(new Outbox(storage, ME.id).size).toBe(0);
  });

  it('an edit made while its message is being sent follows it, with the id the relay gave', async () => {
    const c = client();
    const channel = c.goOnline();
    const sent = c.actions.send(CHAT, 'draft');
    if (!sent.ok) throw new Error(sent.code);
    await tick();
    expect(c.sender.inFlight(sent.mobileRefId)).toBe(true);
    const edit = c.actions.edit(CHAT, { mobileRefId: sent.mobileRefId }, 'final');
    expect(edit.ok && edit.refId !== null).toBe(true);
    channel.pushes[0]?.answer('ok', sentReply('draft', 3, 'm-new'));
    await tick();
    expect(channel.pushes[1]).toMatchObject({
      event: 'edit_message',
      payload: { message_id: 'm-new', content: 'final' },
    });
  });

  it('drops an edit or delete the relay refuses for good and reports it; retries one it refuses for now', async () => {
    const c = client();
    const channel = c.goOnline();
    c.actions.edit(CHAT, { messageId: 'm1' }, 'not mine');
    c.actions.delete(CHAT, { messageId: 'm2' });
    await tick(0);
    channel.pushes[0]?.answer('error', { reason: 'forbidden', message: 'not yours' });
    await tick(0);
    channel.pushes[1]?.answer('error', { reason: 'rate_limited' });
    await tick(1_000);
    expect(channel.wire()).toEqual([
      ['edit_message', 'not mine'],
      ['delete_message', 'm2'],
      ['delete_message', 'm2'],
    ]);
    expect(c.failures).toMatchObject([
      { kind: 'edit', code: 'forbidden', message: 'not yours', target: { messageId: 'm1' } },
    ]);
    channel.pushes[2]?.answer('error', { reason: 'message_expired' });
    await tick(0);
    expect(c.failures.map((f) => [f.kind, f.code])).toEqual([
      ['edit', 'forbidden'],
      ['delete', 'message_expired'],
    ]);
    expect(c.store.getState().outboxCount).toBe(0);
    expect(shown(c.store)).toEqual([
      [1, 'first', false, false],
      [2, 'second', false, false],
    ]);
  });

  it('drops an edit a relay without the event stream does not know, and the sends behind it go on', async () => {
    const c = client();
    const channel = c.goOnline();
    c.actions.edit(CHAT, { messageId: 'm1' }, 'edited');
    c.actions.send(CHAT, 'after');
    await tick();
    channel.pushes[0]?.answer('error', { reason: 'unknown_event' });
    await tick();
    expect(channel.wire()).toEqual([
      ['edit_message', 'edited'],
      ['send_message', 'after'],
    ]);
    expect(c.failures.map((f) => f.code)).toEqual(['unknown_event']);
  });

  it('refuses an empty or too long edit before queueing it', () => {
    const c = client();
    expect(c.actions.edit(CHAT, { messageId: 'm1' }, '   ')).toEqual({ ok: false, code: 'empty' });
    expect(c.actions.edit(CHAT, { messageId: 'm1' }, 'x'.repeat(100_001))).toEqual({
      ok: false,
      code: 'too_long',
    });
    expect(c.actions.edit(CHAT, { mobileRefId: 'never-sent' }, 'x')).toEqual({
      ok: false,
      code: 'not_found',
    });
    expect(c.sender.outbox?.size).toBe(0);
  });
});

function sentReply(content: string, seq: number, messageId = `m${seq}`) {
  return {
    mobile_ref_id: `unused-${content}`,
    status: 'sent',
    chat_id: CHAT,
    message_id: messageId,
    seq,
    timestamp: new Date().toISOString(),
  };
}
