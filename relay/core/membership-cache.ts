/**
 * Members of recently active chats, so fan-out does not query the store per message.
 * Bounded (least recently used chats are dropped); invalidated on every membership change.
 *
 * Never an authority on access: in a cluster a node learns of another node's membership
 * changes over the bus, a moment later (or, after a bus loss, only when the cache is cleared).
 * It decides mentions and notifications; sends are authorised by the database in the
 * statement that stores them (`AppendRequest.requireMembership`).
 */
import type { Store, StoredUser } from './store.js';

export type Members = ReadonlyMap<string, StoredUser>;

export class MembershipCache {
  readonly #entries = new Map<string, Promise<Members>>();

  constructor(
    readonly store: Store,
    readonly maxChats: number = 5_000,
  ) {}

  get(chatId: string): Promise<Members> {
    const cached = this.#entries.get(chatId);
    if (cached !== undefined) {
      this.#entries.delete(chatId);
      this.#entries.set(chatId, cached);
      return cached;
    }
    const loading = this.store
      .listMembers(chatId)
      .then((users) => new Map(users.map((user) => [user.id, user])));
    loading.catch(() => this.#entries.delete(chatId));
    this.#entries.set(chatId, loading);
    if (this.#entries.size > this.maxChats) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return loading;
  }

  /** The cached member list, if there is one, without loading it (nor touching its recency). */
  peek(chatId: string): Promise<Members> | undefined {
    return this.#entries.get(chatId);
  }

  invalidate(chatId: string): void {
    this.#entries.delete(chatId);
  }

  /** Forgets every chat: in a cluster, after the bus may have lost membership events. */
  clear(): void {
    this.#entries.clear();
  }
}
