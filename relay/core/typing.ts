/**
 * Who is typing in which chat. Updates go out only when the set of typing users changes
 * (seed 000), and an entry expires after typingTtlMs so a vanished client never stays "typing".
 */
interface TypingEntry {
  expiresAt: number;
  connectionId: string;
}

export type TypingListener = (chatId: string, userIds: string[]) => void;

export class TypingTracker {
  readonly #chats = new Map<string, Map<string, TypingEntry>>();

  constructor(
    readonly ttlMs: number,
    readonly onChange: TypingListener,
  ) {}

  /** Sets or clears one user's typing state; announces the new set if it changed. */
  set(input: {
    chatId: string;
    userId: string;
    connectionId: string;
    typing: boolean;
    now?: number;
  }): void {
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
    return this.#typingHere(chatId);
  }

  // Not typingIn: a subclass may widen that (a cluster node answers for every node), while
  // this tracker's own bookkeeping and announcements are about its own entries only.
  #typingHere(chatId: string): string[] {
    return [...(this.#chats.get(chatId)?.keys() ?? [])];
  }

  #announce(chatId: string): void {
    const userIds = this.#typingHere(chatId);
    if (userIds.length === 0) this.#chats.delete(chatId);
    this.onChange(chatId, userIds);
  }
}
