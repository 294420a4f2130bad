/**
 * Editing and deleting messages through the client layer against a real relay (real SQLite,
 * real sockets): live to the other user, caught up on resume from the join reply's events,
 * queued while the relay is down and applied once after, refused for someone else's message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { HistoryPage } from '../../relay/protocol/events.js';
import {
  api,
  removeDir,
  startTestRelay,
  until,
  type TestRelay,
} from '../../relay/testing/relay-harness.js';
import { createParleyStore, type ParleyStore } from '../state/store.js';
import { ParleyClient, type ChangeFailure } from './parley-client.js';
import { MemoryStorage, type KeyValueStorage } from './storage.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Running {
  client: ParleyClient;
  store: ParleyStore;
  storage: KeyValueStorage;
  failures: ChangeFailure[];
}

async function relayUp(options: { port?: number; dataDir?: string } = {}): Promise<TestRelay> {
  const relay = await startTestRelay({ limits: { sessionAttemptsPerMinute: 10_000 }, ...options });
  cleanups.push(() => relay.close());
  return relay;
}

async function signedIn(relay: TestRelay, name: string): Promise<Running> {
  const store = createParleyStore();
  const storage = new MemoryStorage();
  const client = new ParleyClient({
    store,
    storage,
    transport: WebSocket as unknown as typeof globalThis.WebSocket,
    backoff: { baseMs: 20, capMs: 200 },
    pushTimeoutMs: 2_000,
  });
  cleanups.push(() => client.stop());
  const failures: ChangeFailure[] = [];
  client.onChangeFailed((failure) => failures.push(failure));
  expect((await client.signIn({ serverUrl: relay.url, name })).ok).toBe(true);
  await until(() => store.getState().status === 'online', 5_000, `${name} online`);
  return { client, store, storage, failures };
}

function mainChatId(store: ParleyStore): string {
  const main = Object.values(store.getState().chats).find((c) => c.is_main);
  if (main === undefined) throw new Error('no main room');
  return main.id;
}

/** The chat's messages as [content, edited?, deleted?]. */
function shown(store: ParleyStore, chatId: string): [string, boolean, boolean][] {
  return (store.getState().timelines[chatId]?.messages ?? []).map((m) => [
    m.content,
    m.edited_at !== null,
    m.deleted_at !== null,
  ]);
}

function idOf(store: ParleyStore, chatId: string, content: string): string {
  const found = store.getState().timelines[chatId]?.messages.find((m) => m.content === content);
  if (found === undefined) throw new Error(`no message "${content}"`);
  return found.message_id;
}

function tokenOf(running: Running): string {
  return (JSON.parse(running.storage.get('parley.session') ?? '{}') as { token: string }).token;
}

async function bothIn(relay: TestRelay) {
  const ana = await signedIn(relay, 'Ana');
  const ben = await signedIn(relay, 'Ben');
  const chatId = mainChatId(ana.store);
  await until(
    () =>
      ana.store.getState().timelines[chatId] !== undefined &&
      ben.store.getState().timelines[chatId] !== undefined,
  );
  return { ana, ben, chatId };
}

describe('editing and deleting against a real relay', () => {
  it('shows an edit and a delete live to the other user, and to a user who resumes after them', async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    const { ana, ben, chatId } = await bothIn(relay);
    for (const text of ['helo', 'secret', 'third']) ana.client.send(chatId, text);
    await until(() => shown(ben.store, chatId).length === 3, 5_000, 'sent');

    expect(
      ana.client.editMessage(chatId, { messageId: idOf(ana.store, chatId, 'helo') }, 'hello'),
    ).toMatchObject({ ok: true });
    expect(
      ana.client.deleteMessage(chatId, { messageId: idOf(ana.store, chatId, 'secret') }),
    ).toMatchObject({ ok: true });
    const expected: [string, boolean, boolean][] = [
      ['hello', true, false],
      ['', false, true],
      ['third', false, false],
    ];
    await until(
      () => JSON.stringify(shown(ben.store, chatId)) === JSON.stringify(expected),
      5_000,
      'live',
    );
    await until(
      () => JSON.stringify(shown(ana.store, chatId)) === JSON.stringify(expected),
      5_000,
      'own',
    );
    expect(ben.store.getState().timelines[chatId]?.syncedSeq).toBe(5);

    // Ben is away while Ana edits again; he resumes from seq 5 and gets the change as an event.
    ben.client.stop();
    ana.client.editMessage(
      chatId,
      { messageId: idOf(ana.store, chatId, 'third') },
      'third, edited',
    );
    await until(() => shown(ana.store, chatId)[2]?.[0] === 'third, edited', 5_000, 'edited');
    const saved = ben.client.savedSession();
    if (saved === null) throw new Error('no session');
    await ben.client.start(saved);
    await until(() => shown(ben.store, chatId)[2]?.[0] === 'third, edited', 5_000, 'resumed');
    expect(ben.store.getState().timelines[chatId]?.syncedSeq).toBe(6);
    expect(JSON.stringify(ben.store.getState())).not.toContain('secret');
  });

  it('applies an edit and a delete queued while the relay was down once each, in order with the sends', async () => {
    let relay = await relayUp();
    const { port, dataDir } = relay;
    cleanups.push(() => removeDir(dataDir));
    const { ana, ben, chatId } = await bothIn(relay);
    ana.client.send(chatId, 'one');
    ana.client.send(chatId, 'two');
    await until(() => shown(ben.store, chatId).length === 2, 5_000, 'sent');
    const one = idOf(ana.store, chatId, 'one');
    const two = idOf(ana.store, chatId, 'two');

    await relay.close();
    await until(() => ana.store.getState().status === 'offline', 5_000, 'offline');
    ana.client.editMessage(chatId, { messageId: one }, 'one, fixed');
    ana.client.send(chatId, 'three');
    ana.client.deleteMessage(chatId, { messageId: two });
    expect(ana.store.getState().outboxCount).toBe(3);

    relay = await relayUp({ port, dataDir });
    await until(() => ana.store.getState().outboxCount === 0, 10_000, 'outbox flushed');
    const expected = [
      ['one, fixed', true, false],
      ['', false, true],
      ['three', false, false],
    ];
    await until(
      () => JSON.stringify(shown(ben.store, chatId)) === JSON.stringify(expected),
      10_000,
      'ben',
    );
    const stream = await api<HistoryPage>(
      relay,
      tokenOf(ana),
      'GET',
      `/api/chats/${chatId}/messages?after_seq=0`,
    );
    expect(stream.body.events.map((e) => [e.seq, e.type])).toEqual([
      [3, 'message_edited'],
      [5, 'message_deleted'],
    ]);
    expect(stream.body.messages.map((m) => [m.seq, m.content])).toEqual([
      [1, 'one, fixed'],
      [2, ''],
      [4, 'three'],
    ]);
  });

  it("refuses to edit or delete someone else's message, and says so", async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    const { ana, ben, chatId } = await bothIn(relay);
    ana.client.send(chatId, 'mine');
    await until(() => shown(ben.store, chatId).length === 1, 5_000, 'sent');
    const id = idOf(ben.store, chatId, 'mine');
    ben.client.editMessage(chatId, { messageId: id }, 'yours now');
    ben.client.deleteMessage(chatId, { messageId: id });
    await until(() => ben.failures.length === 2, 5_000, 'refusals');
    expect(ben.failures.map((f) => [f.kind, f.code])).toEqual([
      ['edit', 'forbidden'],
      ['delete', 'forbidden'],
    ]);
    expect(ben.store.getState().outboxCount).toBe(0);
    expect(shown(ana.store, chatId)).toEqual([['mine', false, false]]);
  });
});
