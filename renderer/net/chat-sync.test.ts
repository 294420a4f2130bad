/**
 * ChatSync over the event stream, with a real store and a real ApiClient on a scripted fetch:
 * join replies with events, live change events, gaps, backfill pages of messages and events.
 */
import { describe, expect, it } from 'vitest';
import type { ChatEvent, HistoryPage, WireMessage } from '../../relay/protocol/events.js';
import { ApiClient } from './api-client.js';
import { ChatSync } from './chat-sync.js';
import {
  CHAT,
  chatSummary,
  deleted,
  edited,
  fakeFetch,
  message,
  shown,
  storeWith,
  syncedSeq,
} from './test-fixtures.js';

function page(messages: WireMessage[], events: ChatEvent[], hasMore = false): HistoryPage {
  return { messages, events, has_more: hasMore };
}

/** A ChatSync whose HTTP history answers come from `pages`, keyed by after_seq. */
function syncWith(
  store: ReturnType<typeof storeWith>,
  pages: Record<number, HistoryPage> = {},
): { sync: ChatSync; afterSeqs: () => number[] } {
  const { fetchImpl, urls } = fakeFetch((url) => {
    const after = Number(url.searchParams.get('after_seq'));
    return pages[after] ?? page([], []);
  });
  const api = new ApiClient('http://relay.test', 'token', fetchImpl);
  return {
    sync: new ChatSync(store, () => api),
    afterSeqs: () => urls.map((u) => Number(u.searchParams.get('after_seq'))),
  };
}

const joinReply = (
  messages: WireMessage[],
  events: ChatEvent[],
  lastSeq: number,
  hasMore = false,
) => ({
  chat: chatSummary(lastSeq),
  messages,
  events,
  stream_version: 2,
  last_seq: lastSeq,
  has_more: hasMore,
  read_seq: 0,
});

describe('ChatSync', () => {
  it("applies a resume's events to messages held from before and counts them in the resume point", () => {
    const store = storeWith([message(1, 'helo'), message(2, 'secret')], 2);
    const { sync, afterSeqs } = syncWith(store);
    const resumed = sync.joined(
      CHAT,
      joinReply([message(3, 'new')], [edited(4, 1, 'hello'), deleted(5, 2)], 5),
    );
    expect(resumed).toBe(true);
    expect(shown(store)).toEqual([
      [1, 'hello', true, false],
      [2, '', false, true],
      [3, 'new', false, false],
    ]);
    expect(syncedSeq(store)).toBe(5);
    expect(afterSeqs()).toEqual([]);
  });

  it('moves the resume point over live events, so the next message is not taken for a gap', async () => {
    const store = storeWith([message(1, 'a'), message(2, 'b')], 2);
    const { sync, afterSeqs } = syncWith(store);
    sync.events(CHAT, [edited(3, 1, 'a!')]);
    sync.events(CHAT, [deleted(4, 2)]);
    expect(syncedSeq(store)).toBe(4);
    sync.message(CHAT, message(5, 'c'));
    await Promise.resolve();
    expect(syncedSeq(store)).toBe(5);
    expect(afterSeqs()).toEqual([]);
    expect(shown(store)).toEqual([
      [1, 'a!', true, false],
      [2, '', false, true],
      [5, 'c', false, false],
    ]);
  });

  it('leaves an event past a gap to the backfill, which brings it with what was missed', async () => {
    const store = storeWith([message(1, 'a'), message(2, 'b')], 2);
    const { sync, afterSeqs } = syncWith(store, {
      2: page([message(3, 'c')], [edited(4, 2, 'b!'), edited(5, 1, 'a!')]),
    });
    sync.events(CHAT, [edited(5, 1, 'a!')]);
    expect(shown(store)[0]).toEqual([1, 'a', false, false]);
    expect(syncedSeq(store)).toBe(2);
    await sync.backfill(CHAT);
    expect(afterSeqs()).toEqual([2]);
    expect(shown(store)).toEqual([
      [1, 'a!', true, false],
      [2, 'b!', true, false],
      [3, 'c', false, false],
    ]);
    expect(syncedSeq(store)).toBe(5);
  });

  it('pages a backfill on from the largest seq of messages or events', async () => {
    const store = storeWith([message(1, 'a')], 1);
    const { sync, afterSeqs } = syncWith(store, {
      1: page([message(2, 'b')], [edited(3, 1, 'a!')], true),
      3: page([message(4, 'c')], [deleted(5, 2)], false),
    });
    await sync.backfill(CHAT);
    expect(afterSeqs()).toEqual([1, 3]);
    expect(syncedSeq(store)).toBe(5);
    expect(shown(store)).toEqual([
      [1, 'a!', true, false],
      [2, '', false, true],
      [4, 'c', false, false],
    ]);
  });

  it('a resume too big for its reply pages on from its largest seq, events included', async () => {
    const store = storeWith([message(1, 'a')], 1);
    const { sync, afterSeqs } = syncWith(store, { 3: page([message(4, 'd')], []) });
    sync.joined(CHAT, joinReply([message(2, 'b')], [edited(3, 1, 'a!')], 4, true));
    await sync.backfill(CHAT);
    expect(afterSeqs()).toEqual([3]);
    expect(syncedSeq(store)).toBe(4);
  });

  it('pages again when something past the resume point arrives while a page is on its way', async () => {
    const store = storeWith([message(1, 'a')], 1);
    const { sync, afterSeqs } = syncWith(store, {
      1: page([message(2, 'b')], []),
      2: page([message(3, 'c')], [edited(4, 1, 'a!')]),
    });
    const first = sync.backfill(CHAT);
    // Arrives live, past the gap, before the first page is back.
    sync.events(CHAT, [edited(4, 1, 'a!')]);
    await first;
    expect(afterSeqs()).toEqual([1, 2]);
    expect(syncedSeq(store)).toBe(4);
    expect(shown(store)[0]).toEqual([1, 'a!', true, false]);
  });

  it('applies an event once: again, or after a newer one, it changes nothing', () => {
    const store = storeWith([message(1, 'a')], 1);
    const { sync } = syncWith(store);
    sync.events(CHAT, [edited(2, 1, 'first edit')]);
    sync.events(CHAT, [edited(3, 1, 'second edit')]);
    const after = store.getState().timelines[CHAT];
    sync.events(CHAT, [edited(2, 1, 'first edit')]);
    expect(store.getState().timelines[CHAT]).toBe(after);
    expect(shown(store)).toEqual([[1, 'second edit', true, false]]);
    expect(store.getState().timelines[CHAT]?.messages[0]?.version_seq).toBe(3);
  });
});
