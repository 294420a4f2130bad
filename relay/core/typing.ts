/**
 * Who is typing in which chat. Updates go out only when the set of typing users changes
 * (seed 000), and an entry expires after typingTtlMs so a vanished client never stays "typing".
 */
interface TypingEntry {
  expiresAt: number;
  connectionId: string;
}

export type TypingListener = (chatId: string, userIds: string[]) => void;

/** One user starting or stopping typing in a chat, from one connection. */
export interface TypingChange {
  chatId: string;
  userId: string;
  connectionId: string;
  typing: boolean;
  now?: number;
}

/**
 * Typing as the transport needs it (chat-channel.ts, socket-server.ts): a TypingTracker on one
 * host; in a cluster, ClusterTyping, which wraps one (cluster/cluster-presence.ts).
 */
export interface ChatTyping {
  /** Sets or clears one user's typing state; announces the new set if it changed. */
  set(change: TypingChange): void;
  /** Clears whatever this connection was typing (it left the chat or disconnected). */
  dropConnection(connectionId: string, chatId?: string): void;
  /** Expires stale entries. Called on a timer. */
  sweep(now?: number): void;
  /** Everyone typing in the chat. */
  typingIn(chatId: string): string[];
}

/** This node's typing users, announced to `onChange` whenever a chat's set changes. */
export class TypingTracker implements ChatTyping {
  readonly #chats = new Map<string, Map<string, TypingEntry>>();

  constructor(
    readonly ttlMs: number,
    readonly onChange: TypingListener,
  ) {}

  /** Sets or clears one user's typing state; announces the new set if it changed. */
  set(input: TypingChange): void {
    const now = input.now ?? Date.now();
    let users = this.#chats.get(input.chatId);
    if (input.typing) {
      if (users === undefined) this.#chats.set(input.chatId, (users = new Map()));
      const had = users.has(input.userId);
      users.set(input.userId, { expiresAt: now + this.ttlMs, connectionId: input.connectionId });
      if (!had) this.#announce(input.chatId);
    } else if (users?.delete(input.userId) === true) {
      this.#announce(input.chatId);
    }
  }

  /** Clears whatever this connection was typing (it left the chat or disconnected). */
  dropConnection(connectionId: string, chatId?: string): void {
    const chatIds = chatId === undefined ? [...this.#chats.keys()] : [chatId];
    for (const id of chatIds) {
      const users = this.#chats.get(id);
      if (users === undefined) continue;
      let changed = false;
      for (const [userId, entry] of users) {
        if (entry.connectionId === connectionId) changed = users.delete(userId) || changed;
      }
      if (changed) this.#announce(id);
    }
  }

  /** Expires stale entries. Called on a timer. */
  sweep(now: number = Date.now()): void {
    for (const [chatId, users] of this.#chats) {
      let changed = false;
      for (const [userId, entry] of users) {
        if (entry.expiresAt <= now) changed = users.delete(userId) || changed;
      }
      if (changed) this.#announce(chatId);
    }
  }

  typingIn(chatId: string): string[] {
    return [...(this.#chats.get(chatId)?.keys() ?? [])];
  }

  #announce(chatId: string): void {
    const userIds = this.typingIn(chatId);
    if (userIds.length === 0) this.#chats.delete(chatId);
    this.onChange(chatId, userIds);
  }
}
