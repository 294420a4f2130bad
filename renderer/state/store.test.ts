import { describe, expect, it } from 'vitest';
import type { HostingStatus } from '../../electron/shared/bridge.js';
import type { ChatEvent, ChatSummary, WireMessage } from '../../relay/protocol/events.js';
import { currentResults } from './selectors.js';
import { createParleyStore } from './store.js';

const RUNNING: HostingStatus = {
  state: 'running',
  url: 'https://127.0.0.1:4000',
  lanUrls: ['https://192.168.1.20:4000'],
  port: 4000,
  displayName: 'Ana',
  relayId: '0'.repeat(32),
  passcodeRequired: false,
  advertised: false,
  tlsFingerprint: null,
  error: null,
};

describe('hosting in the store', () => {
  it('is null until the desktop shell tells, and outlives signing out', () => {
    const store = createParleyStore();
    const { actions } = store.getState();
    expect(store.getState().hosting).toBeNull();
    actions.setHosting(RUNNING);
    actions.signedIn({ serverUrl: RUNNING.url ?? '', me: { id: 'u1', name: 'Ana' } });
    actions.openDialog('invite-people');
    actions.signedOut();
    expect(store.getState()).toMatchObject({
      status: 'signed-out',
      dialog: null,
      hosting: RUNNING,
    });
    actions.setHosting({ ...RUNNING, state: 'stopped', url: null, lanUrls: [], port: null });
    expect(store.getState().hosting?.state).toBe('stopped');
  });
});

describe('edits and deletes in the store', () => {
  const CHAT = 'c1';
  function msg(seq: number, extra: Partial<WireMessage> = {}): WireMessage {
    return {
      chat_id: CHAT,
      message_id: `m${seq}`,
      seq,
      content: `message ${seq}`,
      sender_id: 'ben',
      sender_name: 'Ben',
      timestamp: '2026-11-22T10:00:00.000Z',
      expires_at: null,
      mobile_ref_id: `r${seq}`,
      edited_at: null,
      deleted_at: null,
      version_seq: seq,
      ...extra,
    };
  }
  const edit = (seq: number, messageSeq: number, content: string): ChatEvent => ({
    type: 'message_edited',
    chat_id: CHAT,
    seq,
    message_id: `m${messageSeq}`,
    message_seq: messageSeq,
    sender_id: 'ben',
    content,
    edited_at: '2026-11-22T11:00:00.000Z',
  });
  const remove = (seq: number, messageSeq: number): ChatEvent => ({
    type: 'message_deleted',
    chat_id: CHAT,
    seq,
    message_id: `m${messageSeq}`,
    message_seq: messageSeq,
    sender_id: 'ben',
    deleted_by: 'ben',
    deleted_at: '2026-11-22T12:00:00.000Z',
  });
  const summary = (): ChatSummary => ({
    id: CHAT,
    kind: 'room',
    name: 'general',
    visibility: 'public',
    ephemeral_ttl_s: null,
    is_main: true,
    dm_user_ids: [],
    last_seq: 2,
    created_at: '2026-11-22T09:00:00.000Z',
    unread_count: 0,
    read_seq: 2,
    last_message: msg(2),
  });

  function joined() {
    const store = createParleyStore();
    const { actions } = store.getState();
    actions.signedIn({ serverUrl: 'http://relay', me: { id: 'ana', name: 'Ana' } });
    actions.setChats([summary()]);
    actions.applyJoin(CHAT, { messages: [msg(1), msg(2)], syncedSeq: 2 });
    return store;
  }

  it('applies edits and deletes to the timeline and the preview, never as unread', () => {
    const store = joined();
    store.getState().actions.applyChatEvents(CHAT, [edit(3, 1, 'better words'), remove(4, 2)]);
    const { timelines, chats } = store.getState();
    expect(timelines[CHAT]?.messages).toMatchObject([
      { seq: 1, content: 'better words', edited_at: '2026-11-22T11:00:00.000Z', version_seq: 3 },
      { seq: 2, content: '', deleted_at: '2026-11-22T12:00:00.000Z', version_seq: 4 },
    ]);
    expect(timelines[CHAT]?.syncedSeq).toBe(4);
    expect(chats[CHAT]?.last_message).toMatchObject({ seq: 2, content: '', version_seq: 4 });
    expect(chats[CHAT]?.last_seq).toBe(4);
    expect(chats[CHAT]?.unread_count).toBe(0);
    expect(JSON.stringify(store.getState())).not.toContain('message 2');
  });

  it('is idempotent: the same events again leave the state as it was', () => {
    const store = joined();
    const events = [edit(3, 2, 'v2')];
    store.getState().actions.applyChatEvents(CHAT, events);
    const before = store.getState();
    store.getState().actions.applyChatEvents(CHAT, events);
    expect(store.getState().timelines).toBe(before.timelines);
    expect(store.getState().chats).toBe(before.chats);
  });

  it('a newer version from a join reply or a backfill replaces the preview; an older one does not', () => {
    const store = joined();
    const { actions } = store.getState();
    actions.applyBackfill(CHAT, [msg(2, { content: 'v2', edited_at: 'x', version_seq: 5 })], 5);
    expect(store.getState().chats[CHAT]?.last_message?.content).toBe('v2');
    expect(store.getState().timelines[CHAT]?.messages[1]?.content).toBe('v2');
    actions.applyJoin(CHAT, { messages: [msg(2)], syncedSeq: 5 });
    expect(store.getState().chats[CHAT]?.last_message?.content).toBe('v2');
    expect(store.getState().timelines[CHAT]?.messages[1]?.content).toBe('v2');
    actions.applyJoin(CHAT, {
      messages: [msg(2, { content: '', deleted_at: 'y', version_seq: 6 })],
      syncedSeq: 6,
    });
    expect(store.getState().chats[CHAT]?.last_message).toMatchObject({
      content: '',
      deleted_at: 'y',
    });
    expect(store.getState().chats[CHAT]?.unread_count).toBe(0);
  });

  it('search results show the version the store holds and leave deleted messages out', () => {
    const store = joined();
    const results = [msg(1), msg(2)];
    expect(currentResults(results, store.getState().timelines)).toBe(results);
    store.getState().actions.applyChatEvents(CHAT, [edit(3, 1, 'edited hit'), remove(4, 2)]);
    const now = currentResults(results, store.getState().timelines);
    expect(now.map((m) => [m.seq, m.content])).toEqual([[1, 'edited hit']]);
    // Results from chats the store holds no timeline of stay as the relay answered.
    const other = [msg(1, { chat_id: 'elsewhere' })];
    expect(currentResults(other, store.getState().timelines)).toBe(other);
  });
});
