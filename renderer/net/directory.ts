/**
 * The directory: the chat list (with unread counts), users, rooms, DMs, memberships, and
 * message search. Chats that appear are linked (joined on the socket); chats that disappear are
 * forgotten.
 */
import type { ChatSummary, UserInfo } from '../../relay/protocol/events.js';
import type { ParleyStore } from '../state/store.js';
import type { ApiClient, ApiResult } from './api-client.js';

/** Search results per page. */
const SEARCH_PAGE = 20;

export interface DirectoryOptions {
  store: ParleyStore;
  api: () => ApiClient | null;
  /** Joins the chat's channel (no-op when joined). */
  link: (chatId: string) => void;
  /** Leaves the chat's channel. */
  forget: (chatId: string) => void;
  openChat: (chatId: string) => void;
  markReadIfVisible: (chatId: string) => void;
}

export class Directory {
  constructor(private readonly o: DirectoryOptions) {}

  /** Reloads users and chats; links new chats and forgets those gone. */
  async load(): Promise<ApiResult<null>> {
    const api = this.o.api();
    if (api === null) return { ok: false, code: 'signed_out', message: 'signed out', status: 0 };
    const [chats, users] = await Promise.all([api.chats(), api.users()]);
    if (!chats.ok) return chats;
    if (users.ok) this.o.store.getState().actions.setUsers(users.data.users);
    this.#applyChats(chats.data.chats);
    return { ok: true, data: null };
  }

  #applyChats(chats: readonly ChatSummary[]): void {
    const { store } = this.o;
    const { actions } = store.getState();
    for (const chat of chats) actions.upsertChat(chat);
    const known = new Set(chats.map((c) => c.id));
    for (const id of Object.keys(store.getState().chats)) {
      if (!known.has(id)) this.forget(id);
    }
    for (const chat of chats) this.o.link(chat.id);
    if (store.getState().activeChatId === null) {
      const main = chats.find((c) => c.is_main) ?? chats[0];
      if (main !== undefined) actions.openChat(main.id);
    }
    // A summary fetched before our read marker reached the relay brings back the open chat's
    // old unread count; the chat on screen is read (found by e2e/notifications.spec.ts).
    const active = store.getState().activeChatId;
    if (active !== null) this.o.markReadIfVisible(active);
  }

  /** Fresh unread counts for the chats not on screen (after a resume). */
  async refreshUnread(): Promise<void> {
    const chats = await this.o.api()?.chats();
    if (chats === undefined || !chats.ok) return;
    const { actions, activeChatId } = this.o.store.getState();
    for (const chat of chats.data.chats) {
      if (chat.id !== activeChatId) actions.setUnread(chat.id, chat.unread_count, chat.read_seq);
    }
  }

  /** Drops a chat one is no longer in: its subscription and its state. */
  forget(chatId: string): void {
    this.o.forget(chatId);
    this.o.store.getState().actions.removeChat(chatId);
  }

  /** A chat left on another device: dropped here too; if it was open, the main room opens. */
  removed(chatId: string): void {
    const wasOpen = this.o.store.getState().activeChatId === chatId;
    this.forget(chatId);
    const main = Object.values(this.o.store.getState().chats).find((chat) => chat.is_main);
    if (wasOpen && main !== undefined) this.o.openChat(main.id);
  }

  async createRoom(input: {
    name: string;
    visibility: 'public' | 'private';
    ephemeralTtlS?: number;
  }): Promise<ApiResult<string>> {
    const created = await this.#api().createChat({
      name: input.name,
      visibility: input.visibility,
      ...(input.ephemeralTtlS === undefined ? {} : { ephemeral_ttl_s: input.ephemeralTtlS }),
    });
    if (!created.ok) return created;
    return this.#adopt(created.data.chat.id);
  }

  async startDm(userId: string): Promise<ApiResult<string>> {
    const dm = await this.#api().dm(userId);
    if (!dm.ok) return dm;
    return this.#adopt(dm.data.chat.id);
  }

  async joinRoom(chatId: string): Promise<ApiResult<string>> {
    const joined = await this.#api().joinChat(chatId);
    if (!joined.ok) return joined;
    return this.#adopt(chatId);
  }

  async addMember(chatId: string, userId: string): Promise<ApiResult<null>> {
    const added = await this.#api().addMember(chatId, userId);
    return added.ok ? { ok: true, data: null } : added;
  }

  /** Who is in a chat (the member list; the relay answers members only). */
  async chatMembers(chatId: string): Promise<ApiResult<UserInfo[]>> {
    const details = await this.#api().chat(chatId);
    return details.ok ? { ok: true, data: details.data.members } : details;
  }

  async leaveRoom(chatId: string): Promise<ApiResult<null>> {
    const left = await this.#api().leaveChat(chatId);
    if (!left.ok) return left;
    this.forget(chatId);
    return { ok: true, data: null };
  }

  publicRooms() {
    return this.#api().publicChats();
  }

  /** One page of message search (relay/PROTOCOL.md, "Search"): newest first. */
  search(query: { q: string; chatId?: string | undefined; before?: string | undefined }) {
    return this.#api().search({
      q: query.q,
      limit: SEARCH_PAGE,
      ...(query.chatId === undefined ? {} : { chat_id: query.chatId }),
      ...(query.before === undefined ? {} : { before: query.before }),
    });
  }

  async #adopt(chatId: string): Promise<ApiResult<string>> {
    await this.load();
    this.o.openChat(chatId);
    return { ok: true, data: chatId };
  }

  #api(): ApiClient {
    const api = this.o.api();
    if (api === null) throw new Error('not signed in');
    return api;
  }
}
