/**
 * Wire objects and a signed-in store for the client layer's unit tests (Node, no relay). Tests
 * that make a claim about the system run against a real relay instead (parley-client.test.ts).
 */
import type {
  ChatSummary,
  MessageDeleted,
  MessageEdited,
  WireMessage,
} from '../../relay/protocol/events.js';
import { createParleyStore, type ParleyStore } from '../state/store.js';

export const CHAT = 'chat-1';
export const ME = { id: 'u-me', name: 'Me' };
export const OTHER = { id: 'u-other', name: 'Other' };
const T0 = Date.parse('2026-12-01T10:00:00.000Z');

export function message(
  seq: number,
  content: string,
  extra: Partial<WireMessage> = {},
): WireMessage {
  return {
    chat_id: CHAT,
    message_id: `m${seq}`,
    seq,
    content,
    sender_id: ME.id,
    sender_name: ME.name,
    timestamp: new Date(T0 + seq * 1000).toISOString(),
    expires_at: null,
    mobile_ref_id: `ref-${seq}`,
    edited_at: null,
    deleted_at: null,
    version_seq: seq,
    ...extra,
  };
}

export function edited(seq: number, messageSeq: number, content: string): MessageEdited {
  return {
    type: 'message_edited',
    chat_id: CHAT,
    seq,
    message_id: `m${messageSeq}`,
    message_seq: messageSeq,
    sender_id: ME.id,
    content,
    edited_at: new Date(T0 + seq * 1000).toISOString(),
  };
}

export function deleted(seq: number, messageSeq: number): MessageDeleted {
  return {
    type: 'message_deleted',
    chat_id: CHAT,
    seq,
    message_id: `m${messageSeq}`,
    message_seq: messageSeq,
    sender_id: ME.id,
    deleted_by: ME.id,
    deleted_at: new Date(T0 + seq * 1000).toISOString(),
  };
}

export function chatSummary(lastSeq = 0): ChatSummary {
  return {
    id: CHAT,
    kind: 'room',
    name: 'general',
    visibility: 'public',
    ephemeral_ttl_s: null,
    is_main: true,
    dm_user_ids: [],
    last_seq: lastSeq,
    created_at: new Date(T0).toISOString(),
    unread_count: 0,
    read_seq: 0,
    last_message: null,
  };
}

/** A store signed in as ME with CHAT holding `messages`, synced up to `syncedSeq`. */
export function storeWith(messages: readonly WireMessage[], syncedSeq: number): ParleyStore {
  const store = createParleyStore();
  const { actions } = store.getState();
  actions.signedIn({ serverUrl: 'http://relay.test', me: ME });
  actions.setChats([chatSummary(syncedSeq)]);
  actions.applyJoin(CHAT, { messages, hasOlder: false, syncedSeq });
  return store;
}

/** The chat's confirmed messages as [seq, content, edited?, deleted?]. */
export function shown(store: ParleyStore): [number, string, boolean, boolean][] {
  return (store.getState().timelines[CHAT]?.messages ?? []).map((m) => [
    m.seq,
    m.content,
    m.edited_at !== null,
    m.deleted_at !== null,
  ]);
}

export function syncedSeq(store: ParleyStore): number {
  return store.getState().timelines[CHAT]?.syncedSeq ?? 0;
}

/** A fetch that answers JSON from `answer(url)` and records every URL asked for. */
export function fakeFetch(answer: (url: URL, init: RequestInit | undefined) => unknown): {
  fetchImpl: typeof fetch;
  urls: URL[];
} {
  const urls: URL[] = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    urls.push(url);
    return new Response(JSON.stringify(answer(url, init)), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetchImpl: fetchImpl as typeof fetch, urls };
}
