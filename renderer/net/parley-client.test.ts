/**
 * The client layer against a real relay (real SQLite, real sockets) in Node: optimistic sends,
 * the outbox across relay outages and app restarts, resume by seq, gap backfill, typing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { ChatSummary, WireMessage } from '../../relay/protocol/events.js';
import {
  api,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type TestRelay,
} from '../../relay/testing/relay-harness.js';
import { rewritingWebSocket, tappedWebSocket } from '../../relay/testing/tapped-websocket.js';
import { createParleyStore, type ParleyStore } from '../state/store.js';
import { visibleMessages } from '../state/selectors.js';
import { persistHistory, type HistorySink } from './history-cache.js';
import { ParleyClient } from './parley-client.js';
import { MemoryStorage, type KeyValueStorage } from './storage.js';

const FAST = { baseMs: 20, capMs: 200 };
const LIMITS = { sessionAttemptsPerMinute: 10_000 };

interface Running {
  client: ParleyClient;
  store: ParleyStore;
  storage: KeyValueStorage;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function relayUp(options: { port?: number; dataDir?: string } = {}): Promise<TestRelay> {
  const relay = await startTestRelay({ limits: LIMITS, ...options });
  cleanups.push(() => relay.close());
  return relay;
}

function newClient(
  storage: KeyValueStorage = new MemoryStorage(),
  transport: typeof globalThis.WebSocket = WebSocket as unknown as typeof globalThis.WebSocket,
): Running {
  const store = createParleyStore();
  const client = new ParleyClient({
    store,
    storage,
    transport,
    backoff: FAST,
    pushTimeoutMs: 2_000,
  });
  cleanups.push(() => client.stop());
  return { client, store, storage };
}

async function signedIn(
  relay: TestRelay,
  name: string,
  running: Running = newClient(),
): Promise<Running> {
  const result = await running.client.signIn({ serverUrl: relay.url, name });
  expect(result.ok).toBe(true);
  await until(() => running.store.getState().status === 'online', 5_000, `${name} online`);
  return running;
}

function mainChatId(store: ParleyStore): string {
  const main = Object.values(store.getState().chats).find((c) => c.is_main);
  if (main === undefined) throw new Error('no main room');
  return main.id;
}

function contents(store: ParleyStore, chatId: string): string[] {
  const timeline = store.getState().timelines[chatId];
  return timeline === undefined ? [] : visibleMessages(timeline).map((m) => m.content);
}

function joined(store: ParleyStore, chatId: string): boolean {
  return (
    (store.getState().timelines[chatId]?.syncedSeq ?? -1) >= 0 &&
    store.getState().timelines[chatId] !== undefined
  );
}

describe('ParleyClient against a real relay', () => {
  it('shows a send at once as pending, then sent, and the other user receives it once', async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    const ana = await signedIn(relay, 'Ana');
    const ben = await signedIn(relay, 'Ben');
    const chatId = mainChatId(ana.store);
    await until(() => joined(ana.store, chatId) && joined(ben.store, chatId));

    const sent = ana.client.send(chatId, 'hello ben');
    expect(sent.ok).toBe(true);
    const pendingNow = ana.store.getState().timelines[chatId]?.pending ?? [];
    expect(pendingNow.map((m) => [m.content, m.status])).toEqual([['hello ben', 'pending']]);

    await until(
      () => (ana.store.getState().timelines[chatId]?.pending.length ?? 1) === 0,
      5_000,
      'ack',
    );
    await until(() => contents(ben.store, chatId).includes('hello ben'), 5_000, 'delivery');
    expect(contents(ana.store, chatId)).toEqual(['hello ben']);
    expect(contents(ben.store, chatId)).toEqual(['hello ben']);
    expect(ana.store.getState().timelines[chatId]?.messages[0]).toMatchObject({
      status: 'sent',
      seq: 1,
    });
    expect(ana.store.getState().outboxCount).toBe(0);
    // Ben's unread count went up while he was not looking at the chat.
    ben.client.openChat(null);
    ana.client.send(chatId, 'are you there?');
    await until(
      () => (ben.store.getState().chats[chatId]?.unread_count ?? 0) >= 1,
      5_000,
      'unread',
    );
    ben.client.openChat(chatId);
    expect(ben.store.getState().chats[chatId]?.unread_count).toBe(0);
  });

  it('queues sends while the relay is down and delivers each exactly once, in order, after it returns', async () => {
    let relay = await relayUp();
    const { port, dataDir } = relay;
    cleanups.push(() => removeDir(dataDir));
    const ana = await signedIn(relay, 'Ana');
    const ben = await signedIn(relay, 'Ben');
    const chatId = mainChatId(ana.store);
    await until(() => joined(ana.store, chatId) && joined(ben.store, chatId));

    await relay.close();
    await until(() => ana.store.getState().status === 'offline', 5_000, 'offline');
    for (const n of [1, 2, 3]) expect(ana.client.send(chatId, `queued ${n}`).ok).toBe(true);
    expect(ana.store.getState().outboxCount).toBe(3);
    expect(ana.store.getState().timelines[chatId]?.pending.map((m) => m.status)).toEqual([
      'pending',
      'pending',
      'pending',
    ]);

    relay = await relayUp({ port, dataDir });
    await until(() => ana.store.getState().outboxCount === 0, 10_000, 'outbox flushed');
    await until(() => contents(ben.store, chatId).length === 3, 10_000, 'ben caught up');
    expect(contents(ana.store, chatId)).toEqual(['queued 1', 'queued 2', 'queued 3']);
    expect(contents(ben.store, chatId)).toEqual(['queued 1', 'queued 2', 'queued 3']);
    const history = await api<{ messages: WireMessage[] }>(
      relay,
      (JSON.parse(ana.storage.get('parley.session') ?? '{}') as { token: string }).token,
      'GET',
      `/api/chats/${chatId}/messages?limit=50`,
    );
    expect(history.body.messages.map((m) => [m.seq, m.content])).toEqual([
      [1, 'queued 1'],
      [2, 'queued 2'],
      [3, 'queued 3'],
    ]);
  });

  it('resends the outbox after the app itself restarts, exactly once', async () => {
    let relay = await relayUp();
    const { port, dataDir } = relay;
    cleanups.push(() => removeDir(dataDir));
    const storage = new MemoryStorage();
    const first = await signedIn(relay, 'Ana', newClient(storage));
    const chatId = mainChatId(first.store);
    await until(() => joined(first.store, chatId));
    await relay.close();
    await until(() => first.store.getState().status === 'offline');
    first.client.send(chatId, 'written before the crash');
    first.client.send(chatId, 'and another');
    first.client.stop();

    relay = await relayUp({ port, dataDir });
    const second = newClient(storage);
    expect(await second.client.resume()).toBe(true);
    expect(second.store.getState().outboxCount).toBe(2);
    await until(
      () => second.store.getState().outboxCount === 0,
      10_000,
      'outbox flushed after restart',
    );
    const session = JSON.parse(storage.get('parley.session') ?? '{}') as { token: string };
    const history = await api<{ messages: WireMessage[] }>(
      relay,
      session.token,
      'GET',
      `/api/chats/${chatId}/messages`,
    );
    expect(history.body.messages.map((m) => m.content)).toEqual([
      'written before the crash',
      'and another',
    ]);
  });

  it('resumes every chat from its last seq after a disconnect, without duplicates', async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    const ana = await signedIn(relay, 'Ana');
    const ben = await signedIn(relay, 'Ben');
    const chatId = mainChatId(ben.store);
    await until(() => joined(ana.store, chatId) && joined(ben.store, chatId));
    ana.client.send(chatId, 'before');
    await until(() => contents(ben.store, chatId).length === 1);

    ben.client.stop();
    const anaSession = JSON.parse(ana.storage.get('parley.session') ?? '{}') as { token: string };
    for (let n = 1; n <= 5; n += 1) {
      await api(relay, anaSession.token, 'POST', `/api/chats/${chatId}/messages`, {
        content: `missed ${n}`,
        mobile_ref_id: `m${n}`,
      });
    }
    const saved = ben.client.savedSession();
    if (saved === null) throw new Error('no saved session');
    await ben.client.start(saved);
    await until(() => contents(ben.store, chatId).length === 6, 10_000, 'resume');
    expect(contents(ben.store, chatId)).toEqual([
      'before',
      'missed 1',
      'missed 2',
      'missed 3',
      'missed 4',
      'missed 5',
    ]);
    expect(ben.store.getState().timelines[chatId]?.messages.map((m) => m.seq)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
  });

  it('backfills over HTTP when a live message reveals a seq gap', async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    // Ben's transport loses every receive_message whose content says "lost" (as if the bus dropped it).
    const LossyWebSocket = tappedWebSocket(
      (text) => !(text.includes('"receive_message"') && text.includes('lost')),
    );
    const ana = await signedIn(relay, 'Ana');
    const ben = await signedIn(relay, 'Ben', newClient(new MemoryStorage(), LossyWebSocket));
    const chatId = mainChatId(ben.store);
    await until(() => joined(ana.store, chatId) && joined(ben.store, chatId));

    for (const text of ['one', 'lost two', 'lost three', 'four']) ana.client.send(chatId, text);
    await until(() => contents(ben.store, chatId).length === 4, 10_000, 'gap backfilled');
    expect(contents(ben.store, chatId)).toEqual(['one', 'lost two', 'lost three', 'four']);
    expect(ben.store.getState().timelines[chatId]?.syncedSeq).toBe(4);
  });

  it('shows who is typing and clears it when they send', async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    const ana = await signedIn(relay, 'Ana');
    const ben = await signedIn(relay, 'Ben');
    const chatId = mainChatId(ben.store);
    await until(() => joined(ana.store, chatId) && joined(ben.store, chatId));
    await until(() => ana.store.getState().chats[chatId]?.present !== undefined);
    ana.client.composing(chatId);
    const anaId = ana.store.getState().me?.id ?? '';
    await until(
      () => (ben.store.getState().typing[chatId] ?? []).includes(anaId),
      5_000,
      'typing shown',
    );
    ana.client.send(chatId, 'done typing');
    await until(
      () => (ben.store.getState().typing[chatId] ?? []).length === 0,
      5_000,
      'typing cleared',
    );
    // Presence: both users are in the main room.
    await until(
      () => Object.keys(ben.store.getState().chats[chatId]?.present ?? {}).length === 2,
      5_000,
      'presence',
    );
  });

  it('reports a refused token as an error, not as offline', async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    const real = await signIn(relay, 'Ana');
    const { client, store } = newClient();
    const result = await client.useToken({ serverUrls: [relay.url], token: `${real.token}x` });
    expect(result).toMatchObject({ ok: false, code: 'unauthorized' });
    expect(store.getState().status).toBe('signed-out');
    const taken = await client.signIn({ serverUrl: relay.url, name: 'ana' });
    expect(taken).toMatchObject({ ok: false, code: 'name_taken' });
  });
});

describe('ParleyClient with an offline history cache', () => {
  it('opens with cached history while the relay is down, then resumes after it without duplicates', async () => {
    let relay = await relayUp();
    const { port, dataDir } = relay;
    cleanups.push(() => removeDir(dataDir));
    const cache = new Map<
      string,
      { chats: ChatSummary[]; messages: Record<string, WireMessage[]> }
    >();
    const sink: HistorySink = {
      saveChats: async (scope, chats) => {
        cache.set(scope, { chats, messages: cache.get(scope)?.messages ?? {} });
      },
      saveHistory: async (scope, chatId, messages) => {
        const entry = cache.get(scope) ?? { chats: [], messages: {} };
        cache.set(scope, { ...entry, messages: { ...entry.messages, [chatId]: messages } });
      },
    };
    const storage = new MemoryStorage();
    const first = await signedIn(relay, 'Ana', newClient(storage));
    const stopPersisting = persistHistory(
      first.store,
      sink,
      (s) => (s.me === null || s.serverUrl === null ? null : `${s.serverUrl}|${s.me.id}`),
      10,
    );
    const chatId = mainChatId(first.store);
    await until(() => joined(first.store, chatId));
    for (const n of [1, 2, 3]) first.client.send(chatId, `cached ${n}`);
    await until(() => first.store.getState().outboxCount === 0, 5_000, 'sent');
    await stopPersisting();
    first.client.stop();
    await relay.close();

    const store = createParleyStore();
    const second = new ParleyClient({
      store,
      storage,
      transport: WebSocket as unknown as typeof globalThis.WebSocket,
      backoff: FAST,
      pushTimeoutMs: 2_000,
      history: { load: async (scope) => cache.get(scope) ?? { chats: [], messages: {} } },
    });
    cleanups.push(() => second.stop());
    expect(await second.resume()).toBe(true);
    expect(store.getState().status).toBe('offline');
    expect(contents(store, chatId)).toEqual(['cached 1', 'cached 2', 'cached 3']);

    relay = await relayUp({ port, dataDir });
    const session = JSON.parse(storage.get('parley.session') ?? '{}') as { token: string };
    await until(() => store.getState().status === 'online', 10_000, 'back online');
    await api(relay, session.token, 'POST', `/api/chats/${chatId}/messages`, {
      content: 'after',
      mobile_ref_id: 'after-1',
    });
    await until(() => contents(store, chatId).length === 4, 10_000, 'resumed');
    expect(contents(store, chatId)).toEqual(['cached 1', 'cached 2', 'cached 3', 'after']);
    expect(store.getState().timelines[chatId]?.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('ParleyClient search and reveal', () => {
  it('finds a message far back and loads just enough history to show it, sharing page loads', async () => {
    const unlimited = { messagesPerSecond: 1_000_000, messageBurst: 1_000_000 };
    const relay = await startTestRelay({ limits: { ...LIMITS, ...unlimited } });
    cleanups.push(() => relay.close());
    cleanups.push(() => removeDir(relay.dataDir));
    const ana = await signedIn(relay, 'Ana');
    const chatId = mainChatId(ana.store);
    await until(() => joined(ana.store, chatId));
    const seeder = await signIn(relay, 'Seeder');
    const post = async (content: string, ref: string) => {
      const res = await api(relay, seeder.token, 'POST', `/api/chats/${chatId}/messages`, {
        content,
        mobile_ref_id: ref,
      });
      expect(res.status).toBe(201);
    };
    await post('the budget spreadsheet', 'first');
    let next = 1;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let n = next++; n <= 1_200; n = next++) await post(`filler ${n}`, `f${n}`);
      }),
    );
    await until(() => (ana.store.getState().timelines[chatId]?.syncedSeq ?? 0) === 1_201);

    const found = await ana.client.search({ q: 'BUDG' });
    expect(found.ok && found.data.messages.map((m) => [m.seq, m.content])).toEqual([
      [1, 'the budget spreadsheet'],
    ]);
    const scoped = await ana.client.search({ q: 'budget', chatId: 'not-a-chat-of-ana' });
    expect(scoped).toMatchObject({ ok: false, code: 'not_found' });

    // The list asks for older pages at the same time: both share each request.
    const beside = ana.client.loadOlder(chatId);
    expect(ana.client.loadOlder(chatId)).toBe(beside);
    expect(await ana.client.revealMessage(chatId, 1)).toBe(true);
    const timeline = ana.store.getState().timelines[chatId];
    expect(timeline?.messages[0]?.seq).toBe(1);
    expect(timeline?.messages.map((m) => m.seq)).toEqual(
      Array.from({ length: 1_201 }, (_, i) => i + 1),
    );
    expect(ana.store.getState()).toMatchObject({
      activeChatId: chatId,
      focus: { chatId, seq: 1 },
    });
    // A seq that is not there (never was, or expired) reveals nothing, and says so.
    expect(await ana.client.revealMessage(chatId, 5_000)).toBe(false);
    ana.client.openChat(null);
    expect(ana.store.getState().focus).toBeNull();
  });
});

describe('ParleyClient and memberships changed elsewhere', () => {
  it('shows a chat made, joined or added on another device at once, and drops one left there', async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    const ana = await signedIn(relay, 'Ana');
    const ben = await signIn(relay, 'Ben');
    const anaElsewhere = ana.client.savedSession()?.token ?? '';
    const chats = () => Object.values(ana.store.getState().chats).map((chat) => chat.name);

    // Another device of Ana's makes a room: this one shows it and joins it.
    const made = await api<{ chat: ChatSummary }>(relay, anaElsewhere, 'POST', '/api/chats', {
      name: 'planning',
      visibility: 'private',
    });
    expect(made.status).toBe(201);
    await until(() => chats().includes('planning'), 5_000, 'the room made elsewhere');
    await until(() => joined(ana.store, made.body.chat.id), 5_000, 'joined');

    // Ben adds her to his room.
    const his = await api<{ chat: ChatSummary }>(relay, ben.token, 'POST', '/api/chats', {
      name: 'launch',
      visibility: 'private',
    });
    await api(relay, ben.token, 'POST', `/api/chats/${his.body.chat.id}/members`, {
      user_id: ana.store.getState().me?.id,
    });
    await until(() => chats().includes('launch'), 5_000, 'the room she was added to');

    // She leaves "planning" on the other device while it is open here: the main room opens.
    ana.client.openChat(made.body.chat.id);
    await api(relay, anaElsewhere, 'POST', `/api/chats/${made.body.chat.id}/leave`);
    await until(() => !chats().includes('planning'), 5_000, 'the room left elsewhere');
    expect(ana.store.getState().activeChatId).toBe(mainChatId(ana.store));
    expect(chats().sort()).toEqual(['general', 'launch']);
  });

  it("lists a room's members for its members only", async () => {
    const relay = await relayUp();
    const ana = await signedIn(relay, 'Ana');
    const ben = await signedIn(relay, 'Ben');
    const created = await ana.client.createRoom({ name: 'quiet', visibility: 'private' });
    if (!created.ok) throw new Error(created.message);
    const roomId = created.data;
    const names = async (running: Running) => {
      const members = await running.client.chatMembers(roomId);
      return members.ok ? members.data.map((m) => m.name).sort() : members.code;
    };

    expect(await names(ana)).toEqual(['Ana']);
    expect(await names(ben)).toBe('not_member');
    const benId = ben.store.getState().me?.id ?? '';
    expect((await ana.client.addMember(roomId, benId)).ok).toBe(true);
    expect(await names(ben)).toEqual(['Ana', 'Ben']);
  });
  it('shows the recovery code at sign-up, signs back in with it after signing out, and links another client with a code', async () => {
    const relay = await relayUp();
    const ana = await signedIn(relay, 'Ana');
    const first = ana.store.getState().recoveryCode;
    expect(first?.reason).toBe('sign-up');
    const code = first?.code ?? '';
    ana.store.getState().actions.showRecoveryCode(null);

    ana.client.signOut();
    expect(ana.store.getState().status).toBe('signed-out');
    const taken = await ana.client.signIn({ serverUrl: relay.url, name: 'Ana' });
    expect(taken).toMatchObject({ ok: false, code: 'name_taken' });
    const back = await ana.client.signIn({ serverUrl: relay.url, name: 'Ana', code });
    expect(back.ok).toBe(true);
    const replaced = ana.store.getState().recoveryCode;
    expect(replaced?.reason).toBe('replaced');
    expect(replaced?.code).not.toBe(code);

    const status = await ana.client.recoveryCodeStatus();
    expect(status.ok && status.data.created_at !== null).toBe(true);
    const link = await ana.client.createLinkCode();
    if (!link.ok) throw new Error(link.message);
    const laptop = newClient();
    const linked = await laptop.client.signIn({
      serverUrl: relay.url,
      name: 'Ana',
      code: link.data.link_code,
    });
    expect(linked).toMatchObject({ ok: true, data: { name: 'Ana' } });
    expect(laptop.store.getState().recoveryCode).toBeNull();
    const again = await newClient().client.signIn({
      serverUrl: relay.url,
      name: 'Ana',
      code: link.data.link_code,
    });
    expect(again).toMatchObject({ ok: false, code: 'bad_recovery_code' });

    const regenerated = await ana.client.regenerateRecoveryCode();
    expect(regenerated.ok).toBe(true);
    expect(ana.store.getState().recoveryCode?.reason).toBe('regenerated');
  });
});

describe('ParleyClient and what the relay sends', () => {
  it('drops a frame that does not match its schema, without crashing, and backfills what it lost', async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    cleanups.push(() => warn.mockRestore());
    // Ben's transport breaks every receive_message that says "garbled": its seq becomes text.
    const Garbling = rewritingWebSocket((text) =>
      text.includes('"receive_message"') && text.includes('garbled')
        ? text.replace(/"seq":(\d+)/, '"seq":"$1"')
        : text,
    );
    const ana = await signedIn(relay, 'Ana');
    const ben = await signedIn(relay, 'Ben', newClient(new MemoryStorage(), Garbling));
    const chatId = mainChatId(ben.store);
    await until(() => joined(ana.store, chatId) && joined(ben.store, chatId));

    ana.client.send(chatId, 'one');
    await until(() => contents(ben.store, chatId).length === 1, 5_000, 'one');
    ana.client.send(chatId, 'garbled two');
    await until(
      () => warn.mock.calls.some(([line]) => String(line).includes('invalid receive_message')),
      5_000,
      'the bad frame dropped',
    );
    expect(contents(ben.store, chatId)).toEqual(['one']);
    ana.client.send(chatId, 'three');
    await until(() => contents(ben.store, chatId).length === 3, 5_000, 'gap backfilled');
    expect(contents(ben.store, chatId)).toEqual(['one', 'garbled two', 'three']);
    expect(ben.store.getState().timelines[chatId]?.syncedSeq).toBe(3);
  });

  it('resumes once when asked twice at the same time: one socket', async () => {
    const relay = await relayUp();
    cleanups.push(() => removeDir(relay.dataDir));
    const storage = new MemoryStorage();
    const first = await signedIn(relay, 'Ana', newClient(storage));
    first.client.stop();
    let sockets = 0;
    const Counting = rewritingWebSocket((text) => text);
    class CountingWebSocket extends Counting {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets += 1;
      }
    }
    const again = newClient(storage, CountingWebSocket);
    const starts = vi.spyOn(again.store.getState().actions, 'signedIn');
    const [a, b] = await Promise.all([again.client.resume(), again.client.resume()]);
    expect([a, b]).toEqual([true, true]);
    expect(starts).toHaveBeenCalledTimes(1);
    await until(() => again.store.getState().status === 'online', 5_000, 'online');
    const chatId = mainChatId(again.store);
    again.client.send(chatId, 'once');
    await until(() => again.store.getState().outboxCount === 0, 5_000, 'sent');
    expect(sockets).toBe(1);
  });
});
