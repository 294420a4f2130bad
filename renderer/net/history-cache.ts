/**
 * Keeps the desktop offline cache up to date from the store: the chat list and the newest
 * confirmed messages of each chat, written at most every couple of seconds and only for chats
 * that changed. ParleyClient reads it back at start (HistorySource).
 */
import type { ChatSummary, WireMessage } from '../../relay/protocol/events.js';
import type { ParleyState, ParleyStore } from '../state/store.js';
import type { Timeline } from '../state/types.js';

export interface HistorySink {
  saveChats(scope: string, chats: ChatSummary[]): Promise<unknown>;
  saveHistory(scope: string, chatId: string, messages: WireMessage[]): Promise<unknown>;
}

/** Messages kept per chat in the cache. */
export const CACHED_MESSAGES_PER_CHAT = 200;
const SAVE_EVERY_MS = 2_000;

function toWire(timeline: Timeline): WireMessage[] {
  return timeline.messages
    .slice(-CACHED_MESSAGES_PER_CHAT)
    .map(({ status: _status, error: _error, ...message }) => message);
}

/** Starts writing the store to the cache; returns a function that flushes and stops. */
export function persistHistory(
  store: ParleyStore,
  sink: HistorySink,
  scopeOf: (state: ParleyState) => string | null,
  everyMs: number = SAVE_EVERY_MS,
): () => Promise<void> {
  let savedChats: ParleyState['chats'] | null = null;
  const savedTimelines = new Map<string, Timeline>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  async function save(): Promise<void> {
    timer = null;
    const state = store.getState();
    const scope = scopeOf(state);
    if (scope === null) return;
    const writes: Promise<unknown>[] = [];
    if (state.chats !== savedChats) {
      savedChats = state.chats;
      const chats = Object.values(state.chats).map(({ present: _present, ...chat }) => chat);
      writes.push(sink.saveChats(scope, chats));
    }
    for (const [chatId, timeline] of Object.entries(state.timelines)) {
      if (savedTimelines.get(chatId)?.messages === timeline.messages) continue;
      savedTimelines.set(chatId, timeline);
      writes.push(sink.saveHistory(scope, chatId, toWire(timeline)));
    }
    await Promise.all(writes);
  }

  const unsubscribe = store.subscribe(() => {
    timer ??= setTimeout(() => void save(), everyMs);
  });
  return async () => {
    unsubscribe();
    if (timer !== null) clearTimeout(timer);
    await save();
  };
}
