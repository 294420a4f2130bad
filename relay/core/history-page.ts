/**
 * History pages bounded by bytes as well as by count: the one rule for `GET
 * /api/chats/:id/messages`, join replies (plain and `since_seq`) and the cluster's catch-up
 * re-sends. A page keeps messages, in its paging direction, until the next one would take its
 * JSON encoding past the byte budget; the caller then says `has_more` and the client pages on
 * from the last seq it got (PROTOCOL.md, "History pages").
 *
 * Why: 500 messages of 8,000 control characters are 24 MB of JSON (each escapes to `\u0001`,
 * six bytes), and 500 of CJK text 12 MB. A join reply that size is over the socket's own
 * `maxBufferedBytes` (the relay closed it with 4001 and the client rejoined into the same
 * reply forever), and an HTTP page that size, asked for by many connections that never read,
 * held gigabytes.
 */
import type { WireMessage } from '../protocol/events.js';
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
