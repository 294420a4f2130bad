import { describe, expect, it } from 'vitest';
import type { WireMessage } from '../protocol/events.js';
import { encodedBytes, fitPage, readPage, type PageRequest } from './history-page.js';

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
