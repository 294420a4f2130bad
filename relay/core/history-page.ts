/**
 * History pages bounded by bytes as well as by count: the one rule for `GET
 * /api/chats/:id/messages`, join replies (plain and `since_seq`) and the cluster's catch-up
 * re-sends. A page keeps messages, in its paging direction, until the next one would take its
 * JSON encoding past the byte budget; the caller then says `has_more` and the client pages on
 * from the last seq it got (PROTOCOL.md, "History pages").
 *
 * Forward paging (since_seq, after_seq, catch-up) reads the chat's event stream: messages and
 * change events merged by seq, in {@link readStreamPage}, the one forward pager. Backward
 * paging (before_seq, a plain join) reads messages only, in their current state
 * ({@link readPage} with end `newest`).
 *
 * Why: 500 messages of 8,000 control characters are 24 MB of JSON (each escapes to `\u0001`,
 * six bytes), and 500 of CJK text 12 MB. A join reply that size is over the socket's own
 * `maxBufferedBytes` (the relay closed it with 4001 and the client rejoined into the same
 * reply forever), and an HTTP page that size, asked for by many connections that never read,
 * held gigabytes.
 */
import type { ChatEvent, WireMessage } from '../protocol/events.js';
import type { RelayLimits } from './options.js';
import type { Store } from './store.js';

/** Which end of the rows read a page keeps: `oldest` for after_seq, `newest` for the rest. */
export type PageEnd = 'oldest' | 'newest';

export interface FittedPage<T extends object = WireMessage> {
  /** The messages kept, oldest first. */
  messages: T[];
  /** True when messages were left out to stay within the budget. */
  cut: boolean;
}

/**
 * UTF-8 bytes of `text` as JSON.stringify writes it, quotes excluded, counted without
 * encoding it: escaping 8,000 control characters costs JSON.stringify far more than this loop.
 */
export function jsonStringBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20)
      bytes += c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
    else if (c === 0x22 || c === 0x5c) bytes += 2;
    else if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      // A pair is one 4-byte character; a lone surrogate is written as a \uXXXX escape.
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 6;
    } else if (c >= 0xdc00 && c <= 0xdfff) bytes += 6;
    else bytes += 3;
  }
  return bytes;
}

/**
 * Bytes of one message (or other item with a `content` string, such as a pending
 * notification) in a JSON array: its encoding and a comma.
 */
export function encodedBytes(message: object): number {
  if (!('content' in message) || typeof message.content !== 'string') {
    return Buffer.byteLength(JSON.stringify(message)) + 1;
  }
  const rest = Buffer.byteLength(JSON.stringify({ ...message, content: '' }));
  return rest + jsonStringBytes(message.content) + 1;
}

/**
 * Keeps messages (oldest first) from `end` until the next would pass `maxBytes`. With
 * `atLeastOne`, the first message is kept whatever its size, so that paging always advances
 * (one message of maxMessageChars is far under any sensible budget); without it, a budget
 * smaller than the first message keeps none. Encodes only the messages it keeps and one more.
 * Pending notifications (which carry the content too) are fitted the same way.
 */
export function fitPage<T extends object = WireMessage>(
  messages: readonly T[],
  maxBytes: number,
  end: PageEnd,
  { atLeastOne }: { atLeastOne: boolean },
): FittedPage<T> {
  let used = 0;
  let kept = 0;
  for (; kept < messages.length; kept += 1) {
    const message = messages[end === 'oldest' ? kept : messages.length - 1 - kept];
    if (message === undefined) break;
    const bytes = encodedBytes(message);
    if (used + bytes > maxBytes && !(atLeastOne && kept === 0)) break;
    used += bytes;
  }
  if (kept === messages.length) return { messages: [...messages], cut: false };
  return {
    messages: end === 'oldest' ? messages.slice(0, kept) : messages.slice(messages.length - kept),
    cut: true,
  };
}

/**
 * The byte budget of a reply pushed on a socket (a join reply, a batch of pending
 * notifications): maxPageBytes, less whatever the connection still has waiting beyond half of
 * maxBufferedBytes. So the replies to a burst of joins (a client resuming many chats) never
 * take a reading client's backlog past half the bound at which it would be cut off (4001).
 */
export function replyBudget(
  limits: Pick<RelayLimits, 'maxPageBytes' | 'maxBufferedBytes'>,
  backlog: number,
): number {
  return Math.max(
    0,
    Math.min(limits.maxPageBytes, Math.floor(limits.maxBufferedBytes / 2) - backlog),
  );
}

/** Rows read at first for a page; later reads are sized by the bytes the rows so far took. */
const FIRST_READ_ROWS = 50;

export interface PageRequest {
  chatId: string;
  /** `oldest`: the messages after `cursor` (after_seq, since_seq); `newest`: those before it. */
  end: PageEnd;
  /** The seq to page from; null with `newest` is the newest of all. */
  cursor: number | null;
  /** Most messages. */
  limit: number;
  /** Most bytes of messages (encodedBytes). */
  maxBytes: number;
  /** Keep the first message whatever its size (HTTP pages, so paging always advances). */
  atLeastOne: boolean;
  now: Date;
}

/**
 * Reads one page from the store, in reads sized so that a page cut by bytes does not read the
 * rows it leaves out: 500 rows of long messages are megabytes of strings for a page that keeps
 * twenty of them. Returns the messages, oldest first, and whether more exist beyond the page.
 */
export async function readPage(
  store: Pick<Store, 'messagesAfter' | 'messagesBefore'>,
  request: PageRequest,
): Promise<{ messages: WireMessage[]; hasMore: boolean }> {
  const { chatId, end, limit, maxBytes, atLeastOne, now } = request;
  const kept: WireMessage[] = [];
  let cursor = request.cursor;
  let used = 0;
  let hasMore = false;
  for (let want = Math.min(limit + 1, FIRST_READ_ROWS); ;) {
    const rows =
      end === 'oldest'
        ? await store.messagesAfter(chatId, cursor ?? 0, want, now)
        : await store.messagesBefore(chatId, cursor, want, now);
    const inOrder = end === 'oldest' ? rows : rows.slice().reverse();
    for (const message of inOrder) {
      const bytes = encodedBytes(message);
      if (
        kept.length === limit ||
        (used + bytes > maxBytes && !(atLeastOne && kept.length === 0))
      ) {
        hasMore = true;
        break;
      }
      kept.push(message);
      used += bytes;
    }
    const last = inOrder.at(-1);
    if (hasMore || rows.length < want || last === undefined) break;
    cursor = last.seq;
    const average = used / Math.max(1, kept.length);
    want = Math.min(
      limit - kept.length + 1,
      Math.max(FIRST_READ_ROWS, Math.ceil((maxBytes - used) / Math.max(1, average)) + 1),
    );
  }
  return { messages: end === 'oldest' ? kept : kept.reverse(), hasMore };
}

export interface StreamPageRequest {
  chatId: string;
  /** The items with seq > afterSeq (since_seq, after_seq, a catch-up cursor). */
  afterSeq: number;
  /** Most items (messages and events together). */
  limit: number;
  /** Most bytes of items (encodedBytes). */
  maxBytes: number;
  /** Keep the first item whatever its size (HTTP pages, so paging always advances). */
  atLeastOne: boolean;
  now: Date;
}

/** A window of the chat's stream: every message and change event in it, each oldest first. */
export interface StreamPage {
  messages: WireMessage[];
  events: ChatEvent[];
  /** True when items with a larger seq were left out: page on from the largest seq listed. */
  hasMore: boolean;
}

/**
 * One of the two sorted sources of the stream (messages, change events), read in chunks:
 * `peek` gives its next item in seq order, reading the next chunk only when this one is used up.
 */
class StreamSource<T extends { seq: number }> {
  #rows: T[] = [];
  #next = 0;
  #after: number;
  #exhausted = false;

  constructor(
    afterSeq: number,
    readonly read: (afterSeq: number, limit: number) => Promise<T[]>,
  ) {
    this.#after = afterSeq;
  }

  async peek(want: () => number): Promise<T | undefined> {
    if (this.#next < this.#rows.length) return this.#rows[this.#next];
    if (this.#exhausted) return undefined;
    const size = want();
    this.#rows = await this.read(this.#after, size);
    this.#next = 0;
    if (this.#rows.length < size) this.#exhausted = true;
    const last = this.#rows.at(-1);
    if (last !== undefined) this.#after = last.seq;
    return this.#rows[0];
  }

  take(): void {
    this.#next += 1;
  }
}

/**
 * The one forward pager of a chat's event stream, for join replies (since_seq), HTTP
 * `after_seq` and the cluster's catch-up: the messages (current state) and change events with
 * seq > afterSeq, merged by seq and cut at `limit` items or `maxBytes`, whichever comes first.
 * Because the window is a seq range, a client that pages on from the largest seq it got (of
 * either kind) misses nothing and gets nothing twice. Reads are sized like readPage's, so a page
 * cut by bytes does not read the rows it leaves out.
 */
export async function readStreamPage(
  store: Pick<Store, 'messagesAfter' | 'eventsAfter'>,
  request: StreamPageRequest,
): Promise<StreamPage> {
  const { chatId, limit, maxBytes, atLeastOne, now } = request;
  const messages: WireMessage[] = [];
  const events: ChatEvent[] = [];
  let used = 0;
  let kept = 0;
  let reads = 0;
  // The first reads are small; later ones are sized by the bytes the items so far took.
  const want = (): number => {
    reads += 1;
    if (reads <= 2) return Math.min(limit + 1, FIRST_READ_ROWS);
    const average = used / Math.max(1, kept);
    return Math.min(
      limit - kept + 1,
      Math.max(FIRST_READ_ROWS, Math.ceil((maxBytes - used) / Math.max(1, average)) + 1),
    );
  };
  const messageSource = new StreamSource(request.afterSeq, (after, size) =>
    store.messagesAfter(chatId, after, size, now),
  );
  const eventSource = new StreamSource(request.afterSeq, (after, size) =>
    store.eventsAfter(chatId, after, size),
  );
  for (;;) {
    const message = await messageSource.peek(want);
    const event = await eventSource.peek(want);
    if (message === undefined && event === undefined) return { messages, events, hasMore: false };
    const takeMessage = message !== undefined && (event === undefined || message.seq < event.seq);
    const item = takeMessage ? message : event;
    if (item === undefined) return { messages, events, hasMore: false };
    const bytes = encodedBytes(item);
    if (kept === limit || (used + bytes > maxBytes && !(atLeastOne && kept === 0))) {
      return { messages, events, hasMore: true };
    }
    if (takeMessage) {
      messages.push(message);
      messageSource.take();
    } else if (event !== undefined) {
      events.push(event);
      eventSource.take();
    }
    used += bytes;
    kept += 1;
  }
}
