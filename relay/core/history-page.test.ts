import { describe, expect, it } from 'vitest';
import type { ChatEvent, WireMessage } from '../protocol/events.js';
import {
  encodedBytes,
  fitPage,
  readPage,
  readStreamPage,
  type PageRequest,
  type StreamPageRequest,
} from './history-page.js';

function message(seq: number, content: string): WireMessage {
  return {
    chat_id: 'c',
    message_id: `m${seq}`,
    seq,
    content,
    sender_id: 'u',
    sender_name: 'U',
    timestamp: '2026-12-07T00:00:00.000Z',
    expires_at: null,
    mobile_ref_id: `r${seq}`,
    edited_at: null,
    deleted_at: null,
    version_seq: seq,
  };
}

const seqs = (messages: readonly WireMessage[]): number[] => messages.map((m) => m.seq);

describe('encodedBytes', () => {
  it('equals the UTF-8 length of JSON.stringify for every kind of character', () => {
    const samples = [
      '',
      'plain ascii "quoted" \\ back\\slash',
      '\u0000\u0001\u0008\t\n\u000b\f\r\u001f\u007f',
      'é ß ж 字 漢字 😀 𝄞',
      '\ud800 lone high, lone low \udc00, pair \ud83d\ude00, reversed \ude00\ud83d',
      '\u2028\u2029\ufeff\uffff',
    ];
    for (const content of samples) {
      const m = message(12, content);
      expect(encodedBytes(m), JSON.stringify(content)).toBe(
        Buffer.byteLength(JSON.stringify(m)) + 1,
      );
    }
    for (let code = 0; code < 0x10000; code += 1) {
      const m = message(1, `a${String.fromCharCode(code)}b`);
      if (encodedBytes(m) !== Buffer.byteLength(JSON.stringify(m)) + 1)
        throw new Error(`wrong size for U+${code.toString(16)}`);
    }
  });
});

describe('fitPage', () => {
  it('counts the JSON encoding in UTF-8 bytes: escaped control characters and multi-byte text', () => {
    const plain = encodedBytes(message(1, ''));
    expect(encodedBytes(message(1, '\u0001'.repeat(100))) - plain).toBe(600);
    expect(encodedBytes(message(1, '字'.repeat(100))) - plain).toBe(300);
    expect(encodedBytes(message(1, '😀'.repeat(100))) - plain).toBe(400);
  });

  it('keeps everything that fits, uncut', () => {
    const all = [1, 2, 3].map((seq) => message(seq, 'hi'));
    const page = fitPage(all, 10_000, 'oldest', { atLeastOne: true });
    expect(seqs(page.messages)).toEqual([1, 2, 3]);
    expect(page.cut).toBe(false);
  });

  it('keeps the oldest (after_seq) or the newest (before_seq, plain join) within the budget', () => {
    const all = [1, 2, 3, 4, 5].map((seq) => message(seq, 'x'.repeat(1_000)));
    const each = encodedBytes(all[0] ?? message(0, ''));
    const budget = 2 * each + each / 2;
    const oldest = fitPage(all, budget, 'oldest', { atLeastOne: true });
    expect(seqs(oldest.messages)).toEqual([1, 2]);
    expect(oldest.cut).toBe(true);
    const newest = fitPage(all, budget, 'newest', { atLeastOne: true });
    expect(seqs(newest.messages)).toEqual([4, 5]);
    expect(newest.cut).toBe(true);
    expect(seqs(fitPage(all, 2 * each, 'oldest', { atLeastOne: true }).messages)).toEqual([1, 2]);
  });

  it('keeps one oversize message when paging must advance, none otherwise', () => {
    const all = [message(7, 'y'.repeat(5_000)), message(8, 'z')];
    expect(seqs(fitPage(all, 100, 'oldest', { atLeastOne: true }).messages)).toEqual([7]);
    expect(seqs(fitPage(all, 100, 'newest', { atLeastOne: true }).messages)).toEqual([8]);
    const none = fitPage(all, 100, 'oldest', { atLeastOne: false });
    expect(none.messages).toEqual([]);
    expect(none.cut).toBe(true);
    expect(fitPage([], 0, 'oldest', { atLeastOne: false })).toEqual({ messages: [], cut: false });
  });
});

/** An in-memory chat of `count` messages of `chars` characters, counting the rows it reads. */
function chatOf(count: number, chars: number) {
  const all = Array.from({ length: count }, (_, i) => message(i + 1, 'x'.repeat(chars)));
  const reads = { rows: 0 };
  const store = {
    messagesAfter: async (_chat: string, after: number, limit: number) => {
      const rows = all.filter((m) => m.seq > after).slice(0, limit);
      reads.rows += rows.length;
      return rows;
    },
    messagesBefore: async (_chat: string, before: number | null, limit: number) => {
      const rows = all.filter((m) => before === null || m.seq < before).slice(-limit);
      reads.rows += rows.length;
      return rows;
    },
  };
  const bytesOf = (from: number, to: number): number =>
    all.slice(from - 1, to).reduce((sum, m) => sum + encodedBytes(m), 0);
  return { store, reads, each: encodedBytes(all[0] ?? message(0, '')), bytesOf };
}

function request(overrides: Partial<PageRequest>): PageRequest {
  return {
    chatId: 'c',
    end: 'oldest',
    cursor: 0,
    limit: 500,
    maxBytes: 1_000_000,
    atLeastOne: true,
    now: new Date(),
    ...overrides,
  };
}

describe('readPage', () => {
  it('pages by count, with has_more exactly when more exist', async () => {
    const { store } = chatOf(120, 10);
    const full = await readPage(store, request({ limit: 120 }));
    expect(seqs(full.messages)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(full.hasMore).toBe(false);
    const cut = await readPage(store, request({ cursor: 10, limit: 100 }));
    expect(seqs(cut.messages)).toEqual(Array.from({ length: 100 }, (_, i) => i + 11));
    expect(cut.hasMore).toBe(true);
    const newest = await readPage(store, request({ end: 'newest', cursor: null, limit: 30 }));
    expect(seqs(newest.messages)).toEqual(Array.from({ length: 30 }, (_, i) => i + 91));
    expect(newest.hasMore).toBe(true);
    const oldest = await readPage(store, request({ end: 'newest', cursor: 31, limit: 50 }));
    expect(seqs(oldest.messages)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(oldest.hasMore).toBe(false);
  });

  it('pages by bytes without reading the rows a cut page leaves out', async () => {
    const { store, reads, bytesOf } = chatOf(500, 8_000);
    const page = await readPage(store, request({ maxBytes: bytesOf(1, 20) + 10 }));
    expect(seqs(page.messages)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(page.hasMore).toBe(true);
    expect(reads.rows).toBeLessThanOrEqual(50);
    const newest = await readPage(
      store,
      request({ end: 'newest', cursor: null, maxBytes: bytesOf(498, 500) }),
    );
    expect(seqs(newest.messages)).toEqual([498, 499, 500]);
    expect(newest.hasMore).toBe(true);
  });

  it('reads small messages in few reads, and a join reply may keep none', async () => {
    const { store, reads, each } = chatOf(500, 10);
    const page = await readPage(store, request({ maxBytes: 1_000_000 }));
    expect(page.messages).toHaveLength(500);
    expect(reads.rows).toBe(500);
    const none = await readPage(store, request({ maxBytes: each - 1, atLeastOne: false }));
    expect(none).toEqual({ messages: [], hasMore: true });
  });
});

/**
 * An in-memory stream: messages at the seqs in `messageSeqs`, edit events at `eventSeqs` (each
 * editing message 1), counting the rows each source reads.
 */
function streamOf(messageSeqs: readonly number[], eventSeqs: readonly number[], chars = 10) {
  const messages = messageSeqs.map((seq) => message(seq, 'x'.repeat(chars)));
  const events: ChatEvent[] = eventSeqs.map((seq) => ({
    type: 'message_edited',
    chat_id: 'c',
    seq,
    message_id: 'm1',
    message_seq: 1,
    sender_id: 'u',
    content: 'y'.repeat(chars),
    edited_at: '2026-12-07T00:00:00.000Z',
  }));
  const reads = { messages: 0, events: 0, calls: 0 };
  const store = {
    messagesAfter: async (_chat: string, after: number, limit: number) => {
      const rows = messages.filter((m) => m.seq > after).slice(0, limit);
      reads.messages += rows.length;
      reads.calls += 1;
      return rows;
    },
    eventsAfter: async (_chat: string, after: number, limit: number) => {
      const rows = events.filter((e) => e.seq > after).slice(0, limit);
      reads.events += rows.length;
      reads.calls += 1;
      return rows;
    },
  };
  return { store, reads, messages, events };
}

function streamRequest(overrides: Partial<StreamPageRequest>): StreamPageRequest {
  return {
    chatId: 'c',
    afterSeq: 0,
    limit: 500,
    maxBytes: 1_000_000,
    atLeastOne: true,
    now: new Date(),
    ...overrides,
  };
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('readStreamPage', () => {
  it('merges messages and events by seq, both after afterSeq', async () => {
    const { store } = streamOf([1, 2, 4, 6, 7], [3, 5, 8]);
    const page = await readStreamPage(store, streamRequest({ afterSeq: 2 }));
    expect(seqs(page.messages)).toEqual([4, 6, 7]);
    expect(page.events.map((e) => e.seq)).toEqual([3, 5, 8]);
    expect(page.hasMore).toBe(false);
  });

  it('cuts at `limit` items of either kind, and paging on from the largest seq misses nothing', async () => {
    // Messages at odd seqs, events at even ones, 1..200.
    const all = range(1, 200);
    const { store } = streamOf(
      all.filter((n) => n % 2 === 1),
      all.filter((n) => n % 2 === 0),
    );
    const seen: number[] = [];
    let after = 0;
    for (let pages = 0; ; pages += 1) {
      expect(pages).toBeLessThan(10);
      const page = await readStreamPage(store, streamRequest({ afterSeq: after, limit: 30 }));
      const got = [...seqs(page.messages), ...page.events.map((e) => e.seq)].sort((a, b) => a - b);
      expect(got.length).toBe(page.hasMore ? 30 : 200 - seen.length);
      seen.push(...got);
      if (!page.hasMore) break;
      after = got.at(-1) ?? after;
    }
    expect(seen).toEqual(all);
  });

  it('cuts by bytes, at least one item when asked, none otherwise', async () => {
    const { store, messages, events } = streamOf([1, 3], [2, 4], 5_000);
    const one = encodedBytes(messages[0] ?? message(0, ''));
    const firstTwo = one + encodedBytes(events[0] ?? message(0, ''));
    const page = await readStreamPage(store, streamRequest({ maxBytes: firstTwo }));
    expect(seqs(page.messages)).toEqual([1]);
    expect(page.events.map((e) => e.seq)).toEqual([2]);
    expect(page.hasMore).toBe(true);
    const single = await readStreamPage(store, streamRequest({ maxBytes: 10 }));
    expect(seqs(single.messages)).toEqual([1]);
    expect(single.hasMore).toBe(true);
    const none = await readStreamPage(store, streamRequest({ maxBytes: 10, atLeastOne: false }));
    expect(none).toEqual({ messages: [], events: [], hasMore: true });
  });

  it('serves a stream of only events (changes to messages older than afterSeq)', async () => {
    const { store } = streamOf([1], range(2, 120));
    const page = await readStreamPage(store, streamRequest({ afterSeq: 1, limit: 100 }));
    expect(page.messages).toEqual([]);
    expect(page.events.map((e) => e.seq)).toEqual(range(2, 101));
    expect(page.hasMore).toBe(true);
  });

  it('does not read the rows a page cut by bytes leaves out', async () => {
    const { store, reads, messages } = streamOf(range(1, 500), [], 8_000);
    const twenty = messages.slice(0, 20).reduce((sum, m) => sum + encodedBytes(m), 0);
    const page = await readStreamPage(store, streamRequest({ maxBytes: twenty + 10 }));
    expect(seqs(page.messages)).toEqual(range(1, 20));
    expect(page.hasMore).toBe(true);
    expect(reads.messages).toBeLessThanOrEqual(50);
  });
});
