/**
 * The Store contract for the chat event stream (issue 17): edits and deletes take the chat's
 * next seq, every read gives the current state, a delete erases the text everywhere the store
 * keeps it. Both backends run it beside store-contract.ts (sqlite-store.test.ts, pg-store.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, newMessageId } from '../core/ids.js';
import type { ChangeRequest, ChangeResult, Store, StoredUser } from '../core/store.js';
import type { ChatEvent, ChatInfo, WireMessage } from '../protocol/events.js';
import { expectStored, type StoreUnderTest } from './store-contract.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');
function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

function expectChanged(result: ChangeResult | undefined): {
  message: WireMessage;
  event: ChatEvent;
  duplicate: boolean;
} {
  if (result === undefined || !result.ok) {
    throw new Error(`expected an applied change, got ${JSON.stringify(result)}`);
  }
  return result;
}

export function describeChangeContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`Store contract, the event stream: ${name}`, () => {
    let opened: StoreUnderTest;
    let store: Store;
    let ref = 0;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    async function user(displayName: string): Promise<StoredUser> {
      const created = await store.createUser({ id: newId(), name: displayName, now: T0 });
      if (created === null) throw new Error(`fixture user ${displayName} already exists`);
      return created;
    }

    async function room(members: StoredUser[], ephemeralTtlS: number | null = null) {
      const chat: ChatInfo = await store.createChat({
        id: newId(),
        name: `room ${newId()}`,
        visibility: 'public',
        ephemeralTtlS,
        isMain: false,
        createdBy: members[0]?.id ?? null,
        now: T0,
      });
      for (const member of members) await store.addMember(chat.id, member.id, T0);
      return chat;
    }

    async function send(
      chatId: string,
      sender: StoredUser,
      content: string,
      options: { notify?: string[]; now?: Date } = {},
    ): Promise<WireMessage> {
      ref += 1;
      const [result] = await store.appendMessages([
        {
          messageId: newMessageId(),
          chatId,
          senderId: sender.id,
          content,
          mobileRefId: `ref-${ref}`,
          now: options.now ?? T0,
          notifyUserIds: options.notify ?? [],
          mentionedUserIds: [],
          originConnectionId: null,
          requireMembership: true,
        },
      ]);
      return expectStored(result);
    }

    function edit(
      message: WireMessage,
      actor: StoredUser,
      content: string,
      refId = `edit-${++ref}`,
      now = at(10),
    ): ChangeRequest {
      return {
        kind: 'edit',
        chatId: message.chat_id,
        messageId: message.message_id,
        actorId: actor.id,
        content,
        refId,
        now,
        originConnectionId: null,
      };
    }

    function remove(message: WireMessage, actor: StoredUser, now = at(20)): ChangeRequest {
      return {
        kind: 'delete',
        chatId: message.chat_id,
        messageId: message.message_id,
        actorId: actor.id,
        now,
        originConnectionId: null,
      };
    }

    async function change(request: ChangeRequest): Promise<ChangeResult> {
      const [result] = await store.changeMessages([request]);
      if (result === undefined) throw new Error('no result');
      return result;
    }

    async function lastSeq(chatId: string): Promise<number> {
      return (await store.getChat(chatId))?.last_seq ?? -1;
    }

    async function found(userId: string, term: string): Promise<string[]> {
      const page = await store.searchMessages({
        userId,
        terms: [term],
        chatId: null,
        before: null,
        limit: 50,
      });
      if ('ok' in page) throw new Error(page.message);
      return page.messages.map((m) => m.content);
    }

    it('gives posts, edits and deletes one gap-free seq each, in order', async () => {
      const ana = await user('Ana');
      const chat = await room([ana]);
      const first = await send(chat.id, ana, 'first draft');
      const second = await send(chat.id, ana, 'second');
      const edited = expectChanged(await change(edit(first, ana, 'first, final')));
      const third = await send(chat.id, ana, 'third');
      const deleted = expectChanged(await change(remove(second, ana)));
      expect([first.seq, second.seq, edited.event.seq, third.seq, deleted.event.seq]).toEqual([
        1, 2, 3, 4, 5,
      ]);
      expect(await lastSeq(chat.id)).toBe(5);
      expect(edited.event).toMatchObject({
        type: 'message_edited',
        chat_id: chat.id,
        message_id: first.message_id,
        message_seq: 1,
        sender_id: ana.id,
        content: 'first, final',
        edited_at: at(10).toISOString(),
      });
      expect(deleted.event).toMatchObject({
        type: 'message_deleted',
        message_id: second.message_id,
        message_seq: 2,
        deleted_by: ana.id,
        deleted_at: at(20).toISOString(),
      });
      expect(edited.message).toMatchObject({ content: 'first, final', version_seq: 3 });
      expect(deleted.message).toMatchObject({ content: '', version_seq: 5 });
    });

    it('serves messages in their current state and the events after a seq', async () => {
      const ana = await user('Ana');
      const chat = await room([ana]);
      const a = await send(chat.id, ana, 'alpha');
      const b = await send(chat.id, ana, 'beta');
      await change(edit(a, ana, 'alpha two'));
      await change(remove(b, ana));
      const messages = await store.messagesAfter(chat.id, 0, 10, T0);
      expect(messages.map((m) => [m.seq, m.content, m.version_seq])).toEqual([
        [1, 'alpha two', 3],
        [2, '', 4],
      ]);
      expect(messages[0]?.edited_at).toBe(at(10).toISOString());
      expect(messages[0]?.deleted_at).toBeNull();
      expect(messages[1]?.deleted_at).toBe(at(20).toISOString());
      const newest = await store.messagesBefore(chat.id, null, 10, T0);
      expect(newest.map((m) => m.content)).toEqual(['alpha two', '']);
      const events = await store.eventsAfter(chat.id, 0, 10);
      expect(events.map((e) => [e.seq, e.type, e.message_seq])).toEqual([
        [3, 'message_edited', 1],
        [4, 'message_deleted', 2],
      ]);
      expect(await store.eventsAfter(chat.id, 3, 10)).toHaveLength(1);
      expect(await store.eventsAfter(chat.id, 0, 1)).toHaveLength(1);
    });

    it('answers a retried edit (same ref_id) and a repeated delete as duplicates, taking no seq', async () => {
      const ana = await user('Ana');
      const chat = await room([ana]);
      const m = await send(chat.id, ana, 'hello');
      const once = expectChanged(await change(edit(m, ana, 'hello!', 'ref-x')));
      const again = expectChanged(await change(edit(m, ana, 'hello!', 'ref-x')));
      expect(again.duplicate).toBe(true);
      expect(again.event).toEqual(once.event);
      const gone = expectChanged(await change(remove(m, ana)));
      const goneAgain = expectChanged(await change(remove(m, ana, at(30))));
      expect(goneAgain.duplicate).toBe(true);
      expect(goneAgain.event).toEqual(gone.event);
      expect(await lastSeq(chat.id)).toBe(3);
    });

    it('refuses with a code and changes nothing: not the author, deleted, expired, unknown, not a member', async () => {
      const ana = await user('Ana');
      const ben = await user('Ben');
      const eve = await user('Eve');
      const chat = await room([ana, ben]);
      const other = await room([eve]);
      const m = await send(chat.id, ana, 'mine');
      const elsewhere = await send(other.id, eve, 'private text');
      expect(await change(edit(m, ben, 'hijack'))).toMatchObject({ ok: false, code: 'forbidden' });
      expect(await change(remove(m, ben))).toMatchObject({ ok: false, code: 'forbidden' });
      expect(await change(edit(elsewhere, ana, 'x'))).toMatchObject({
        ok: false,
        code: 'not_member',
      });
      // Another chat's message through a chat one is in: not found, nothing told about it.
      expect(await change({ ...edit(elsewhere, ana, 'x'), chatId: chat.id })).toMatchObject({
        ok: false,
        code: 'not_found',
      });
      expect(await change({ ...remove(m, ana), messageId: newMessageId() })).toMatchObject({
        ok: false,
        code: 'not_found',
      });
      expect(await change({ ...remove(m, ana), chatId: newId() })).toMatchObject({
        ok: false,
        code: 'not_found',
      });
      expect(await lastSeq(chat.id)).toBe(1);
      await change(remove(m, ana));
      expect(await change(edit(m, ana, 'revive'))).toMatchObject({
        ok: false,
        code: 'message_deleted',
      });
      const vanishing = await room([ana], 60);
      const short = await send(vanishing.id, ana, 'soon gone', { now: T0 });
      expect(await change(edit(short, ana, 'late', undefined, at(61)))).toMatchObject({
        ok: false,
        code: 'message_expired',
      });
      expect(await lastSeq(vanishing.id)).toBe(1);
      expect((await store.messagesAfter(other.id, 0, 10, T0))[0]?.content).toBe('private text');
    });

    it('applies a batch in order, one result each, a refusal failing only itself', async () => {
      const ana = await user('Ana');
      const ben = await user('Ben');
      const chat = await room([ana, ben]);
      const m = await send(chat.id, ana, 'v1');
      const results = await store.changeMessages([
        edit(m, ana, 'v2'),
        edit(m, ben, 'nope'),
        edit(m, ana, 'v3'),
      ]);
      expect(results.map((r) => (r.ok ? r.event.seq : r.code))).toEqual([2, 'forbidden', 3]);
      expect((await store.messagesAfter(chat.id, 0, 10, T0))[0]?.content).toBe('v3');
    });

    it('keeps search on the current text: an edit finds the new words, a delete finds nothing', async () => {
      const ana = await user('Ana');
      const chat = await room([ana]);
      const m = await send(chat.id, ana, 'pineapple pizza');
      expect(await found(ana.id, 'pineapple')).toEqual(['pineapple pizza']);
      await change(edit(m, ana, 'mango pizza'));
      expect(await found(ana.id, 'pineapple')).toEqual([]);
      expect(await found(ana.id, 'mango')).toEqual(['mango pizza']);
      await change(remove(m, ana));
      expect(await found(ana.id, 'mango')).toEqual([]);
      expect(await found(ana.id, 'pizza')).toEqual([]);
    });

    it('erases a deleted message from its edit events and pending notifications', async () => {
      const ana = await user('Ana');
      const ben = await user('Ben');
      const chat = await room([ana, ben]);
      const m = await send(chat.id, ana, 'secret one', { notify: [ben.id] });
      await change(edit(m, ana, 'secret two'));
      expect((await store.listPending(ben.id, 10, T0)).map((p) => p.content)).toEqual([
        'secret two',
      ]);
      await change(remove(m, ana));
      expect(await store.listPending(ben.id, 10, T0)).toEqual([]);
      const events = await store.eventsAfter(chat.id, 0, 10);
      expect(events.map((e) => (e.type === 'message_edited' ? e.content : 'deleted'))).toEqual([
        '',
        'deleted',
      ]);
      expect(JSON.stringify(await store.messagesAfter(chat.id, 0, 10, T0))).not.toContain('secret');
    });

    it('never counts edits, deletes or deleted messages as unread', async () => {
      const ana = await user('Ana');
      const ben = await user('Ben');
      const chat = await room([ana, ben]);
      const a = await send(chat.id, ana, 'one');
      await send(chat.id, ana, 'two');
      await change(edit(a, ana, 'one!'));
      const unread = async () =>
        (await store.listChatsForUser(ben.id, T0)).find((c) => c.id === chat.id)?.unread_count;
      expect(await unread()).toBe(2);
      await change(remove(a, ana));
      expect(await unread()).toBe(1);
    });

    it('gives the current state in every read: last message, search hits, a retried send', async () => {
      const ana = await user('Ana');
      const chat = await room([ana]);
      const m = await send(chat.id, ana, 'original wording');
      const edited = expectChanged(await change(edit(m, ana, 'better wording')));
      const summary = async () =>
        (await store.listChatsForUser(ana.id, T0)).find((c) => c.id === chat.id)?.last_message;
      expect(await summary()).toMatchObject({
        content: 'better wording',
        edited_at: at(10).toISOString(),
        deleted_at: null,
        version_seq: edited.event.seq,
      });
      const hits = await store.searchMessages({
        userId: ana.id,
        terms: ['better'],
        chatId: null,
        before: null,
        limit: 10,
      });
      if ('ok' in hits) throw new Error(hits.message);
      expect(hits.messages).toEqual([edited.message]);
      // The client retries the original send (same mobile_ref_id): it learns the current state.
      const [retried] = await store.appendMessages([
        {
          messageId: newMessageId(),
          chatId: chat.id,
          senderId: ana.id,
          content: 'original wording',
          mobileRefId: m.mobile_ref_id,
          now: T0,
          notifyUserIds: [],
          mentionedUserIds: [],
          originConnectionId: null,
          requireMembership: true,
        },
      ]);
      expect(retried).toMatchObject({ ok: true, duplicate: true, message: edited.message });
      const deleted = expectChanged(await change(remove(m, ana)));
      expect(await summary()).toMatchObject({
        content: '',
        deleted_at: at(20).toISOString(),
        version_seq: deleted.event.seq,
      });
      expect(await store.messagesBefore(chat.id, null, 10, T0)).toEqual([deleted.message]);
      expect(await lastSeq(chat.id)).toBe(3);
    });

    it('pages through events by seq, including changes to messages older than the window', async () => {
      const ana = await user('Ana');
      const chat = await room([ana]);
      const old = await send(chat.id, ana, 'old');
      for (let i = 0; i < 5; i += 1) await change(edit(old, ana, `old v${i}`));
      await send(chat.id, ana, 'new');
      await change(remove(old, ana));
      const seen: number[] = [];
      let after = 1;
      for (;;) {
        const page = await store.eventsAfter(chat.id, after, 2);
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(2);
        seen.push(...page.map((e) => e.seq));
        after = page[page.length - 1]?.seq ?? after;
      }
      expect(seen).toEqual([2, 3, 4, 5, 6, 8]);
      expect(await store.eventsAfter(chat.id, 8, 10)).toEqual([]);
    });

    it('searches the current text whether or not the message was indexed before it changed', async () => {
      const ana = await user('Ana');
      const chat = await room([ana]);
      // Changed before any search (a background index may not have reached them yet).
      const fresh = await send(chat.id, ana, 'walrus tusk');
      const doomed = await send(chat.id, ana, 'narwhal horn');
      await change(edit(fresh, ana, 'walrus flipper'));
      await change(remove(doomed, ana));
      expect(await found(ana.id, 'tusk')).toEqual([]);
      expect(await found(ana.id, 'narwhal')).toEqual([]);
      expect(await found(ana.id, 'walrus')).toEqual(['walrus flipper']);
      // Changed again after being indexed: each edit replaces the last one's words.
      await change(edit(fresh, ana, 'walrus whisker'));
      await change(edit(fresh, ana, 'seal whisker'));
      expect(await found(ana.id, 'walrus')).toEqual([]);
      expect(await found(ana.id, 'flipper')).toEqual([]);
      expect(await found(ana.id, 'whisker')).toEqual(['seal whisker']);
      // Later than the others: PostgreSQL orders equal times by id, which is random.
      const other = await send(chat.id, ana, 'seal pup', { now: at(1) });
      expect(await found(ana.id, 'seal')).toEqual(['seal pup', 'seal whisker']);
      await change(remove(fresh, ana));
      expect(await found(ana.id, 'seal')).toEqual([other.content]);
      expect(await found(ana.id, 'whisker')).toEqual([]);
    });

    it('drops the events of expired messages with them', async () => {
      const ana = await user('Ana');
      const chat = await room([ana], 60);
      const m = await send(chat.id, ana, 'brief', { now: T0 });
      await change(edit(m, ana, 'brief!', undefined, at(5)));
      expect(await store.eventsAfter(chat.id, 0, 10)).toHaveLength(1);
      await store.deleteExpired(at(120));
      expect(await store.eventsAfter(chat.id, 0, 10)).toEqual([]);
    });
  });
}
