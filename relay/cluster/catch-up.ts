/**
 * After the bus may have lost messages (Redis restarted, a peer's counter jumped), this node
 * re-reads from the store what its clients may have missed and broadcasts it again. Clients
 * already detect a seq gap when a later message arrives; this covers the messages after which
 * nothing else arrives (the "last message before a quiet spell" would otherwise wait for the
 * next one). Clients ignore a seq they already have (PROTOCOL.md).
 *
 * It keeps, per chat with subscribers on this node, the highest seq this node delivered. The
 * map lives only as long as the chat has local subscribers, so it is bounded like the hub.
 */
import type { Logger } from 'pino';
import { encodeFrame } from '../protocol/frame.js';
import { EVENTS, type ChatEvent, type WireMessage } from '../protocol/events.js';
import { chatTopic, parseTopic } from '../protocol/topics.js';
import type { BusEvent } from '../core/bus.js';
import { fitPage, readStreamPage } from '../core/history-page.js';
import type { Hub } from '../transport/hub.js';
import type { MembershipCache } from '../core/membership-cache.js';
import type { Store } from '../core/store.js';

/** One place of a chat's stream, re-sent in seq order. */
type StreamItem = { seq: number; message: WireMessage } | { seq: number; event: ChatEvent };

export interface CatchUpOptions {
  store: Store;
  hub: Hub;
  /** Cleared on a bus loss (membership events may be among the lost), so it reads afresh. */
  members: MembershipCache;
  /** Ends a user's subscriptions to a chat on this node (socket-server.ts: phx_close). */
  revoke: (userId: string, chatId: string) => void;
  logger: Logger;
  /** Most messages re-sent per chat; beyond, clients see a jump and page the rest over HTTP. */
  maxPerChat: number;
  /** Most bytes of messages re-sent per chat (the newest are kept), for the same reason. */
  maxBytesPerChat: number;
}

/** Cursor of a chat whose starting point is still being read. */
const UNKNOWN = -1;

export class CatchUp {
  readonly #o: CatchUpOptions;
  readonly #cursors = new Map<string, number>();
  #running: Promise<void> | null = null;
  #again = false;

  constructor(options: CatchUpOptions) {
    this.#o = options;
  }

  /** Hub observer: a chat topic gained its first (on) or lost its last local subscriber. */
  topicActive(topic: string, on: boolean): void {
    const route = parseTopic(topic);
    if (route?.kind !== 'chat') return;
    const { chatId } = route;
    if (!on) {
      this.#cursors.delete(chatId);
      return;
    }
    if (this.#cursors.has(chatId)) return;
    this.#cursors.set(chatId, UNKNOWN);
    // The subscription exists before this read, so nothing committed later can be missed.
    this.#o.store.getChat(chatId).then(
      (chat) => this.#advance(chatId, chat?.last_seq ?? 0),
      (error: unknown) => {
        this.#o.logger.warn({ err: error, chat: chatId }, 'catch-up start point unknown');
      },
    );
  }

  /** Bus handler: remembers the newest seq delivered per chat. */
  observe(event: BusEvent): void {
    if (event.type === 'message') this.#advance(event.message.chat_id, event.message.seq);
    else if (event.type === 'change') this.#advance(event.event.chat_id, event.event.seq);
  }

  /** Re-reads every tracked chat from the store; calls arriving meanwhile run once more after. */
  recover(): Promise<void> {
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#reconcile();
      } while (this.#again);
      this.#running = null;
    })();
    return this.#running;
  }

  #advance(chatId: string, seq: number): void {
    const cursor = this.#cursors.get(chatId);
    if (cursor !== undefined && seq > cursor) this.#cursors.set(chatId, seq);
  }

  async #reconcile(): Promise<void> {
    const now = new Date();
    let resent = 0;
    let revoked = 0;
    for (const [chatId, cursor] of [...this.#cursors]) {
      try {
        // A removal published while the bus was down never reached this node: its removed
        // users would still be subscribed here. Checked against the store before anything is
        // sent again, so nobody keeps reading a chat they left.
        revoked += await this.#revokeNonMembers(chatId);
        if (cursor === UNKNOWN) continue;
        // The stream after the cursor (messages and changes), read by the one forward pager,
        // bounded by count and bytes: every subscriber gets all of it, and a few long messages
        // would otherwise queue more than a reading client's maxBufferedBytes.
        const page = await readStreamPage(this.#o.store, {
          chatId,
          afterSeq: cursor,
          limit: this.#o.maxPerChat,
          maxBytes: this.#o.maxBytesPerChat,
          atLeastOne: true,
          now,
        });
        let items: StreamItem[];
        if (page.hasMore) {
          // Too much was missed: the newest messages only; clients see the gap and page the
          // stream (changes included) over HTTP.
          const newest = await this.#o.store.messagesBefore(chatId, null, this.#o.maxPerChat, now);
          items = fitPage(newest, this.#o.maxBytesPerChat, 'newest', {
            atLeastOne: true,
          }).messages.map((message) => ({ seq: message.seq, message }));
        } else {
          items = [
            ...page.messages.map((message) => ({ seq: message.seq, message })),
            ...page.events.map((event) => ({ seq: event.seq, event })),
          ].sort((a, b) => a.seq - b.seq);
        }
        const topic = chatTopic(chatId);
        for (const item of items) {
          // Delivered meanwhile (live, or the chat lost its subscribers): skip.
          const current = this.#cursors.get(chatId);
          if (current === undefined || item.seq <= current) continue;
          this.#cursors.set(chatId, item.seq);
          const frame =
            'message' in item
              ? encodeFrame(null, null, topic, EVENTS.receiveMessage, item.message)
              : encodeFrame(null, null, topic, item.event.type, item.event);
          this.#o.hub.broadcast(topic, frame, { seq: item.seq });
          resent += 1;
        }
      } catch (error) {
        this.#o.logger.warn({ err: error, chat: chatId }, 'catch-up read failed');
      }
    }
    if (resent > 0 || revoked > 0) {
      this.#o.logger.info({ resent, revoked }, 'caught up after bus loss');
    }
  }

  /** Revokes this node's subscriptions to the chat held by users who are no longer members. */
  async #revokeNonMembers(chatId: string): Promise<number> {
    const members = await this.#o.members.get(chatId);
    const gone = new Set<string>();
    for (const subscription of this.#o.hub.subscribers(chatTopic(chatId))) {
      const userId = subscription.connection.user.id;
      if (!members.has(userId)) gone.add(userId);
    }
    for (const userId of gone) this.#o.revoke(userId, chatId);
    return gone.size;
  }
}
