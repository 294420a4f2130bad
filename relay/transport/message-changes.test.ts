/**
 * edit_message and delete_message over the socket, end to end: a real relay on port 0 with a
 * real SQLite file; RawClient where the exact frames matter, the official `phoenix` client for
 * what apps do.
 */
import type { Socket } from 'phoenix';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EVENTS,
  STREAM_VERSION,
  type ChatEvent,
  type ChatJoinReply,
  type MessageChanged,
  type MessageSent,
} from '../protocol/events.js';
import { chatTopic, notificationsTopic } from '../protocol/topics.js';
import {
  RawClient,
  api,
  collect,
  connectPhoenix,
  createRoom,
  join,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type Session,
  type TestRelay,
} from '../testing/relay-harness.js';

const MAX_CHARS = 200;
const LIMITS = {
  maxMessageChars: MAX_CHARS,
  messagesPerSecond: 1_000,
  messageBurst: 1_000,
  sessionAttemptsPerMinute: 10_000,
};

let relay: TestRelay;
let users = 0;
const raws: RawClient[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  relay = await startTestRelay({ limits: LIMITS });
});
afterEach(() => {
  for (const client of raws.splice(0)) client.close();
  for (const socket of sockets.splice(0)) socket.disconnect();
});
afterAll(async () => {
  await relay.close();
  removeDir(relay.dataDir);
});

function newUser(base: string, on: TestRelay = relay): Promise<Session> {
  users += 1;
  return signIn(on, `${base}${users}`);
}

async function raw(session: Session, device: string, on: TestRelay = relay): Promise<RawClient> {
  const client = await RawClient.connect(on, session.token, device);
  raws.push(client);
  return client;
}

/** A RawClient joined to one chat. */
interface Joined {
  client: RawClient;
  topic: string;
  joinRef: string;
  reply: ChatJoinReply;
}

async function joined(
  session: Session,
  chatId: string,
  device: string,
  on: TestRelay = relay,
): Promise<Joined> {
  const client = await raw(session, device, on);
  const topic = chatTopic(chatId);
  const result = await client.join(topic);
  expect(result.status).toBe('ok');
  return {
    client,
    topic,
    joinRef: result.joinRef,
    reply: result.response as unknown as ChatJoinReply,
  };
}

async function call(
  at: Joined,
  event: string,
  payload: unknown,
): Promise<{ status: string; response: Record<string, unknown> }> {
  return at.client.call(at.joinRef, at.topic, event, payload);
}

async function send(at: Joined, content: string, ref: string): Promise<MessageSent> {
  const reply = await call(at, EVENTS.sendMessage, { content, mobile_ref_id: ref });
  expect(reply.status).toBe('ok');
  return reply.response as unknown as MessageSent;
}

async function edit(
  at: Joined,
  payload: { message_id: string; content: string; ref_id: string },
): Promise<{ status: string; response: Record<string, unknown> }> {
  return call(at, EVENTS.editMessage, payload);
}

/** Every frame for this client written before now has arrived (the reply comes after them). */
async function settled(client: RawClient): Promise<void> {
  expect((await client.call(null, 'phoenix', EVENTS.heartbeat, {})).status).toBe('ok');
}

/** Change events pushed to a client, in arrival order. */
function changes(client: RawClient): ChatEvent[] {
  return client.frames
    .filter((f) => f[3] === EVENTS.messageEdited || f[3] === EVENTS.messageDeleted)
    .map((f) => f[4] as ChatEvent);
}

async function room(owner: Session, ...members: Session[]): Promise<string> {
  users += 1;
  const chatId = await createRoom(relay, owner.token, `changes-${users}`, 'public');
  for (const member of members) {
    const res = await api(relay, member.token, 'POST', `/api/chats/${chatId}/join`, {});
    expect(res.status).toBe(200);
  }
  return chatId;
}

describe('edit_message', () => {
  it('replies MessageChanged and pushes message_edited to every subscriber, the asking connection included', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await room(ana, ben);
    const anaPhone = await joined(ana, chatId, 'ana-phone');
    const anaLaptop = await joined(ana, chatId, 'ana-laptop');
    const benPhone = await joined(ben, chatId, 'ben-phone');
    const sent = await send(anaPhone, 'helo', 'm1');
    expect(sent.status).toBe('sent');
    const messageId = sent.message_id ?? '';

    const reply = await edit(anaPhone, { message_id: messageId, content: 'hello', ref_id: 'e1' });
    expect(reply.status).toBe('ok');
    const changed = reply.response as unknown as MessageChanged;
    expect(changed.duplicate).toBe(false);
    expect(changed.event).toMatchObject({
      type: EVENTS.messageEdited,
      chat_id: chatId,
      seq: (sent.seq ?? 0) + 1,
      message_id: messageId,
      message_seq: sent.seq,
      sender_id: ana.user.id,
      content: 'hello',
    });
    expect(changed.message).toMatchObject({
      message_id: messageId,
      seq: sent.seq,
      content: 'hello',
      deleted_at: null,
      version_seq: changed.event.seq,
    });
    expect(changed.message.edited_at).toEqual(expect.any(String));

    // The same payload, encoded once, to each subscriber (the asking connection too: clients
    // dedupe by version_seq).
    for (const client of [anaPhone.client, anaLaptop.client, benPhone.client]) {
      const frame = await client.waitFor((f) => f[3] === EVENTS.messageEdited);
      expect(frame.slice(0, 3)).toEqual([null, null, anaPhone.topic]);
      expect(frame[4]).toEqual(changed.event);
    }
  });

  it('a retried ref_id answers the original change as a duplicate, taking no seq and pushing nothing', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await room(ana, ben);
    const anaChat = await joined(ana, chatId, 'ana');
    const benChat = await joined(ben, chatId, 'ben');
    const sent = await send(anaChat, 'first', 'm1');
    const payload = { message_id: sent.message_id ?? '', content: 'second', ref_id: 'retry-1' };
    const first = await edit(anaChat, payload);
    const again = await edit(anaChat, payload);
    expect(first.status).toBe('ok');
    expect(again.status).toBe('ok');
    const original = first.response as unknown as MessageChanged;
    expect(again.response).toEqual({ ...original, duplicate: true });
    await settled(benChat.client);
    expect(changes(benChat.client)).toEqual([original.event]);
    // The next send takes the seq right after the one edit.
    expect((await send(anaChat, 'third', 'm2')).seq).toBe(original.event.seq + 1);
  });

  it('keeps a connection’s sends and edits in the order it pushed them', async () => {
    const ana = await newUser('Ana');
    const chatId = await room(ana);
    const anaChat = await joined(ana, chatId, 'ana');
    const first = await send(anaChat, 'one', 'o1');
    // Pushed back to back, answered as they commit: seqs follow the order of the pushes.
    const refs = [
      anaChat.client.send(anaChat.joinRef, anaChat.topic, EVENTS.sendMessage, {
        content: 'two',
        mobile_ref_id: 'o2',
      }),
      anaChat.client.send(anaChat.joinRef, anaChat.topic, EVENTS.editMessage, {
        message_id: first.message_id,
        content: 'one, edited',
        ref_id: 'o-edit',
      }),
      anaChat.client.send(anaChat.joinRef, anaChat.topic, EVENTS.sendMessage, {
        content: 'three',
        mobile_ref_id: 'o3',
      }),
      anaChat.client.send(anaChat.joinRef, anaChat.topic, EVENTS.deleteMessage, {
        message_id: first.message_id,
      }),
    ];
    const replies = await Promise.all(refs.map((ref) => anaChat.client.reply(ref)));
    expect(replies.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    const seqs = [
      (replies[0]?.response as unknown as MessageSent).seq,
      (replies[1]?.response as unknown as MessageChanged).event.seq,
      (replies[2]?.response as unknown as MessageSent).seq,
      (replies[3]?.response as unknown as MessageChanged).event.seq,
    ];
    const base = first.seq ?? 0;
    expect(seqs).toEqual([base + 1, base + 2, base + 3, base + 4]);
  });

  it('answers refusals with {reason, message} and changes nothing', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await room(ana, ben);
    const anaChat = await joined(ana, chatId, 'ana');
    const benChat = await joined(ben, chatId, 'ben');
    const sent = await send(anaChat, 'original', 'r1');
    const messageId = sent.message_id ?? '';
    const refused: [Joined, Record<string, unknown>, string][] = [
      [benChat, { message_id: messageId, content: 'hijacked', ref_id: 'x1' }, 'forbidden'],
      [anaChat, { message_id: 'no-such-message', content: 'x', ref_id: 'x2' }, 'not_found'],
      [anaChat, { message_id: messageId, content: '   ', ref_id: 'x3' }, 'empty_message'],
      [
        anaChat,
        { message_id: messageId, content: 'x'.repeat(MAX_CHARS + 1), ref_id: 'x4' },
        'message_too_long',
      ],
    ];
    for (const [at, payload, reason] of refused) {
      const reply = await edit(
        at,
        payload as { message_id: string; content: string; ref_id: string },
      );
      expect(reply, reason).toEqual({
        status: 'error',
        response: { reason, message: expect.any(String) },
      });
    }
    await settled(benChat.client);
    await settled(anaChat.client);
    expect(changes(benChat.client)).toEqual([]);
    expect(changes(anaChat.client)).toEqual([]);
    const page = await api<{ messages: { content: string; version_seq: number }[] }>(
      relay,
      ana.token,
      'GET',
      `/api/chats/${chatId}/messages`,
    );
    expect(page.body.messages).toMatchObject([{ content: 'original', version_seq: sent.seq }]);
    // No seq was taken by any refusal.
    expect((await send(anaChat, 'next', 'r2')).seq).toBe((sent.seq ?? 0) + 1);
  });

  // A payload that is not an object is a malformed frame (closed with 1007, frame.ts), before
  // any channel sees it; these are objects of the wrong shape.
  it('answers invalid payloads with invalid_payload', async () => {
    const ana = await newUser('Ana');
    const chatId = await room(ana);
    const anaChat = await joined(ana, chatId, 'ana');
    const sent = await send(anaChat, 'text', 'i1');
    const id = sent.message_id ?? '';
    const invalid: [string, unknown][] = [
      [EVENTS.editMessage, { message_id: id, content: 'no ref' }],
      [EVENTS.editMessage, { message_id: id, ref_id: 'no content' }],
      [EVENTS.editMessage, { content: 'no id', ref_id: 'i2' }],
      [EVENTS.editMessage, { message_id: 42, content: 'x', ref_id: 'i3' }],
      [EVENTS.editMessage, { message_id: id, content: ['x'], ref_id: 'i4' }],
      [EVENTS.editMessage, { message_id: id, content: 'x', ref_id: '' }],
      [EVENTS.editMessage, { message_id: 'x'.repeat(65), content: 'x', ref_id: 'i5' }],
      [EVENTS.editMessage, { message_id: id, content: 'x', ref_id: 'r'.repeat(129) }],
      [EVENTS.deleteMessage, {}],
      [EVENTS.deleteMessage, { message_id: '' }],
      [EVENTS.deleteMessage, { message_id: { $ne: null } }],
    ];
    for (const [event, payload] of invalid) {
      const reply = await call(anaChat, event, payload);
      expect(reply, `${event} ${JSON.stringify(payload)}`).toMatchObject({
        status: 'error',
        response: { reason: 'invalid_payload' },
      });
    }
    await settled(anaChat.client);
    expect(changes(anaChat.client)).toEqual([]);
    expect((await send(anaChat, 'next', 'i6')).seq).toBe((sent.seq ?? 0) + 1);
  });
});

describe('delete_message', () => {
  it('replies MessageChanged with a tombstone and pushes message_deleted to every subscriber', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await room(ana, ben);
    const anaChat = await joined(ana, chatId, 'ana');
    const benChat = await joined(ben, chatId, 'ben');
    const sent = await send(anaChat, 'regrettable', 'd1');
    const messageId = sent.message_id ?? '';

    const forbidden = await call(benChat, EVENTS.deleteMessage, { message_id: messageId });
    expect(forbidden).toEqual({
      status: 'error',
      response: { reason: 'forbidden', message: expect.any(String) },
    });

    const reply = await call(anaChat, EVENTS.deleteMessage, { message_id: messageId });
    expect(reply.status).toBe('ok');
    const changed = reply.response as unknown as MessageChanged;
    expect(changed.duplicate).toBe(false);
    expect(changed.event).toMatchObject({
      type: EVENTS.messageDeleted,
      chat_id: chatId,
      seq: (sent.seq ?? 0) + 1,
      message_id: messageId,
      message_seq: sent.seq,
      sender_id: ana.user.id,
      deleted_by: ana.user.id,
    });
    expect(changed.message).toMatchObject({
      message_id: messageId,
      content: '',
      version_seq: changed.event.seq,
    });
    expect(changed.message.deleted_at).toEqual(expect.any(String));
    for (const client of [anaChat.client, benChat.client]) {
      const frame = await client.waitFor((f) => f[3] === EVENTS.messageDeleted);
      expect(frame[4]).toEqual(changed.event);
    }

    // Deleting again is a duplicate (no seq, no push); editing a deleted message is refused.
    const again = await call(anaChat, EVENTS.deleteMessage, { message_id: messageId });
    expect(again.status).toBe('ok');
    expect((again.response as unknown as MessageChanged).duplicate).toBe(true);
    expect((again.response as unknown as MessageChanged).event.seq).toBe(changed.event.seq);
    const late = await edit(anaChat, { message_id: messageId, content: 'back', ref_id: 'd2' });
    expect(late).toEqual({
      status: 'error',
      response: { reason: 'message_deleted', message: expect.any(String) },
    });
    await settled(benChat.client);
    expect(changes(benChat.client)).toEqual([changed.event]);
  });

  it('reaches the official phoenix client as message_deleted, and a later join lists the event', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await room(ana, ben);
    const anaChat = await joined(ana, chatId, 'ana');
    const socket = connectPhoenix(relay, ben.token, 'ben-phoenix');
    sockets.push(socket);
    const channel = socket.channel(chatTopic(chatId), {});
    const deleted = collect<ChatEvent>(channel, EVENTS.messageDeleted);
    expect((await join(channel)).status).toBe('ok');
    const sent = await send(anaChat, 'gone soon', 'p1');
    const reply = await call(anaChat, EVENTS.deleteMessage, { message_id: sent.message_id });
    const event = (reply.response as unknown as MessageChanged).event;
    await until(() => deleted.length === 1, 5_000, 'message_deleted on the phoenix client');
    expect(deleted).toEqual([event]);

    // Resuming from before the delete: the reply lists the message as a tombstone and the event.
    const later = await raw(ben, 'ben-later');
    const resumed = await later.join(chatTopic(chatId), { since_seq: (sent.seq ?? 1) - 1 });
    expect(resumed.status).toBe('ok');
    const joinReply = resumed.response as unknown as ChatJoinReply;
    expect(joinReply.stream_version).toBe(STREAM_VERSION);
    expect(joinReply.messages).toMatchObject([{ message_id: sent.message_id, content: '' }]);
    expect(joinReply.events).toEqual([event]);
    expect(joinReply.last_seq).toBe(event.seq);
  });
});

describe('the send bucket', () => {
  it('is shared by send_message, edit_message and delete_message', async () => {
    const tight = await startTestRelay({
      limits: { messagesPerSecond: 1, messageBurst: 3, sessionAttemptsPerMinute: 1_000 },
    });
    try {
      users += 1;
      const ana = await signIn(tight, `Tight${users}`);
      const chatId = await createRoom(tight, ana.token, `tight-${users}`, 'public');
      const anaChat = await joined(ana, chatId, 'ana', tight);
      const sent = await send(anaChat, 'one', 't1');
      const edited = await edit(anaChat, {
        message_id: sent.message_id ?? '',
        content: 'one!',
        ref_id: 't2',
      });
      expect(edited.status).toBe('ok');
      const removed = await call(anaChat, EVENTS.deleteMessage, { message_id: sent.message_id });
      expect(removed.status).toBe('ok');
      // Three tokens spent: every kind of write is refused now, with rate_limited.
      const refusals = [
        await edit(anaChat, { message_id: sent.message_id ?? '', content: 'x', ref_id: 't3' }),
        await call(anaChat, EVENTS.deleteMessage, { message_id: sent.message_id }),
        await call(anaChat, EVENTS.sendMessage, { content: 'two', mobile_ref_id: 't4' }),
      ];
      for (const reply of refusals) {
        expect(reply).toMatchObject({ status: 'error', response: { reason: 'rate_limited' } });
      }
    } finally {
      await tight.close();
      removeDir(tight.dataDir);
    }
  });
});

describe('the channel registry', () => {
  it('answers events no channel registers with unknown_event, as before', async () => {
    const ana = await newUser('Ana');
    const chatId = await room(ana);
    const client = await raw(ana, 'registry');
    const chat = await client.join(chatTopic(chatId));
    const inbox = await client.join(notificationsTopic(ana.user.id));
    expect([chat.status, inbox.status]).toEqual(['ok', 'ok']);
    const cases: [string | null, string, string, string][] = [
      [
        chat.joinRef,
        chatTopic(chatId),
        'constructor',
        'constructor is not an event of chat topics',
      ],
      [chat.joinRef, chatTopic(chatId), '__proto__', '__proto__ is not an event of chat topics'],
      [chat.joinRef, chatTopic(chatId), 'toString', 'toString is not an event of chat topics'],
      [
        chat.joinRef,
        chatTopic(chatId),
        EVENTS.messageEdited,
        'message_edited is not an event of chat topics',
      ],
      [
        chat.joinRef,
        chatTopic(chatId),
        EVENTS.ackNotifications,
        'ack_notifications is not an event of chat topics',
      ],
      [
        inbox.joinRef,
        notificationsTopic(ana.user.id),
        EVENTS.editMessage,
        'edit_message is not an event of notifications topics',
      ],
      [
        inbox.joinRef,
        notificationsTopic(ana.user.id),
        'hasOwnProperty',
        'hasOwnProperty is not an event of notifications topics',
      ],
      [null, 'phoenix', EVENTS.join, 'the phoenix topic only takes heartbeat'],
      [null, 'phoenix', EVENTS.deleteMessage, 'the phoenix topic only takes heartbeat'],
    ];
    for (const [joinRef, topic, event, message] of cases) {
      const reply = await client.call(joinRef, topic, event, { message_id: 'm' });
      expect(reply, `${event} on ${topic}`).toEqual({
        status: 'error',
        response: { reason: 'unknown_event', message },
      });
    }
    // Still joined and answering: nothing above closed or unsubscribed anything.
    expect((await client.call(null, 'phoenix', EVENTS.heartbeat, {})).status).toBe('ok');
    expect(client.closeCode).toBeNull();
    const read = await client.call(chat.joinRef, chatTopic(chatId), EVENTS.read, { seq: 0 });
    expect(read.status).toBe('ok');
  });

  it('refuses edit and delete pushes on a topic not joined, before looking at them', async () => {
    const ana = await newUser('Ana');
    const chatId = await room(ana);
    const client = await raw(ana, 'unjoined');
    for (const event of [EVENTS.editMessage, EVENTS.deleteMessage]) {
      const reply = await client.call(null, chatTopic(chatId), event, { message_id: 'm' });
      expect(reply).toMatchObject({ status: 'error', response: { reason: 'unmatched topic' } });
    }
  });
});
