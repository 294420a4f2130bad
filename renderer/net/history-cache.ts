/**
 * Keeps the desktop offline cache up to date from the store: the chat list and the newest
 * confirmed messages of each chat, written at most every couple of seconds and only for chats
 * that changed. ParleyClient reads it back at start (HistorySource).
 *
 * Messages are cached in their current state: an edit rewrites the cached message, a delete
 * leaves only its tombstone (content ""), so a deleted message's text does not outlive it on
 * disk, in the messages nor in a chat's preview.
 */
import { z } from 'zod';
import type { ChatSummary, WireMessage } from '../../relay/protocol/events.js';
import { chatSummarySchema, wireMessageSchema } from '../../relay/protocol/wire-schemas.js';
import type { ParleyState, ParleyStore } from '../state/store.js';
import { isNewerVersion } from '../state/timeline.js';
import type { Timeline, UiMessage } from '../state/types.js';
import { fromWire } from './wire.js';

export interface HistorySink {
  saveChats(scope: string, chats: ChatSummary[]): Promise<unknown>;
  saveHistory(scope: string, chatId: string, messages: WireMessage[]): Promise<unknown>;
}

export interface HistorySnapshot {
  chats: ChatSummary[];
  messages: Record<string, WireMessage[]>;
}

const snapshotSchema = z.object({
  chats: z.array(chatSummarySchema),
  messages: z.record(z.string(), z.array(wireMessageSchema)),
});

/**
 * What the cache gave back, checked like anything from the relay (it was written by an older
 * version, or by hand): messages cached before edits existed read as unedited. Null (logged)
 * when it does not match.
 */
export function checkedSnapshot(value: unknown): HistorySnapshot | null {
  return fromWire(snapshotSchema, value, 'offline cache snapshot');
}

/** Where cached history comes from at start (the desktop's SQLite cache; absent in a browser). */
export interface HistorySource {
  load(scope: string): Promise<HistorySnapshot>;
}

/**
 * Shows cached chats and messages before the network answers. The cached messages are
 * confirmed ones, the tail of each chat, so the joins resume right after them (since_seq).
 */
export async function restoreHistory(
  store: ParleyStore,
  source: HistorySource,
  scope: string,
): Promise<void> {
  let loaded: unknown;
  try {
    loaded = await source.load(scope);
  } catch (error) {
    // A broken cache only costs the instant start; the relay still has everything.
    console.warn('parley: the offline cache could not be read', error);
    return;
  }
  const snapshot = checkedSnapshot(loaded);
  if (snapshot === null) return;
  const { actions } = store.getState();
  actions.setChats(snapshot.chats);
  for (const chat of snapshot.chats) {
    const messages = snapshot.messages[chat.id] ?? [];
    actions.applyJoin(chat.id, {
      messages,
      hasOlder: (messages[0]?.seq ?? 1) > 1,
      syncedSeq: messages.at(-1)?.seq ?? 0,
    });
  }
}

/** Messages kept per chat in the cache. */
export const CACHED_MESSAGES_PER_CHAT = 200;
const SAVE_EVERY_MS = 2_000;

/** The message as it may be stored: a deleted one keeps no text. */
function erased<T extends WireMessage>(message: T): T {
  return message.deleted_at === null || message.content === ''
    ? message
    : { ...message, content: '' };
}

/** A timeline message as the cache keeps it: the wire fields, a tombstone without its text. */
function cached({ status: _status, error: _error, errorCode: _code, ...message }: UiMessage) {
  return erased(message);
}

function toWire(timeline: Timeline): WireMessage[] {
  return timeline.messages.slice(-CACHED_MESSAGES_PER_CHAT).map(cached);
}

/** The chat's preview in its current state: the timeline's copy of it if that one is newer. */
function currentPreview(
  last: WireMessage | null,
  timeline: Timeline | undefined,
): WireMessage | null {
  if (last === null) return null;
  const current = timeline?.messages.findLast((m) => m.seq === last.seq);
  return current !== undefined && isNewerVersion(last, current) ? cached(current) : erased(last);
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
    let timelineChanged = false;
    for (const [chatId, timeline] of Object.entries(state.timelines)) {
      if (savedTimelines.get(chatId)?.messages === timeline.messages) continue;
      savedTimelines.set(chatId, timeline);
      timelineChanged = true;
      writes.push(sink.saveHistory(scope, chatId, toWire(timeline)));
    }
    // A changed timeline may have changed a preview (an edit, a delete of the newest message).
    if (state.chats !== savedChats || timelineChanged) {
      savedChats = state.chats;
      const chats = Object.values(state.chats).map(({ present: _present, ...chat }) => ({
        ...chat,
        last_message: currentPreview(chat.last_message, state.timelines[chat.id]),
      }));
      writes.push(sink.saveChats(scope, chats));
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
