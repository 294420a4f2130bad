/**
 * Read markers: the chat on screen, in a focused window, is read up to its newest message; the
 * relay is told over the socket when joined, over HTTP otherwise.
 */
import type { Channel } from 'phoenix';
import type { ParleyStore } from '../state/store.js';
import { lastSeq } from '../state/timeline.js';
import type { ApiClient } from './api-client.js';

export class ReadMarker {
  constructor(
    private readonly store: ParleyStore,
    private readonly channel: (chatId: string) => Channel | null,
    private readonly api: () => ApiClient | null,
    private readonly pushTimeoutMs: number,
  ) {}

  /** Marks the chat read if the user can see it (open, window focused) and it has news. */
  markIfVisible(chatId: string): void {
    const state = this.store.getState();
    if (state.activeChatId !== chatId || !state.windowFocused) return;
    const chat = state.chats[chatId];
    const timeline = state.timelines[chatId];
    if (chat === undefined || timeline === undefined) return;
    const seq = lastSeq(timeline);
    if (seq <= chat.read_seq && chat.unread_count === 0) return;
    state.actions.setUnread(chatId, 0, seq);
    const channel = this.channel(chatId);
    if (channel !== null) channel.push('read', { seq }, this.pushTimeoutMs);
    else void this.api()?.read(chatId, seq);
  }
}
