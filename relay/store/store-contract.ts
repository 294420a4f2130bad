/**
 * The behaviour every `Store` must have, as one vitest suite. SQLite runs it today
 * (sqlite-store.test.ts); a PostgreSQL store runs the very same suite by calling
 * `describeStoreContract` with its own `open`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendResult, AppendRequest, Store, StoredUser } from '../core/store.js';
import type { ChatInfo, WireMessage } from '../protocol/events.js';
import { newId, newMessageId } from '../core/ids.js';

/** A fresh, empty store for one test, and how to throw it away. */
export interface StoreUnderTest {
  store: Store;
  /** The store's per-user pending notification cap, so the cap test knows where it bites. */
  maxPendingPerUser: number;
  cleanup: () => Promise<void>;
}

/** A fixed clock: every `now` the suite passes is derived from it, never from Date.now(). */
const T0 = new Date('2030-01-01T00:00:00.000Z');
function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

/** Narrows an append result to its message, failing the test with the failure otherwise. */
export function expectStored(result: AppendResult | undefined): WireMessage {
  if (result === undefined || !result.ok) {
    throw new Error(`expected a stored message, got ${JSON.stringify(result)}`);
  }
  return result.message;
}

/** Registers the whole Store contract as one `describe` block named after the backend. */
export function describeStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let opened: StoreUnderTest;
    let store: Store;
    let refCounter = 0;

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

    function room(
      input: {
        name?: string;
        visibility?: 'public' | 'private';
        ephemeralTtlS?: number | null;
        isMain?: boolean;
        createdBy?: string | null;
        now?: Date;
      } = {},
    ): Promise<ChatInfo> {
      return store.createChat({
        id: newId(),
        // Public rooms' names are unique (by name key): each unnamed one gets its own.
        name: input.name ?? `room ${newId()}`,
        visibility: input.visibility ?? 'public',
        ephemeralTtlS: input.ephemeralTtlS ?? null,
        isMain: input.isMain ?? false,
        createdBy: input.createdBy ?? null,
        now: input.now ?? T0,
      });
    }

    function request(input: {
      chatId: string;
      senderId: string;
      content?: string;
      mobileRefId?: string;
      messageId?: string;
      now?: Date;
      notify?: readonly string[];
      mentioned?: readonly string[];
    }): AppendRequest {
      refCounter += 1;
      return {
        messageId: input.messageId ?? newMessageId(),
        chatId: input.chatId,
        senderId: input.senderId,
        content: input.content ?? `message ${refCounter}`,
        mobileRefId: input.mobileRefId ?? `ref-${refCounter}`,
        now: input.now ?? T0,
        notifyUserIds: input.notify ?? [],
        mentionedUserIds: input.mentioned ?? [],
        originConnectionId: null,
      };
    }

    async function send(input: Parameters<typeof request>[0]): Promise<WireMessage> {
      const [result] = await store.appendMessages([request(input)]);
      return expectStored(result);
    }

    async function pendingSeqs(userId: string, now: Date = T0): Promise<[string, number][]> {
      const pending = await store.listPending(userId, 1_000, now);
      return pending.map((item) => [item.chat_id, item.seq]);
    }

    describe('meta', () => {
      it('returns null for a key that was never set', async () => {
        expect(await store.getMeta('token_secret')).toBeNull();
      });

      it('putMetaIfAbsent stores the first value and keeps it against later ones', async () => {
        expect(await store.putMetaIfAbsent('token_secret', 'first')).toBe('first');
        expect(await store.putMetaIfAbsent('token_secret', 'second')).toBe('first');
        expect(await store.getMeta('token_secret')).toBe('first');
        expect(await store.putMetaIfAbsent('other', 'x')).toBe('x');
      });
    });

    describe('users', () => {
      it('creates a user that can be found by id and by name', async () => {
        const ana = await store.createUser({ id: newId(), name: 'Ana', now: T0 });
        expect(ana).toMatchObject({ name: 'Ana', created_at: T0.toISOString() });
        expect(await store.getUser(ana?.id ?? '')).toEqual(ana);
        expect(await store.findUserByName('Ana')).toEqual(ana);
      });

      it('matches names case-insensitively and refuses a taken name with null', async () => {
        const ana = await user('Ana');
        expect(await store.findUserByName('ANA')).toEqual(ana);
        const otherId = newId();
        expect(await store.createUser({ id: otherId, name: 'aNa', now: at(1) })).toBeNull();
        expect(await store.getUser(otherId)).toBeNull();
        expect(await store.findUserByName('ana')).toEqual(ana);
      });

      it('signs a user up into a room in the same commit, and into nothing when the name is taken', async () => {
        const main = await room({ name: 'general', isMain: true });
        const ana = await store.createUser({
          id: newId(),
          name: 'Ana',
          now: T0,
          joinChatId: main.id,
        });
        expect(ana).not.toBeNull();
        expect(await store.getMembership(main.id, ana?.id ?? '')).toEqual({ read_seq: 0 });
        const otherId = newId();
        expect(
          await store.createUser({ id: otherId, name: 'ANA', now: at(1), joinChatId: main.id }),
        ).toBeNull();
        expect(await store.getUser(otherId)).toBeNull();
        expect(await store.getMembership(main.id, otherId)).toBeNull();
        const noRoom = await store.createUser({ id: newId(), name: 'Ben', now: at(2) });
        expect(await store.getMembership(main.id, noRoom?.id ?? '')).toBeNull();
      });

      it('refuses a look-alike of a sign-up name, not of an identity-provider one', async () => {
        await user('Alice');
        for (const name of ['\u0410lice', 'ALICE\uFE0F', 'Al\u0456ce']) {
          expect(await store.createUser({ id: newId(), name, now: at(1) }), name).toBeNull();
        }
        // Identity-provider names are not unique, nor do they block sign-up names.
        await store.upsertUser({ id: newId(), name: 'Bob', now: at(2) });
        await store.upsertUser({ id: newId(), name: 'Bob', now: at(3) });
        expect(
          await store.createUser({ id: newId(), name: 'B\u043Eb', now: at(4) }),
        ).not.toBeNull();
      });

      it("revokes a user's tokens by moving their generation on", async () => {
        const ana = await user('Ana');
        expect(await store.getTokenGeneration(ana.id)).toBe(0);
        expect(await store.revokeTokens(ana.id)).toBe(1);
        expect(await store.revokeTokens(ana.id)).toBe(2);
        expect(await store.getTokenGeneration(ana.id)).toBe(2);
        expect(await store.getTokenGeneration(newId())).toBeNull();
        expect(await store.revokeTokens(newId())).toBeNull();
      });

      it('returns null for unknown users', async () => {
        expect(await store.getUser(newId())).toBeNull();
        expect(await store.findUserByName('Nobody')).toBeNull();
      });

      it('upsertUser creates an identity-provider user, then renames it in place', async () => {
        const id = newId();
        const created = await store.upsertUser({ id, name: 'Ana Lima', now: T0 });
        expect(created).toEqual({ id, name: 'Ana Lima', created_at: T0.toISOString() });
        const renamed = await store.upsertUser({ id, name: 'Ana L.', now: at(60) });
        expect(renamed).toEqual({ id, name: 'Ana L.', created_at: T0.toISOString() });
        expect(await store.getUser(id)).toEqual(renamed);
      });

      it('upsertUser lets two identity-provider users share a display name', async () => {
        const first = await store.upsertUser({ id: newId(), name: 'Ana', now: T0 });
        const second = await store.upsertUser({ id: newId(), name: 'Ana', now: T0 });
        expect(second.id).not.toBe(first.id);
        expect(await store.getUser(first.id)).toMatchObject({ name: 'Ana' });
        expect(await store.getUser(second.id)).toMatchObject({ name: 'Ana' });
      });

      it('listUsers returns at most `limit` users', async () => {
        const created = [await user('Ana'), await user('Ben'), await user('Cy')];
        const all = await store.listUsers(10);
        expect(all.map((u) => u.id).sort()).toEqual(created.map((u) => u.id).sort());
        expect(await store.listUsers(2)).toHaveLength(2);
      });
    });

    describe('sign-in codes', () => {
      it('keeps a recovery code hash made at sign-up, in the same commit, and none for a taken name', async () => {
        const ana = await store.createUser({
          id: newId(),
          name: 'Ana',
          now: T0,
          recoveryHash: 'hash-a',
        });
        expect(await store.getRecoveryCode(ana?.id ?? '')).toEqual({
          hash: 'hash-a',
          created_at: T0.toISOString(),
        });
        const otherId = newId();
        expect(
          await store.createUser({ id: otherId, name: 'ANA', now: at(1), recoveryHash: 'hash-b' }),
        ).toBeNull();
        expect(await store.getRecoveryCode(otherId)).toBeNull();
        const ben = await user('Ben');
        expect(await store.getRecoveryCode(ben.id)).toBeNull();
      });

      it('sets and replaces a recovery code; a replacement only wins against the hash it expects', async () => {
        const ana = await user('Ana');
        await store.setRecoveryCode(ana.id, 'one', at(1));
        await store.setRecoveryCode(ana.id, 'two', at(2));
        expect(await store.getRecoveryCode(ana.id)).toEqual({
          hash: 'two',
          created_at: at(2).toISOString(),
        });
        expect(await store.replaceRecoveryCode(ana.id, 'one', 'three', at(3))).toBe(false);
        expect(await store.replaceRecoveryCode(ana.id, 'two', 'three', at(3))).toBe(true);
        // The same code used twice (two sign-ins racing): only the first replaces it.
        expect(await store.replaceRecoveryCode(ana.id, 'two', 'four', at(4))).toBe(false);
        expect(await store.getRecoveryCode(ana.id)).toMatchObject({ hash: 'three' });
        const ben = await user('Ben');
        expect(await store.replaceRecoveryCode(ben.id, 'three', 'x', at(5))).toBe(false);
        expect(await store.getRecoveryCode(ben.id)).toBeNull();
      });

      it('consumes a link code once, only for its user, only before it expires', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const add = (userId: string, hash: string, now: Date, ttlS = 600): Promise<void> =>
          store.addLinkCode({
            userId,
            hash,
            now,
            expiresAt: new Date(now.getTime() + ttlS * 1000),
            maxOutstanding: 3,
          });
        await add(ana.id, 'L1', T0);
        await add(ana.id, 'L2', T0);
        expect(await store.consumeLinkCode(ben.id, 'L1', at(1))).toBe(false);
        expect(await store.consumeLinkCode(ana.id, 'L1', at(1))).toBe(true);
        expect(await store.consumeLinkCode(ana.id, 'L1', at(2))).toBe(false);
        expect(await store.consumeLinkCode(ana.id, 'L2', at(600))).toBe(false);
        expect(await store.consumeLinkCode(ana.id, 'nope', at(2))).toBe(false);
      });

      it('keeps at most maxOutstanding link codes per user, dropping the oldest', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        for (const [i, hash] of ['A', 'B', 'C', 'D'].entries()) {
          await store.addLinkCode({
            userId: ana.id,
            hash,
            now: at(i),
            expiresAt: at(i + 600),
            maxOutstanding: 3,
          });
        }
        await store.addLinkCode({
          userId: ben.id,
          hash: 'A',
          now: at(10),
          expiresAt: at(610),
          maxOutstanding: 3,
        });
        expect(await store.consumeLinkCode(ana.id, 'A', at(20))).toBe(false);
        for (const hash of ['B', 'C', 'D'])
          expect(await store.consumeLinkCode(ana.id, hash, at(20))).toBe(true);
        expect(await store.consumeLinkCode(ben.id, 'A', at(20))).toBe(true);
      });
    });

    describe('chats', () => {
      it('createChat refuses a public room named like another public room, creating nothing', async () => {
        await room({ name: 'general', isMain: true });
        const creator = await user('Ana');
        for (const name of ['General', 'g\u0435neral', 'GENERAL\u200B']) {
          const id = newId();
          await expect(
            store.createChat({
              id,
              name,
              visibility: 'public',
              ephemeralTtlS: null,
              isMain: false,
              createdBy: creator.id,
              now: at(1),
            }),
            name,
          ).rejects.toMatchObject({ code: 'name_taken' });
          expect(await store.getChat(id)).toBeNull();
        }
        expect((await room({ name: 'general', visibility: 'private' })).name).toBe('general');
        expect((await room({ name: 'General', visibility: 'private' })).name).toBe('General');
      });

      it('createChat returns the chat and makes its creator a member', async () => {
        const ana = await user('Ana');
        const chat = await room({
          name: 'design',
          visibility: 'private',
          createdBy: ana.id,
          now: at(5),
        });
        expect(chat).toMatchObject({
          kind: 'room',
          name: 'design',
          visibility: 'private',
          ephemeral_ttl_s: null,
          is_main: false,
          dm_user_ids: [],
          last_seq: 0,
          created_at: at(5).toISOString(),
        });
        expect(await store.getChat(chat.id)).toEqual(chat);
        expect(await store.getMembership(chat.id, ana.id)).toEqual({ read_seq: 0 });
        expect((await store.listMembers(chat.id)).map((member) => member.id)).toEqual([ana.id]);
      });

      it('a chat without a creator starts with no members', async () => {
        const chat = await room({ createdBy: null });
        expect(await store.listMembers(chat.id)).toEqual([]);
      });

      it('getChat returns null for an unknown id', async () => {
        expect(await store.getChat(newId())).toBeNull();
      });

      it('getMainChat finds the main room once it exists', async () => {
        expect(await store.getMainChat()).toBeNull();
        await room({ name: 'random' });
        const main = await room({ name: 'general', isMain: true });
        expect(main.is_main).toBe(true);
        expect(await store.getMainChat()).toEqual(main);
      });

      it('getOrCreateDm creates one private DM with both users as members', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const dm = await store.getOrCreateDm({
          id: newId(),
          userA: ana.id,
          userB: ben.id,
          now: T0,
        });
        expect(dm).toMatchObject({ kind: 'dm', visibility: 'private', is_main: false });
        expect([...dm.dm_user_ids].sort()).toEqual([ana.id, ben.id].sort());
        const members = await store.listMembers(dm.id);
        expect(members.map((member) => member.id).sort()).toEqual([ana.id, ben.id].sort());
      });

      it('getOrCreateDm is idempotent and symmetric', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const cy = await user('Cy');
        const first = await store.getOrCreateDm({
          id: newId(),
          userA: ana.id,
          userB: ben.id,
          now: T0,
        });
        const again = await store.getOrCreateDm({
          id: newId(),
          userA: ana.id,
          userB: ben.id,
          now: at(1),
        });
        const swapped = await store.getOrCreateDm({
          id: newId(),
          userA: ben.id,
          userB: ana.id,
          now: at(2),
        });
        expect(again).toEqual(first);
        expect(swapped).toEqual(first);
        const other = await store.getOrCreateDm({
          id: newId(),
          userA: ana.id,
          userB: cy.id,
          now: T0,
        });
        expect(other.id).not.toBe(first.id);
        expect(await store.listMembers(first.id)).toHaveLength(2);
      });

      it('listPublicChats lists public rooms only, at most `limit`', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const publicA = await room({ name: 'alpha', visibility: 'public' });
        const publicB = await room({ name: 'beta', visibility: 'public' });
        await room({ name: 'secret', visibility: 'private' });
        await store.getOrCreateDm({ id: newId(), userA: ana.id, userB: ben.id, now: T0 });
        const listed = await store.listPublicChats(10);
        expect(listed.map((chat) => chat.id).sort()).toEqual([publicA.id, publicB.id].sort());
        expect(await store.listPublicChats(1)).toHaveLength(1);
      });
    });

    describe('membership', () => {
      it('getMembership is null for a non-member', async () => {
        const ana = await user('Ana');
        const chat = await room();
        expect(await store.getMembership(chat.id, ana.id)).toBeNull();
      });

      /** Ana's room with one message, which Ben (a member) has read. */
      async function readByBen(): Promise<{ ben: StoredUser; chat: ChatInfo }> {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const chat = await room({ createdBy: ana.id });
        await store.addMember(chat.id, ben.id, T0);
        await send({ chatId: chat.id, senderId: ana.id });
        expect(await store.setReadSeq(chat.id, ben.id, 1)).toBe(1);
        return { ben, chat };
      }

      it('getChatAccess reads the chat and the membership together', async () => {
        const { ben, chat } = await readByBen();
        const fresh = await store.getChat(chat.id);
        expect(await store.getChatAccess(chat.id, ben.id)).toEqual({
          chat: fresh,
          membership: { read_seq: 1 },
        });
        const stranger = await user('Cy');
        expect(await store.getChatAccess(chat.id, stranger.id)).toEqual({
          chat: fresh,
          membership: null,
        });
        expect(await store.getChatAccess(newId(), ben.id)).toBeNull();
        await store.removeMember(chat.id, ben.id);
        expect((await store.getChatAccess(chat.id, ben.id))?.membership).toBeNull();
      });

      it('addMember is idempotent and never resets the read marker', async () => {
        const { ben, chat } = await readByBen();
        await store.addMember(chat.id, ben.id, at(10));
        expect(await store.getMembership(chat.id, ben.id)).toEqual({ read_seq: 1 });
        expect(await store.listMembers(chat.id)).toHaveLength(2);
      });

      it('removeMember ends the membership and drops that chat’s pending notifications', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const left = await room({ name: 'left', createdBy: ana.id });
        const kept = await room({ name: 'kept', createdBy: ana.id });
        for (const chat of [left, kept]) {
          await store.addMember(chat.id, ben.id, T0);
          await send({ chatId: chat.id, senderId: ana.id, notify: [ben.id] });
        }
        const droppedIds = (await store.listPending(ben.id, 10, T0))
          .filter((item) => item.chat_id === left.id)
          .map((item) => item.id ?? 0);
        expect(droppedIds).toHaveLength(1);
        await store.removeMember(left.id, ben.id);
        expect(await store.getMembership(left.id, ben.id)).toBeNull();
        expect((await store.listMembers(left.id)).map((member) => member.id)).toEqual([ana.id]);
        expect(await pendingSeqs(ben.id)).toEqual([[kept.id, 1]]);
        expect(await store.ackPending(ben.id, droppedIds)).toBe(0);
        // Joining again does not bring the dropped notifications back.
        await store.addMember(left.id, ben.id, at(1));
        expect(await pendingSeqs(ben.id)).toEqual([[kept.id, 1]]);
      });
    });

    describe('appendMessages', () => {
      it('stores a message with the next seq and every wire field', async () => {
        const ana = await user('Ana');
        const chat = await room({ createdBy: ana.id });
        const messageId = newMessageId();
        const [result] = await store.appendMessages([
          request({
            chatId: chat.id,
            senderId: ana.id,
            content: 'hello',
            mobileRefId: 'm-1',
            messageId,
            now: at(3),
          }),
        ]);
        expect(result).toEqual({
          ok: true,
          duplicate: false,
          message: {
            chat_id: chat.id,
            message_id: messageId,
            seq: 1,
            content: 'hello',
            sender_id: ana.id,
            sender_name: 'Ana',
            timestamp: at(3).toISOString(),
            expires_at: null,
            mobile_ref_id: 'm-1',
            edited_at: null,
            deleted_at: null,
            version_seq: 1,
          },
        });
        expect((await store.getChat(chat.id))?.last_seq).toBe(1);
        expect(await store.messagesAfter(chat.id, 0, 10, at(3))).toEqual([expectStored(result)]);
      });

      it('numbers each chat strictly +1, independently of other chats', async () => {
        const ana = await user('Ana');
        const a = await room({ name: 'a', createdBy: ana.id });
        const b = await room({ name: 'b', createdBy: ana.id });
        const seqs: [string, number][] = [];
        for (const chat of [a, a, b, a, b]) {
          const message = await send({ chatId: chat.id, senderId: ana.id });
          seqs.push([chat.name, message.seq]);
        }
        expect(seqs).toEqual([
          ['a', 1],
          ['a', 2],
          ['b', 1],
          ['a', 3],
          ['b', 2],
        ]);
        expect((await store.getChat(a.id))?.last_seq).toBe(3);
        expect((await store.getChat(b.id))?.last_seq).toBe(2);
      });

      it('stores a large batch in request order with one result per request', async () => {
        const ana = await user('Ana');
        const a = await room({ name: 'a', createdBy: ana.id });
        const b = await room({ name: 'b', createdBy: ana.id });
        const requests = Array.from({ length: 300 }, (_, index) =>
          request({
            chatId: index % 3 === 0 ? b.id : a.id,
            senderId: ana.id,
            content: `batch ${index}`,
          }),
        );
        const results = await store.appendMessages(requests);
        expect(results).toHaveLength(300);
        const messages = results.map(expectStored);
        expect(messages.map((message) => message.content)).toEqual(
          requests.map((req) => req.content),
        );
        const seqsOf = (chatId: string): number[] =>
          messages.filter((message) => message.chat_id === chatId).map((message) => message.seq);
        expect(seqsOf(a.id)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
        expect(seqsOf(b.id)).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
        expect((await store.getChat(a.id))?.last_seq).toBe(200);
        expect(await store.messagesAfter(a.id, 0, 500, T0)).toHaveLength(200);
      });

      it('answers a repeated (chat, sender, mobile_ref_id) with the original and stores nothing', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const chat = await room({ createdBy: ana.id });
        await store.addMember(chat.id, ben.id, T0);
        const original = await send({
          chatId: chat.id,
          senderId: ana.id,
          content: 'first try',
          mobileRefId: 'retry-me',
          notify: [ben.id],
        });
        const [again] = await store.appendMessages([
          request({
            chatId: chat.id,
            senderId: ana.id,
            content: 'second try',
            mobileRefId: 'retry-me',
            now: at(30),
            notify: [ben.id],
          }),
        ]);
        expect(again).toEqual({ ok: true, duplicate: true, message: original });
        expect((await store.getChat(chat.id))?.last_seq).toBe(1);
        expect(await store.messagesAfter(chat.id, 0, 10, T0)).toEqual([original]);
        expect(await pendingSeqs(ben.id)).toEqual([[chat.id, 1]]);
      });

      it('detects a duplicate within one batch', async () => {
        const ana = await user('Ana');
        const chat = await room({ createdBy: ana.id });
        const results = await store.appendMessages([
          request({ chatId: chat.id, senderId: ana.id, content: 'one', mobileRefId: 'same' }),
          request({ chatId: chat.id, senderId: ana.id, content: 'two', mobileRefId: 'other' }),
          request({ chatId: chat.id, senderId: ana.id, content: 'three', mobileRefId: 'same' }),
        ]);
        expect(results.map((result) => result.ok && result.duplicate)).toEqual([
          false,
          false,
          true,
        ]);
        expect(expectStored(results[2])).toEqual(expectStored(results[0]));
        expect((await store.getChat(chat.id))?.last_seq).toBe(2);
        const stored = await store.messagesAfter(chat.id, 0, 10, T0);
        expect(stored.map((message) => message.content)).toEqual(['one', 'two']);
      });

      it('treats the same mobile_ref_id from another sender or in another chat as new', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const a = await room({ name: 'a', createdBy: ana.id });
        const b = await room({ name: 'b', createdBy: ana.id });
        const first = await send({ chatId: a.id, senderId: ana.id, mobileRefId: 'shared' });
        const [otherChat, otherSender] = await store.appendMessages([
          request({ chatId: b.id, senderId: ana.id, mobileRefId: 'shared' }),
          request({ chatId: a.id, senderId: ben.id, mobileRefId: 'shared' }),
        ]);
        expect(otherChat).toMatchObject({ ok: true, duplicate: false, message: { seq: 1 } });
        expect(otherSender).toMatchObject({ ok: true, duplicate: false, message: { seq: 2 } });
        expect(expectStored(otherChat).message_id).not.toBe(first.message_id);
        expect(expectStored(otherSender).message_id).not.toBe(first.message_id);
      });

      it('answers not_found for an unknown chat without failing the rest of the batch', async () => {
        const ana = await user('Ana');
        const chat = await room({ createdBy: ana.id });
        const missingChat = newId();
        const results = await store.appendMessages([
          request({ chatId: chat.id, senderId: ana.id }),
          request({ chatId: missingChat, senderId: ana.id }),
          request({ chatId: chat.id, senderId: ana.id }),
        ]);
        expect(results[0]).toMatchObject({ ok: true, message: { seq: 1 } });
        expect(results[1]).toMatchObject({ ok: false, code: 'not_found' });
        expect(results[2]).toMatchObject({ ok: true, message: { seq: 2 } });
        expect(await store.getChat(missingChat)).toBeNull();
      });

      it('answers not_found for an unknown sender and stores nothing for it', async () => {
        const ana = await user('Ana');
        const chat = await room({ createdBy: ana.id });
        const [result] = await store.appendMessages([
          request({ chatId: chat.id, senderId: newId() }),
        ]);
        expect(result).toMatchObject({ ok: false, code: 'not_found' });
        expect((await store.getChat(chat.id))?.last_seq).toBe(0);
      });

      it('with requireMembership, stores only a member’s message and refuses the rest', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const chat = await room({ createdBy: ana.id });
        const missingChat = newId();
        const results = await store.appendMessages([
          { ...request({ chatId: chat.id, senderId: ana.id }), requireMembership: true },
          { ...request({ chatId: chat.id, senderId: ben.id }), requireMembership: true },
          { ...request({ chatId: missingChat, senderId: ana.id }), requireMembership: true },
          { ...request({ chatId: chat.id, senderId: ana.id }), requireMembership: true },
        ]);
        expect(results[0]).toMatchObject({ ok: true, message: { seq: 1 } });
        expect(results[1]).toMatchObject({ ok: false, code: 'not_member' });
        expect(results[2]).toMatchObject({ ok: false, code: 'not_found' });
        expect(results[3]).toMatchObject({ ok: true, message: { seq: 2 } });
        expect((await store.getChat(chat.id))?.last_seq).toBe(2);
        expect(await store.messagesAfter(chat.id, 0, 10, T0)).toHaveLength(2);
      });

      it('with requireMembership, refuses a former member even a resend of their message', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const chat = await room({ createdBy: ana.id });
        await store.addMember(chat.id, ben.id, T0);
        const sent = {
          ...request({ chatId: chat.id, senderId: ben.id, mobileRefId: 'again' }),
          requireMembership: true,
        };
        const [first] = await store.appendMessages([sent]);
        expect(first).toMatchObject({ ok: true, duplicate: false, message: { seq: 1 } });
        await store.removeMember(chat.id, ben.id);
        const [resend, fresh] = await store.appendMessages([
          sent,
          { ...request({ chatId: chat.id, senderId: ben.id }), requireMembership: true },
        ]);
        expect(resend).toMatchObject({ ok: false, code: 'not_member' });
        expect(fresh).toMatchObject({ ok: false, code: 'not_member' });
        expect((await store.getChat(chat.id))?.last_seq).toBe(1);
      });

      it('moves the sender’s read marker to their own message, and only theirs', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const chat = await room({ createdBy: ana.id });
        await store.addMember(chat.id, ben.id, T0);
        await send({ chatId: chat.id, senderId: ana.id });
        await send({ chatId: chat.id, senderId: ana.id });
        expect(await store.getMembership(chat.id, ana.id)).toEqual({ read_seq: 2 });
        expect(await store.getMembership(chat.id, ben.id)).toEqual({ read_seq: 0 });
      });

      it('creates a pending notification per notified user, flagging mentions', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const cy = await user('Cy');
        const chat = await room({ name: 'team', createdBy: ana.id });
        await store.addMember(chat.id, ben.id, T0);
        await store.addMember(chat.id, cy.id, T0);
        const message = await send({
          chatId: chat.id,
          senderId: ana.id,
          content: 'hi @Ben',
          now: at(7),
          notify: [ben.id, cy.id],
          mentioned: [ben.id],
        });
        const [forBen] = await store.listPending(ben.id, 10, at(7));
        expect(forBen).toEqual({
          id: expect.any(Number),
          chat_id: chat.id,
          chat_name: 'team',
          message_id: message.message_id,
          seq: 1,
          sender_id: ana.id,
          sender_name: 'Ana',
          content: 'hi @Ben',
          timestamp: at(7).toISOString(),
          mentioned: true,
        });
        expect(await store.listPending(cy.id, 10, at(7))).toMatchObject([{ mentioned: false }]);
        expect(await store.listPending(ana.id, 10, at(7))).toEqual([]);
      });
    });

    describe('history paging', () => {
      let chatId: string;
      let senderId: string;

      beforeEach(async () => {
        const ana = await user('Ana');
        const chat = await room({ createdBy: ana.id });
        chatId = chat.id;
        senderId = ana.id;
        await store.appendMessages(
          Array.from({ length: 10 }, (_, index) =>
            request({ chatId, senderId, content: `#${index + 1}` }),
          ),
        );
      });

      const seqs = (messages: WireMessage[]): number[] => messages.map((message) => message.seq);

      it('messagesAfter returns seq > afterSeq, oldest first, at most `limit`', async () => {
        expect(seqs(await store.messagesAfter(chatId, 0, 100, T0))).toEqual([
          1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
        ]);
        expect(seqs(await store.messagesAfter(chatId, 4, 3, T0))).toEqual([5, 6, 7]);
        expect(seqs(await store.messagesAfter(chatId, 9, 3, T0))).toEqual([10]);
        expect(await store.messagesAfter(chatId, 10, 3, T0)).toEqual([]);
      });

      it('messagesBefore returns the newest below the bound, oldest first', async () => {
        expect(seqs(await store.messagesBefore(chatId, null, 3, T0))).toEqual([8, 9, 10]);
        expect(seqs(await store.messagesBefore(chatId, 8, 3, T0))).toEqual([5, 6, 7]);
        expect(seqs(await store.messagesBefore(chatId, 3, 5, T0))).toEqual([1, 2]);
        expect(await store.messagesBefore(chatId, 1, 5, T0)).toEqual([]);
      });

      it('pages through everything without gaps or overlaps', async () => {
        const backwards: number[] = [];
        let before: number | null = null;
        for (;;) {
          const page: WireMessage[] = await store.messagesBefore(chatId, before, 4, T0);
          if (page.length === 0) break;
          backwards.unshift(...seqs(page));
          before = page[0]?.seq ?? null;
        }
        expect(backwards).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      });

      it('returns nothing for an unknown chat', async () => {
        expect(await store.messagesAfter(newId(), 0, 10, T0)).toEqual([]);
        expect(await store.messagesBefore(newId(), null, 10, T0)).toEqual([]);
      });
    });

    describe('ephemeral chats', () => {
      it('gives each message an expiry of now + ttl', async () => {
        const ana = await user('Ana');
        const chat = await room({ ephemeralTtlS: 60, createdBy: ana.id });
        expect(chat.ephemeral_ttl_s).toBe(60);
        const message = await send({ chatId: chat.id, senderId: ana.id, now: at(10) });
        expect(message.expires_at).toBe(at(70).toISOString());
      });

      it('hides messages from reads once `now` reaches their expiry', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const chat = await room({ ephemeralTtlS: 60, createdBy: ana.id });
        await store.addMember(chat.id, ben.id, T0);
        await send({ chatId: chat.id, senderId: ana.id, now: T0, notify: [ben.id] });
        await send({ chatId: chat.id, senderId: ana.id, now: at(30), notify: [ben.id] });

        const before = at(59);
        expect(seqsOf(await store.messagesAfter(chat.id, 0, 10, before))).toEqual([1, 2]);
        expect(seqsOf(await store.messagesBefore(chat.id, null, 10, before))).toEqual([1, 2]);
        expect(await pendingSeqs(ben.id, before)).toEqual([
          [chat.id, 1],
          [chat.id, 2],
        ]);

        const later = at(60);
        expect(seqsOf(await store.messagesAfter(chat.id, 0, 10, later))).toEqual([2]);
        expect(seqsOf(await store.messagesBefore(chat.id, null, 10, later))).toEqual([2]);
        expect(await pendingSeqs(ben.id, later)).toEqual([[chat.id, 2]]);
        const [summary] = await store.listChatsForUser(ben.id, later);
        expect(summary).toMatchObject({ unread_count: 1, last_message: { seq: 2 } });

        const gone = at(90);
        expect(await store.messagesAfter(chat.id, 0, 10, gone)).toEqual([]);
        expect(await store.listPending(ben.id, 10, gone)).toEqual([]);
        const [emptied] = await store.listChatsForUser(ben.id, gone);
        expect(emptied).toMatchObject({ unread_count: 0, last_message: null, last_seq: 2 });
      });

      it('deleteExpired removes expired messages and their pending rows, nothing else', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const ephemeral = await room({ name: 'ephemeral', ephemeralTtlS: 60, createdBy: ana.id });
        const normal = await room({ name: 'normal', createdBy: ana.id });
        for (const chat of [ephemeral, normal]) await store.addMember(chat.id, ben.id, T0);
        await send({ chatId: ephemeral.id, senderId: ana.id, now: T0, notify: [ben.id] });
        await send({ chatId: ephemeral.id, senderId: ana.id, now: at(1), notify: [ben.id] });
        await send({ chatId: ephemeral.id, senderId: ana.id, now: at(100), notify: [ben.id] });
        await send({ chatId: normal.id, senderId: ana.id, now: T0, notify: [ben.id] });
        const expiringIds = (await store.listPending(ben.id, 10, T0))
          .filter((item) => item.chat_id === ephemeral.id && item.seq <= 2)
          .map((item) => item.id ?? 0);
        expect(expiringIds).toHaveLength(2);

        expect(await store.deleteExpired(at(61))).toBe(2);
        expect(await store.deleteExpired(at(61))).toBe(0);
        // Read with an earlier clock: the rows are gone, not merely hidden.
        expect(seqsOf(await store.messagesAfter(ephemeral.id, 0, 10, T0))).toEqual([3]);
        expect(await pendingSeqs(ben.id, T0)).toEqual([
          [ephemeral.id, 3],
          [normal.id, 1],
        ]);
        // Nothing is left to acknowledge either: the pending rows went with their messages.
        expect(await store.ackPending(ben.id, expiringIds)).toBe(0);
        expect(seqsOf(await store.messagesAfter(normal.id, 0, 10, T0))).toEqual([1]);
        // The seq keeps counting after deletions.
        const next = await send({ chatId: ephemeral.id, senderId: ana.id, now: at(200) });
        expect(next.seq).toBe(4);
      });

      function seqsOf(messages: WireMessage[]): number[] {
        return messages.map((message) => message.seq);
      }
    });

    describe('read markers', () => {
      it('only moves forward and never past last_seq', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const chat = await room({ createdBy: ana.id });
        await store.addMember(chat.id, ben.id, T0);
        for (let i = 0; i < 5; i += 1) await send({ chatId: chat.id, senderId: ana.id });
        expect(await store.setReadSeq(chat.id, ben.id, 3)).toBe(3);
        expect(await store.setReadSeq(chat.id, ben.id, 1)).toBe(3);
        expect(await store.getMembership(chat.id, ben.id)).toEqual({ read_seq: 3 });
        expect(await store.setReadSeq(chat.id, ben.id, 99)).toBe(5);
        expect(await store.getMembership(chat.id, ben.id)).toEqual({ read_seq: 5 });
      });

      it('clears pending notifications of that chat up to the marker', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const a = await room({ name: 'a', createdBy: ana.id });
        const b = await room({ name: 'b', createdBy: ana.id });
        for (const chat of [a, b]) await store.addMember(chat.id, ben.id, T0);
        for (let i = 0; i < 3; i += 1) {
          await send({ chatId: a.id, senderId: ana.id, notify: [ben.id] });
        }
        await send({ chatId: b.id, senderId: ana.id, notify: [ben.id] });
        await store.setReadSeq(a.id, ben.id, 2);
        expect(await pendingSeqs(ben.id)).toEqual([
          [a.id, 3],
          [b.id, 1],
        ]);
      });
    });

    describe('listChatsForUser', () => {
      it('lists only the user’s chats, with read marker, unread count and last message', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const shared = await room({ name: 'shared', createdBy: ana.id });
        const quiet = await room({ name: 'quiet', createdBy: ana.id });
        await room({ name: 'not-mine', createdBy: ana.id });
        await store.addMember(shared.id, ben.id, T0);
        await store.addMember(quiet.id, ben.id, T0);
        const dm = await store.getOrCreateDm({
          id: newId(),
          userA: ana.id,
          userB: ben.id,
          now: T0,
        });

        await send({ chatId: shared.id, senderId: ana.id });
        await send({ chatId: shared.id, senderId: ana.id });
        const byId = async (): Promise<Map<string, ChatSummaryView>> =>
          new Map(
            (await store.listChatsForUser(ben.id, T0)).map((chat) => [
              chat.id,
              {
                read_seq: chat.read_seq,
                unread_count: chat.unread_count,
                last_seq: chat.last_message?.seq ?? null,
              },
            ]),
          );

        let chats = await byId();
        expect([...chats.keys()].sort()).toEqual([shared.id, quiet.id, dm.id].sort());
        expect(chats.get(shared.id)).toEqual({ read_seq: 0, unread_count: 2, last_seq: 2 });
        expect(chats.get(quiet.id)).toEqual({ read_seq: 0, unread_count: 0, last_seq: null });

        await store.setReadSeq(shared.id, ben.id, 1);
        expect((await byId()).get(shared.id)).toEqual({
          read_seq: 1,
          unread_count: 1,
          last_seq: 2,
        });

        // Ben's own message marks everything before it as read.
        await send({ chatId: shared.id, senderId: ben.id });
        await send({ chatId: shared.id, senderId: ana.id, content: 'latest' });
        chats = await byId();
        expect(chats.get(shared.id)).toEqual({ read_seq: 3, unread_count: 1, last_seq: 4 });
        const summary = (await store.listChatsForUser(ben.id, T0)).find(
          (chat) => chat.id === shared.id,
        );
        expect(summary).toMatchObject({
          kind: 'room',
          name: 'shared',
          last_seq: 4,
          last_message: { content: 'latest', sender_name: 'Ana' },
        });
      });

      it('never counts the user’s own messages as unread', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const chat = await room({ createdBy: ana.id });
        // Ben posts before he is a member, so his read marker cannot have moved.
        await send({ chatId: chat.id, senderId: ben.id });
        await send({ chatId: chat.id, senderId: ben.id });
        await send({ chatId: chat.id, senderId: ana.id });
        await store.addMember(chat.id, ben.id, at(1));
        const [summary] = await store.listChatsForUser(ben.id, at(1));
        expect(summary).toMatchObject({ id: chat.id, read_seq: 0, unread_count: 1 });
      });

      it('is empty for a user with no chats', async () => {
        const ana = await user('Ana');
        await room({ createdBy: null });
        expect(await store.listChatsForUser(ana.id, T0)).toEqual([]);
      });
    });

    describe('searchMessages', () => {
      async function search(
        userId: string,
        terms: string[],
        options: { chatId?: string; before?: string | null; limit?: number } = {},
      ): Promise<{ contents: string[]; next: string | null }> {
        const page = await store.searchMessages({
          userId,
          terms,
          chatId: options.chatId ?? null,
          before: options.before ?? null,
          limit: options.limit ?? 50,
        });
        if ('ok' in page) throw new Error(`search failed: ${page.message}`);
        return { contents: page.messages.map((m) => m.content), next: page.next };
      }

      it('finds messages holding every term as a word prefix, any case, newest first', async () => {
        const ana = await user('Ana');
        const chat = await room();
        await store.addMember(chat.id, ana.id, T0);
        const texts = [
          'Deploying the release tonight',
          'the RELEASE notes are up',
          'released yesterday, deploy went fine',
          'nothing to see here',
          'prerelease builds are separate',
        ];
        for (const [index, content] of texts.entries())
          await send({ chatId: chat.id, senderId: ana.id, content, now: at(index) });

        expect((await search(ana.id, ['release'])).contents).toEqual([
          texts[2],
          texts[1],
          texts[0],
        ]);
        expect((await search(ana.id, ['deploy', 'releas'])).contents).toEqual([texts[2], texts[0]]);
        expect((await search(ana.id, ['notes', 'tonight'])).contents).toEqual([]);
        expect((await search(ana.id, ['zebra'])).contents).toEqual([]);
      });

      it('searches only the chats the user is a member of now, or the one asked for', async () => {
        const [ana, ben] = [await user('Ana'), await user('Ben')];
        const shared = await room({ name: 'shared' });
        const secret = await room({ name: 'secret', visibility: 'private' });
        await store.addMember(shared.id, ana.id, T0);
        await store.addMember(shared.id, ben.id, T0);
        await store.addMember(secret.id, ana.id, T0);
        await send({ chatId: shared.id, senderId: ana.id, content: 'budget for Q3', now: at(1) });
        await send({ chatId: secret.id, senderId: ana.id, content: 'budget cuts', now: at(2) });

        expect((await search(ana.id, ['budget'])).contents).toEqual([
          'budget cuts',
          'budget for Q3',
        ]);
        expect((await search(ben.id, ['budget'])).contents).toEqual(['budget for Q3']);
        expect((await search(ben.id, ['budget'], { chatId: secret.id })).contents).toEqual([]);
        expect((await search(ana.id, ['budget'], { chatId: shared.id })).contents).toEqual([
          'budget for Q3',
        ]);

        await store.removeMember(shared.id, ben.id);
        expect((await search(ben.id, ['budget'])).contents).toEqual([]);
      });

      it('pages through every match once, newest first, with the next position', async () => {
        const ana = await user('Ana');
        const chat = await room();
        await store.addMember(chat.id, ana.id, T0);
        // Two messages share each second: order within one second is the store's own, but
        // every match must come exactly once.
        for (let i = 0; i < 11; i += 1)
          await send({ chatId: chat.id, senderId: ana.id, content: `match ${i}`, now: at(i >> 1) });
        await send({ chatId: chat.id, senderId: ana.id, content: 'other', now: at(20) });

        const seen: string[] = [];
        let before: string | null = null;
        let pages = 0;
        do {
          const page = await search(ana.id, ['match'], { before, limit: 4 });
          seen.push(...page.contents);
          before = page.next;
          pages += 1;
        } while (before !== null && pages < 10);
        expect(pages).toBe(3);
        expect(new Set(seen).size).toBe(11);
        const second = (content: string): number => Number(content.split(' ')[1]) >> 1;
        expect(seen.map(second)).toEqual([...seen.map(second)].sort((a, b) => b - a));
      });

      it('never finds messages of ephemeral chats', async () => {
        const ana = await user('Ana');
        const fleeting = await room({ ephemeralTtlS: 60 });
        const lasting = await room();
        await store.addMember(fleeting.id, ana.id, T0);
        await store.addMember(lasting.id, ana.id, T0);
        await send({ chatId: fleeting.id, senderId: ana.id, content: 'password hunter2' });
        await send({ chatId: lasting.id, senderId: ana.id, content: 'password policy' });
        expect((await search(ana.id, ['password'])).contents).toEqual(['password policy']);
      });

      it('matches a word of one character only as a whole word, not as a prefix', async () => {
        const ana = await user('Ana');
        const chat = await room();
        await store.addMember(chat.id, ana.id, T0);
        await send({ chatId: chat.id, senderId: ana.id, content: 'plan b it is', now: at(1) });
        await send({ chatId: chat.id, senderId: ana.id, content: 'build broken', now: at(2) });
        expect((await search(ana.id, ['b'])).contents).toEqual(['plan b it is']);
        expect((await search(ana.id, ['b', 'pla'])).contents).toEqual(['plan b it is']);
        expect((await search(ana.id, ['bu'])).contents).toEqual(['build broken']);
      });

      it('refuses a position it did not give, changing nothing', async () => {
        const ana = await user('Ana');
        for (const before of ['x', '-1', '2030-13-01T00:00:00.000Z_abc', '1.5']) {
          const page = await store.searchMessages({
            userId: ana.id,
            terms: ['a'],
            chatId: null,
            before,
            limit: 5,
          });
          expect(page, before).toMatchObject({ ok: false, code: 'invalid_payload' });
        }
      });
    });

    describe('pending notifications', () => {
      it('names a DM notification after its sender', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const dm = await store.getOrCreateDm({
          id: newId(),
          userA: ana.id,
          userB: ben.id,
          now: T0,
        });
        await send({ chatId: dm.id, senderId: ana.id, content: 'psst', notify: [ben.id] });
        expect(await store.listPending(ben.id, 10, T0)).toMatchObject([
          { chat_id: dm.id, chat_name: 'Ana', content: 'psst', sender_name: 'Ana' },
        ]);
      });

      it('lists only chats the user is a member of', async () => {
        const ana = await user('Ana');
        const outsider = await user('Outsider');
        const chat = await room({ createdBy: ana.id });
        await send({ chatId: chat.id, senderId: ana.id, notify: [outsider.id] });
        expect(await store.listPending(outsider.id, 10, T0)).toEqual([]);
      });

      it('lists in id order, at most `limit`', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const a = await room({ name: 'a', createdBy: ana.id });
        const b = await room({ name: 'b', createdBy: ana.id });
        for (const chat of [a, b]) await store.addMember(chat.id, ben.id, T0);
        for (const chat of [b, a, b, a, a]) {
          await send({ chatId: chat.id, senderId: ana.id, notify: [ben.id] });
        }
        const all = await store.listPending(ben.id, 10, T0);
        const ids = all.map((item) => item.id ?? 0);
        expect(ids).toEqual([...ids].sort((x, y) => x - y));
        expect(new Set(ids).size).toBe(5);
        expect(all.map((item) => [item.chat_id, item.seq])).toEqual([
          [b.id, 1],
          [a.id, 1],
          [b.id, 2],
          [a.id, 2],
          [a.id, 3],
        ]);
        expect(await store.listPending(ben.id, 2, T0)).toEqual(all.slice(0, 2));
      });

      it('ackPending removes only the user’s own notifications', async () => {
        const ana = await user('Ana');
        const ben = await user('Ben');
        const cy = await user('Cy');
        const chat = await room({ createdBy: ana.id });
        await store.addMember(chat.id, ben.id, T0);
        await store.addMember(chat.id, cy.id, T0);
        await send({ chatId: chat.id, senderId: ana.id, notify: [ben.id, cy.id] });
        await send({ chatId: chat.id, senderId: ana.id, notify: [ben.id, cy.id] });
        const bens = await store.listPending(ben.id, 10, T0);
        const cys = await store.listPending(cy.id, 10, T0);

        expect(
          await store.ackPending(
            ben.id,
            cys.map((item) => item.id ?? 0),
          ),
        ).toBe(0);
        expect(await store.listPending(cy.id, 10, T0)).toEqual(cys);

        expect(await store.ackPending(ben.id, [bens[0]?.id ?? 0, 987_654_321])).toBe(1);
        expect(await store.listPending(ben.id, 10, T0)).toEqual(bens.slice(1));
        expect(await store.ackPending(ben.id, [bens[0]?.id ?? 0])).toBe(0);
        expect(await store.ackPending(ben.id, [])).toBe(0);
      });

      it('keeps at most maxPendingPerUser per user, dropping the oldest', async () => {
        const cap = opened.maxPendingPerUser;
        const ana = await user('Ana');
        const ben = await user('Ben');
        const cy = await user('Cy');
        const chat = await room({ createdBy: ana.id });
        await store.addMember(chat.id, ben.id, T0);
        await store.addMember(chat.id, cy.id, T0);
        // Cy gets one notification only; Ben's overflow must not touch it.
        await send({ chatId: chat.id, senderId: ana.id, notify: [ben.id, cy.id] });
        // One append per call first, then a batch: the cap holds for both.
        for (let i = 0; i < cap; i += 1) {
          await send({ chatId: chat.id, senderId: ana.id, notify: [ben.id] });
        }
        const newest = (total: number): number[] =>
          Array.from({ length: cap }, (_, index) => total - cap + 1 + index);
        const bensSeqs = async (): Promise<number[]> =>
          (await store.listPending(ben.id, cap + 10, T0)).map((item) => item.seq);
        expect(await bensSeqs()).toEqual(newest(cap + 1));

        await store.appendMessages(
          Array.from({ length: 3 }, () =>
            request({ chatId: chat.id, senderId: ana.id, notify: [ben.id] }),
          ),
        );
        expect(await bensSeqs()).toEqual(newest(cap + 4));
        expect((await store.listPending(cy.id, 10, T0)).map((item) => item.seq)).toEqual([1]);
      });
    });
  });
}

interface ChatSummaryView {
  read_seq: number;
  unread_count: number;
  last_seq: number | null;
}
