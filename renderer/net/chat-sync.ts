/**
 * Keeping each chat's timeline in step with its event stream (relay/PROTOCOL.md, "The event
 * stream"): every posted message and every change (edit, delete) takes the chat's next seq. The
 * resume point (`syncedSeq`) is the highest seq known with nothing missing before it, whether
 * that seq was a message or an event; anything live past `syncedSeq + 1` is a gap, paged in over
 * HTTP (`after_seq`), one backfill at a time per chat. Change events are applied by the store
 * (`applyChatEvents`) only when newer than the message's `version_seq`, so applying one twice, or
 * out of order, changes nothing.
 */
import type { ChatEvent, ChatJoinReply, WireMessage } from '../../relay/protocol/events.js';
import type { ParleyStore } from '../state/store.js';
import type { ApiClient } from './api-client.js';

/** A backfill page: the relay's maximum, so a long absence needs few round trips. */
const BACKFILL_PAGE = 500;

/** The largest seq among messages and events (0 for none). */
export function streamHead(
  messages: readonly { seq: number }[],
  events: readonly { seq: number }[],
): number {
  let head = 0;
  for (const item of messages) head = Math.max(head, item.seq);
  for (const item of events) head = Math.max(head, item.seq);
  return head;
}

interface Backfill {
  running: Promise<void>;
  /** The highest seq seen live past a gap: paging goes on until the resume point reaches it. */
  wanted: number;
}

export class ChatSync {
  readonly #backfills = new Map<string, Backfill>();

  constructor(
    private readonly store: ParleyStore,
    private readonly api: () => ApiClient | null,
  ) {}

  /**
   * A join reply. A first join shows the newest messages; a resume (since_seq) merges what was
   * missed and, when the reply could not hold it all (`has_more`), pages the rest over HTTP.
   * Returns whether this was a resume.
   */
  joined(chatId: string, reply: ChatJoinReply): boolean {
    const { actions } = this.store.getState();
    const resumed = this.#synced(chatId) > 0;
    actions.upsertChat({ ...reply.chat });
    const head = streamHead(reply.messages, reply.events);
    if (resumed && reply.has_more) {
      actions.applyJoin(chatId, { messages: reply.messages, syncedSeq: head });
      this.#apply(chatId, reply.events);
      void this.backfill(chatId);
    } else {
      actions.applyJoin(chatId, {
        messages: reply.messages,
        hasOlder: reply.has_more,
        syncedSeq: Math.max(reply.last_seq, head),
      });
      this.#apply(chatId, reply.events);
    }
    return resumed;
  }

  /** A posted message, live or our own acknowledged send. */
  message(chatId: string, message: WireMessage): void {
    const gap = this.store.getState().actions.receive(chatId, message);
    if (gap) void this.backfill(chatId, message.seq);
  }

  /**
   * Change events, live (`message_edited`, `message_deleted`) or in the reply to our own edit or
   * delete. One right after the resume point moves it on; one past a gap waits for the backfill
   * that fills the gap (the page carries it too), so the resume point never skips a seq.
   */
  events(chatId: string, events: readonly ChatEvent[]): void {
    for (const event of [...events].sort((a, b) => a.seq - b.seq)) {
      const synced = this.#synced(chatId);
      if (event.seq > synced + 1) {
        void this.backfill(chatId, event.seq);
        continue;
      }
      this.#apply(chatId, [event]);
      if (event.seq === synced + 1) this.#markSynced(chatId, event.seq);
    }
  }

  /**
   * Pages everything after the resume point over HTTP (a gap, or a resume too big to reply), at
   * least up to `upTo` (a seq seen live past the gap). A call while one runs joins it.
   */
  backfill(chatId: string, upTo = 0): Promise<void> {
    const current = this.#backfills.get(chatId);
    if (current !== undefined) {
      current.wanted = Math.max(current.wanted, upTo);
      return current.running;
    }
    const state: Backfill = { running: Promise.resolve(), wanted: upTo };
    state.running = this.#page(chatId, state).finally(() => {
      if (this.#backfills.get(chatId) === state) this.#backfills.delete(chatId);
    });
    this.#backfills.set(chatId, state);
    return state.running;
  }

  /** Forgets a chat's backfill (the chat was left); a page still on its way is ignored. */
  forget(chatId: string): void {
    this.#backfills.delete(chatId);
  }

  async #page(chatId: string, state: Backfill): Promise<void> {
    for (;;) {
      const api = this.api();
      if (api === null) return;
      const synced = this.#synced(chatId);
      const page = await api.history(chatId, { after_seq: synced, limit: BACKFILL_PAGE });
      if (!page.ok || this.#backfills.get(chatId) !== state) return;
      const { messages, events, has_more: hasMore } = page.data;
      // The page covers (after_seq, its largest seq]; anything newer that came live meanwhile
      // raised `wanted`.
      const covered = Math.max(synced, streamHead(messages, events));
      this.store.getState().actions.applyBackfill(chatId, messages, covered);
      this.#apply(chatId, events);
      // A page that brought nothing would loop for ever: stop and wait for the next gap.
      if (covered === synced) return;
      if (!hasMore && covered >= state.wanted) return;
    }
  }

  #apply(chatId: string, events: readonly ChatEvent[]): void {
    if (events.length === 0) return;
    this.store.getState().actions.applyChatEvents(chatId, events);
  }

  #synced(chatId: string): number {
    return this.store.getState().timelines[chatId]?.syncedSeq ?? 0;
  }

  /** Moves the resume point to `seq` (no-op if already past it). */
  #markSynced(chatId: string, seq: number): void {
    if (this.#synced(chatId) < seq) this.store.getState().actions.applyBackfill(chatId, [], seq);
  }
}
