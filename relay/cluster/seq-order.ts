/**
 * Per-chat seq ordering of a chat's stream events (messages, edits, deletes: they share the
 * chat's seq) at a cluster node. Two nodes commit seq 11 and 12
 * of one chat a moment apart; their publishes can reach a third node in the other order. Sent
 * on as they come, every client of that node would see a gap and backfill over HTTP at once.
 * Instead, a message that arrives ahead of its predecessor waits here (at most `holdMs`) for
 * it. If the predecessor never comes (lost with a Redis restart), the held ones go out anyway:
 * clients then see the gap and backfill, and catch-up.ts re-sends from the store.
 *
 * Bounded: at most `maxChats` chats are tracked (least recently active dropped first) and at
 * most `maxHeldPerChat` messages wait per chat.
 */
/** Where an event stands in its chat's stream. */
export interface StreamPosition {
  chatId: string;
  seq: number;
}

export interface SeqOrderOptions<T> {
  /** The chat and seq of an event. */
  position: (event: T) => StreamPosition;
  /** Receives events in order (or, after a hold timed out, with the gap left open). */
  deliver: (event: T) => void;
  /** Longest wait for a missing predecessor. */
  holdMs?: number;
  maxChats?: number;
  maxHeldPerChat?: number;
}

interface ChatOrder<T> {
  next: number;
  held: Map<number, T>;
  timer: NodeJS.Timeout | null;
}

export const SEQ_ORDER_DEFAULTS = { holdMs: 100, maxChats: 10_000, maxHeldPerChat: 1_000 };

export class SeqOrder<T> {
  readonly #o: Required<SeqOrderOptions<T>>;
  readonly #chats = new Map<string, ChatOrder<T>>();

  constructor(options: SeqOrderOptions<T>) {
    this.#o = { ...SEQ_ORDER_DEFAULTS, ...options };
  }

  /** Messages waiting for a predecessor, over all chats. */
  get held(): number {
    let count = 0;
    for (const chat of this.#chats.values()) count += chat.held.size;
    return count;
  }

  push(event: T): void {
    const { chatId, seq } = this.#o.position(event);
    let chat = this.#chats.get(chatId);
    if (chat === undefined) {
      // First message seen for this chat: it sets the expectation.
      chat = { next: seq, held: new Map(), timer: null };
      this.#evictIfFull();
    } else {
      // Most recently active last, for eviction.
      this.#chats.delete(chatId);
    }
    this.#chats.set(chatId, chat);
    if (seq > chat.next && chat.held.size >= this.#o.maxHeldPerChat) this.#release(chat);
    if (seq < chat.next) {
      // Late (after a hold gave up) or repeated: pass it on; clients drop seqs they have.
      this.#o.deliver(event);
    } else if (seq > chat.next) {
      chat.held.set(seq, event);
      if (chat.timer === null) {
        const waiting = chat;
        chat.timer = setTimeout(() => this.#release(waiting), this.#o.holdMs);
        chat.timer.unref();
      }
    } else {
      this.#o.deliver(event);
      chat.next = seq + 1;
      this.#drain(chat);
    }
  }

  /** Delivers what is held in order, without waiting any longer (shutdown). */
  flush(): void {
    for (const chat of this.#chats.values()) this.#release(chat);
    this.#chats.clear();
  }

  #drain(chat: ChatOrder<T>): void {
    for (let next = chat.held.get(chat.next); next !== undefined; next = chat.held.get(chat.next)) {
      chat.held.delete(chat.next);
      chat.next += 1;
      this.#o.deliver(next);
    }
    if (chat.held.size === 0 && chat.timer !== null) {
      clearTimeout(chat.timer);
      chat.timer = null;
    }
  }

  /** Gives up waiting: delivers everything held, in seq order, gaps and all. */
  #release(chat: ChatOrder<T>): void {
    if (chat.timer !== null) clearTimeout(chat.timer);
    chat.timer = null;
    const seqs = [...chat.held.keys()].sort((a, b) => a - b);
    for (const seq of seqs) {
      const event = chat.held.get(seq);
      chat.held.delete(seq);
      if (event === undefined) continue;
      this.#o.deliver(event);
      chat.next = Math.max(chat.next, seq + 1);
    }
  }

  #evictIfFull(): void {
    if (this.#chats.size < this.#o.maxChats) return;
    const oldest = this.#chats.entries().next();
    if (oldest.done === true) return;
    this.#release(oldest.value[1]);
    this.#chats.delete(oldest.value[0]);
  }
}
