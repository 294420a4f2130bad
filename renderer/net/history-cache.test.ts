/**
 * The desktop offline cache follows edits and deletes: an edited message is rewritten, a deleted
 * one is stored as its tombstone (content ""), in the messages and in the chat's preview; what
 * the cache gives back is checked, and messages cached before edits existed read as unedited.
 */
import { describe, expect, it } from 'vitest';
import type { ChatSummary, WireMessage } from '../../relay/protocol/events.js';
import { checkedSnapshot, persistHistory, type HistorySink } from './history-cache.js';
import { CHAT, chatSummary, deleted, edited, message, storeWith } from './test-fixtures.js';

function recordingSink() {
  const saved = { chats: [] as ChatSummary[], messages: [] as WireMessage[] };
  const sink: HistorySink = {
    saveChats: async (_scope, chats) => {
      saved.chats = chats;
    },
    saveHistory: async (_scope, chatId, messages) => {
      if (chatId === CHAT) saved.messages = messages;
    },
  };
  return { sink, saved };
}

describe('the offline cache', () => {
  it('rewrites an edited message and keeps only the tombstone of a deleted one', async () => {
    const store = storeWith([message(1, 'first draft'), message(2, 'my password is hunter2')], 2);
    store
      .getState()
      .actions.upsertChat({ id: CHAT, last_message: message(2, 'my password is hunter2') });
    const { sink, saved } = recordingSink();
    const scope = () => 'scope';

    let flush = persistHistory(store, sink, scope, 1_000);
    store.getState().actions.applyChatEvents(CHAT, [edited(3, 1, 'final text')]);
    await flush();
    expect(
      saved.messages.map((m) => [m.seq, m.content, m.edited_at !== null, m.version_seq]),
    ).toEqual([
      [1, 'final text', true, 3],
      [2, 'my password is hunter2', false, 2],
    ]);

    flush = persistHistory(store, sink, scope, 1_000);
    store.getState().actions.applyChatEvents(CHAT, [deleted(4, 2)]);
    await flush();
    expect(saved.messages[1]).toMatchObject({ seq: 2, content: '', version_seq: 4 });
    expect(saved.messages[1]?.deleted_at).not.toBeNull();
    expect(saved.chats[0]?.last_message).toMatchObject({ seq: 2, content: '' });
    expect(JSON.stringify(saved)).not.toContain('hunter2');
  });

  it('never stores the text of a message marked deleted, whatever the timeline holds', async () => {
    const tombstoneWithText = message(1, 'leftover', {
      deleted_at: '2026-12-01T10:00:09.000Z',
      version_seq: 2,
    });
    const store = storeWith([tombstoneWithText], 2);
    store.getState().actions.upsertChat({ id: CHAT, last_message: tombstoneWithText });
    const { sink, saved } = recordingSink();
    const flush = persistHistory(store, sink, () => 'scope', 1_000);
    store.getState().actions.setUnread(CHAT, 0);
    await flush();
    expect(saved.messages.map((m) => m.content)).toEqual(['']);
    expect(saved.chats[0]?.last_message?.content).toBe('');
  });

  it('reads back a snapshot written before edits existed as unedited messages, and refuses a broken one', () => {
    const { edited_at: _e, deleted_at: _d, version_seq: _v, ...old } = message(5, 'cached');
    const snapshot = checkedSnapshot({ chats: [chatSummary(5)], messages: { [CHAT]: [old] } });
    expect(snapshot?.messages[CHAT]).toEqual([message(5, 'cached')]);
    expect(checkedSnapshot({ chats: [{ id: CHAT }], messages: {} })).toBeNull();
  });
});
