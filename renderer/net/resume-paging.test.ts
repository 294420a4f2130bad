/**
 * Resuming a chat whose missed messages are more than one join reply may carry: the relay
 * bounds join replies by bytes (`maxPageBytes`, relay/core/history-page.ts) and says `has_more`,
 * and the client pages the rest over HTTP. Against a real relay (real SQLite, real sockets),
 * with the byte bound lowered so a few long messages pass it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatJoinReply } from '../../relay/protocol/events.js';
import {
  api,
  removeDir,
  startTestRelay,
  until,
  type TestRelay,
} from '../../relay/testing/relay-harness.js';
import { tappedWebSocket } from '../../relay/testing/tapped-websocket.js';
import { createParleyStore, type ParleyStore } from '../state/store.js';
import { visibleMessages } from '../state/selectors.js';
import { ParleyClient } from './parley-client.js';
import { MemoryStorage } from './storage.js';

/** Bytes of messages per join reply and HTTP page: a handful of the messages below. */
const PAGE_BYTES = 16_000;
const MISSED = 30;
/** About 3 KB of JSON each: 30 of them are 90 KB, several pages. */
const longText = (n: number): string => `missed ${n} ${'長い文章'.repeat(250)}`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The join replies a client's socket received, per topic (the transport, recorded). */
const joinReplies: { topic: string; reply: ChatJoinReply }[] = [];

/** Records every chat join reply, then hands the frame on. */
const RecordingWebSocket = tappedWebSocket((text) => {
  const [, , topic, name, payload] = JSON.parse(text) as [
    unknown,
    unknown,
    string,
    string,
    { status?: string; response?: { messages?: unknown } },
  ];
  if (name === 'phx_reply' && topic.startsWith('chat:') && payload.response?.messages) {
    joinReplies.push({ topic, reply: payload.response as ChatJoinReply });
  }
  return true;
});

function newClient(): { client: ParleyClient; store: ParleyStore } {
  const store = createParleyStore();
  const client = new ParleyClient({
    store,
    storage: new MemoryStorage(),
    transport: RecordingWebSocket,
    backoff: { baseMs: 20, capMs: 200 },
    pushTimeoutMs: 2_000,
  });
  cleanups.push(() => client.stop());
  return { client, store };
}

describe('ParleyClient resuming past the join reply byte bound', () => {
  it('pages the missed messages the join reply left out over HTTP: all of them, once, in order', async () => {
    const relay: TestRelay = await startTestRelay({
      limits: { sessionAttemptsPerMinute: 10_000, maxPageBytes: PAGE_BYTES },
    });
    cleanups.push(async () => {
      await relay.close();
      removeDir(relay.dataDir);
    });
    const ana = newClient();
    const ben = newClient();
    expect((await ana.client.signIn({ serverUrl: relay.url, name: 'Ana' })).ok).toBe(true);
    expect((await ben.client.signIn({ serverUrl: relay.url, name: 'Ben' })).ok).toBe(true);
    const chatId = Object.values(ben.store.getState().chats).find((chat) => chat.is_main)?.id;
    if (chatId === undefined) throw new Error('no main room');
    const synced = (store: ParleyStore): number =>
      store.getState().timelines[chatId]?.syncedSeq ?? -1;
    await until(() => synced(ana.store) >= 0 && synced(ben.store) >= 0, 5_000, 'both joined');
    ana.client.send(chatId, 'before');
    await until(() => synced(ben.store) === 1, 5_000, 'the first message');

    ben.client.stop();
    const anaToken = ana.client.savedSession()?.token ?? '';
    for (let n = 1; n <= MISSED; n += 1) {
      const sent = await api(relay, anaToken, 'POST', `/api/chats/${chatId}/messages`, {
        content: longText(n),
        mobile_ref_id: `missed-${n}`,
      });
      expect(sent.status).toBe(201);
    }
    const saved = ben.client.savedSession();
    if (saved === null) throw new Error('no saved session');
    joinReplies.length = 0;
    await ben.client.start(saved);
    await until(() => synced(ben.store) === MISSED + 1, 10_000, 'the resume and its pages');

    // The resume's reply carried only the first few, and said so.
    const resume = joinReplies.find((entry) => entry.topic === `chat:${chatId}`)?.reply;
    expect(resume?.has_more).toBe(true);
    expect(resume?.messages.length).toBeGreaterThan(0);
    expect(resume?.messages.length).toBeLessThan(MISSED / 4);
    expect(Buffer.byteLength(JSON.stringify(resume?.messages))).toBeLessThanOrEqual(PAGE_BYTES);
    const timeline = ben.store.getState().timelines[chatId];
    if (timeline === undefined) throw new Error('no timeline');
    expect(visibleMessages(timeline).map((m) => m.seq)).toEqual(
      Array.from({ length: MISSED + 1 }, (_, i) => i + 1),
    );
    expect(visibleMessages(timeline).map((m) => m.content)).toEqual([
      'before',
      ...Array.from({ length: MISSED }, (_, i) => longText(i + 1)),
    ]);
  });
});
