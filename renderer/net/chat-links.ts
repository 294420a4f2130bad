/**
 * One `chat:<id>` channel per chat on the current socket: joined (and rejoined after a drop)
 * from the chat's resume point, with Presence, typing, and the chat's event stream handed to
 * ChatSync. Every payload is validated first (wire.ts); a bad one is logged and dropped.
 */
import { Presence, type Channel, type Socket } from 'phoenix';
import type { ChatJoinReply, UserInfo, WireMessage } from '../../relay/protocol/events.js';
import { chatTopic } from '../../relay/protocol/topics.js';
import {
  chatJoinReplySchema,
  errorReplySchema,
  messageDeletedSchema,
  messageEditedSchema,
  typingUpdateSchema,
  wireMessageSchema,
} from '../../relay/protocol/wire-schemas.js';
import type { ParleyStore } from '../state/store.js';
import type { ChatSync } from './chat-sync.js';
import { validated } from './wire.js';

export interface ChatLinksOptions {
  store: ParleyStore;
  sync: ChatSync;
  pushTimeoutMs: number;
  /** A join (or rejoin) succeeded and its reply was applied. */
  onJoined: (chatId: string, resumed: boolean, reply: ChatJoinReply) => void;
  /** A live message was applied. */
  onMessage: (chatId: string, message: WireMessage) => void;
}

interface ChatLink {
  channel: Channel;
  presence: Presence;
}

export class ChatLinks {
  #socket: Socket | null = null;
  readonly #links = new Map<string, ChatLink>();

  constructor(private readonly o: ChatLinksOptions) {}

  /** Uses a new socket; call `link` for each chat after. */
  attach(socket: Socket): void {
    this.dropAll();
    this.#socket = socket;
  }

  /** The chat's channel when it is joined (pushes go through it), else null. */
  joined(chatId: string): Channel | null {
    const channel = this.#links.get(chatId)?.channel;
    return channel?.state === 'joined' ? channel : null;
  }

  /** Joins chat:<id> (once per socket); rejoins resume from the synced seq. */
  link(chatId: string): void {
    const socket = this.#socket;
    if (socket === null || this.#links.has(chatId)) return;
    const { store, sync } = this.o;
    const channel = socket.channel(chatTopic(chatId), () => {
      const synced = store.getState().timelines[chatId]?.syncedSeq ?? 0;
      return synced > 0 ? { since_seq: synced } : {};
    });
    const link: ChatLink = { channel, presence: this.#watchPresence(chatId, channel) };
    this.#links.set(chatId, link);
    channel.on(
      'receive_message',
      validated(wireMessageSchema, 'receive_message', (message) => {
        sync.message(chatId, message);
        this.o.onMessage(chatId, message);
      }),
    );
    channel.on(
      'message_edited',
      validated(messageEditedSchema, 'message_edited', (event) => sync.events(chatId, [event])),
    );
    channel.on(
      'message_deleted',
      validated(messageDeletedSchema, 'message_deleted', (event) => sync.events(chatId, [event])),
    );
    channel.on(
      'typing_update',
      validated(typingUpdateSchema, 'typing_update', (update) =>
        store.getState().actions.setTyping(chatId, update.user_ids),
      ),
    );
    channel.onClose(() => {
      // The relay closed this subscription (we left or lost access).
      if (this.#links.get(chatId) === link && this.#socket === socket && socket.isConnected()) {
        this.#links.delete(chatId);
      }
    });
    channel
      .join(this.o.pushTimeoutMs)
      .receive(
        'ok',
        validated(chatJoinReplySchema, `join reply of ${chatTopic(chatId)}`, (reply) => {
          const resumed = sync.joined(chatId, reply);
          this.o.onJoined(chatId, resumed, reply);
        }),
      )
      .receive(
        'error',
        validated(errorReplySchema, `join error of ${chatTopic(chatId)}`, (reply) => {
          if (reply.reason === 'not_member' || reply.reason === 'not_found') {
            this.forget(chatId);
            store.getState().actions.removeChat(chatId);
          }
        }),
      );
  }

  /** Leaves a chat's channel (the chat was left, or is no longer ours). */
  forget(chatId: string): void {
    this.#links.get(chatId)?.channel.leave();
    this.#links.delete(chatId);
    this.o.sync.forget(chatId);
  }

  /** Leaves every channel (the socket is going away). */
  dropAll(): void {
    for (const link of this.#links.values()) link.channel.leave();
    this.#links.clear();
    this.#socket = null;
  }

  #watchPresence(chatId: string, channel: Channel): Presence {
    const { store } = this.o;
    const presence = new Presence(channel);
    presence.onSync(() => {
      const present: Record<string, number> = {};
      const newcomers: UserInfo[] = [];
      const known = store.getState().users;
      presence.list((id: string, entry: { metas: { name?: unknown }[] }) => {
        present[id] = entry.metas.length;
        // Someone who signed up after our directory load: learn their name from presence, so
        // the typing line, DM titles and the people picker name them.
        const name = entry.metas[0]?.name;
        if (known[id] === undefined && typeof name === 'string') newcomers.push({ id, name });
      });
      if (newcomers.length > 0) store.getState().actions.setUsers(newcomers);
      store.getState().actions.setPresence(chatId, present);
    });
    return presence;
  }
}
