/** Derived views of the store, for components (with useShallow where they return new objects). */
import type { ParleyState } from './store.js';
import type { ChatState, Timeline, UiMessage, WireMessage } from './types.js';
import { emptyTimeline, findBySeq, isNewerVersion } from './timeline.js';

const EMPTY = emptyTimeline();

export function chatTitle(state: Pick<ParleyState, 'users' | 'me'>, chat: ChatState): string {
  if (chat.kind === 'room') return chat.name;
  const otherId = chat.dm_user_ids.find((id) => id !== state.me?.id) ?? chat.dm_user_ids[0] ?? '';
  return state.users[otherId]?.name ?? 'Direct message';
}

/** Rooms first (main room on top), then DMs, each alphabetical. */
export function sortedChats(state: ParleyState): ChatState[] {
  return Object.values(state.chats).sort((a, b) => {
    if (a.kind !== b.kind) return a.kind === 'room' ? -1 : 1;
    if (a.is_main !== b.is_main) return a.is_main ? -1 : 1;
    return chatTitle(state, a).localeCompare(chatTitle(state, b));
  });
}

export function activeTimeline(state: ParleyState): Timeline {
  return state.activeChatId === null ? EMPTY : (state.timelines[state.activeChatId] ?? EMPTY);
}

/** Confirmed messages then own pending ones: what the message list shows. */
export function visibleMessages(timeline: Timeline): UiMessage[] {
  return timeline.pending.length === 0
    ? timeline.messages
    : [...timeline.messages, ...timeline.pending];
}

/** Online = present in at least one chat we share (Phoenix Presence), by user id. */
export function onlineUserIds(state: ParleyState): Set<string> {
  const online = new Set<string>();
  for (const chat of Object.values(state.chats))
    for (const id of Object.keys(chat.present)) online.add(id);
  return online;
}

/** "Ana is typing…", "Ana and Ben are typing…", "Several people are typing…", or null. */
export function typingLine(state: ParleyState, chatId: string): string | null {
  const names = (state.typing[chatId] ?? [])
    .filter((id) => id !== state.me?.id)
    .map((id) => state.users[id]?.name ?? 'Someone');
  if (names.length === 0) return null;
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

export function totalUnread(state: ParleyState): number {
  return Object.values(state.chats).reduce((sum, chat) => sum + chat.unread_count, 0);
}

/**
 * Search results as they stand now: a result the store holds a newer version of (edited since
 * the relay answered) shows that version, and one deleted since is left out (its text is gone).
 * The same array comes back when nothing changed.
 */
export function currentResults(
  results: readonly WireMessage[],
  timelines: Readonly<Record<string, Timeline>>,
): readonly WireMessage[] {
  let changed = false;
  const current: WireMessage[] = [];
  for (const result of results) {
    const timeline = timelines[result.chat_id];
    const held = timeline === undefined ? undefined : findBySeq(timeline, result.seq);
    const latest = held !== undefined && isNewerVersion(result, held) ? held : result;
    if (latest !== result) changed = true;
    if (latest.deleted_at !== null) {
      changed = true;
      continue;
    }
    current.push(latest);
  }
  return changed ? current : results;
}
