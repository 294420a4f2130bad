/**
 * notifications:<user_id> end to end: live new_notification for chats the user is not in,
 * pending notifications kept for offline members until acknowledged or read, @mentions, and
 * the mentions-only rule of large rooms.
 */
import type { Channel, Socket } from 'phoenix';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChatInfo,
  ChatSummary,
  MessageSent,
  NotificationPayload,
  PendingNotifications,
  WireMessage,
} from '../protocol/events.js';
import {
  RawClient,
  api,
  collect,
  connectPhoenix,
  join,
  push,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type Session,
  type TestRelay,
} from '../testing/relay-harness.js';

const LIMITS = { sessionAttemptsPerMinute: 10_000 };

let relay: TestRelay;
let host: Session;
let mainChatId: string;
let userCount = 0;
const sockets: Socket[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  relay = await startTestRelay({ limits: LIMITS });
  host = await newUser('Host');
  mainChatId = await findMainChat(relay, host);
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  for (const raw of raws.splice(0)) raw.close();
});
afterAll(async () => {
  await relay.close();
  removeDir(relay.dataDir);
});

async function findMainChat(on: TestRelay, session: Session): Promise<string> {
  const chats = await api<{ chats: ChatInfo[] }>(on, session.token, 'GET', '/api/chats');
  const id = chats.body.chats.find((chat) => chat.is_main)?.id;
  expect(id).toBeDefined();
  return id ?? '';
}

function newUser(base: string, on: TestRelay = relay): Promise<Session> {
  userCount += 1;
  return signIn(on, `${base}${userCount}`);
}

function phoenix(session: Session, device = 'device-1', on: TestRelay = relay): Socket {
  const socket = connectPhoenix(on, session.token, device);
  sockets.push(socket);
  return socket;
}

/** A room of `owner` with these other members; returns its id and name. */
async function roomWith(
  owner: Session,
  members: Session[],
  on: TestRelay = relay,
): Promise<{ id: string; name: string }> {
  const name = `room-${userCount}-${members.length}`;
  const res = await api<{ chat: ChatInfo }>(on, owner.token, 'POST', '/api/chats', {
    name,
    visibility: 'private',
  });
  expect(res.status).toBe(201);
  for (const member of members) {
    const added = await api(on, owner.token, 'POST', `/api/chats/${res.body.chat.id}/members`, {
      user_id: member.user.id,
    });
    expect(added.status).toBe(200);
  }
  return { id: res.body.chat.id, name };
}

async function postMessage(
  sender: Session,
  chatId: string,
  content: string,
  on: TestRelay = relay,
): Promise<MessageSent> {
  userCount += 1;
  const res = await api<MessageSent>(on, sender.token, 'POST', `/api/chats/${chatId}/messages`, {
    content,
    mobile_ref_id: `ref-${userCount}`,
  });
  expect(res.status).toBe(201);
  return res.body;
}

interface Inbox {
  channel: Channel;
  live: NotificationPayload[];
  batches: PendingNotifications[];
  pending: NotificationPayload[];
}

/** Joins the user's notifications topic, collecting every notification event from the start. */
async function openInbox(socket: Socket, session: Session): Promise<Inbox> {
  const channel = socket.channel(`notifications:${session.user.id}`, {});
  const inbox = {
    channel,
    live: collect<NotificationPayload>(channel, 'new_notification'),
    batches: collect<PendingNotifications>(channel, 'pending_notifications'),
    pending: collect<NotificationPayload>(channel, 'pending_notification'),
  };
  const joined = await join(channel);
  expect(joined).toEqual({ status: 'ok', response: { user_id: session.user.id } });
  return inbox;
}

/**
 * An `ack_notifications` round trip acknowledging nothing: everything the relay pushed on this
 * subscription before it has arrived once the reply is in.
 */
async function settle(inbox: Inbox): Promise<void> {
  expect(await push(inbox.channel, 'ack_notifications', { ids: [] })).toEqual({
    status: 'ok',
    response: { acked: 0 },
  });
}

/**
 * Connects, joins the main room (so going away can be observed) and the notifications topic.
 * `leave()` disconnects and resolves once the relay has dropped the connection, seen as the
 * presence leave in the main room.
 */
async function comeOnline(
  session: Session,
  device: string,
  on: TestRelay = relay,
  main: { chatId: string; watcher: Session } = { chatId: mainChatId, watcher: host },
): Promise<Inbox & { leave: () => Promise<void> }> {
  const socket = phoenix(session, device, on);
  const presence = await join(socket.channel(`chat:${main.chatId}`, {}));
  expect(presence.status).toBe('ok');
  const inbox = await openInbox(socket, session);
  return {
    ...inbox,
    async leave() {
      const watcher = await RawClient.connect(on, main.watcher.token, `watcher-${device}`);
      raws.push(watcher);
      expect((await watcher.join(`chat:${main.chatId}`)).status).toBe('ok');
      // The watcher sees this device first (in its presence_state or a later join): a device
      // that came and went inside one presence window is never shown, so neither is its leave.
      await watcher.waitFor(
        (f) =>
          (f[3] === 'presence_state' && session.user.id in (f[4] as object)) ||
          (f[3] === 'presence_diff' && session.user.id in (f[4] as { joins: object }).joins),
      );
      socket.disconnect();
      await watcher.waitFor(
        (f) => f[3] === 'presence_diff' && session.user.id in (f[4] as { leaves: object }).leaves,
      );
      watcher.close();
    },
  };
}

describe('live new_notification', () => {
  it('reaches a member subscribed to notifications but not to the chat, never for own messages', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const room = await roomWith(ana, [ben]);
    const other = await roomWith(ana, [ben]);
    const anaInbox = await openInbox(phoenix(ana, 'ana-phone'), ana);
    const benInbox = await openInbox(phoenix(ben, 'ben-phone'), ben);

    const sent = await postMessage(ana, room.id, 'are you there?');
    await until(() => benInbox.live.length === 1, 5_000, 'new_notification');
    const notification = benInbox.live[0];
    expect(notification).toEqual({
      chat_id: room.id,
      chat_name: room.name,
      message_id: sent.message_id,
      seq: 1,
      sender_id: ana.user.id,
      sender_name: ana.user.name,
      content: 'are you there?',
      timestamp: sent.timestamp,
      mentioned: false,
    });

    // Ben opens the chat on his laptop: no notification for it on any of his devices.
    const laptop = phoenix(ben, 'ben-laptop');
    const benChat = laptop.channel(`chat:${room.id}`, {});
    const benReceived = collect<WireMessage>(benChat, 'receive_message');
    expect((await join(benChat)).status).toBe('ok');
    await postMessage(ana, room.id, 'yes you are');
    await until(() => benReceived.length === 1, 5_000, 'receive_message on the laptop');
    // Later messages elsewhere still notify; behind them the skipped one would have come.
    await postMessage(ana, other.id, 'over here');
    await until(() => benInbox.live.length === 2, 5_000, 'the second notification');
    expect(benInbox.live.map((n) => [n.chat_id, n.content])).toEqual([
      [room.id, 'are you there?'],
      [other.id, 'over here'],
    ]);

    // Ana was never notified of her own messages; Ben's answer does notify her.
    await postMessage(ben, other.id, 'answer');
    await until(() => anaInbox.live.length === 1, 5_000, 'notification for ana');
    expect(anaInbox.live.map((n) => [n.sender_id, n.content])).toEqual([[ben.user.id, 'answer']]);
    expect(benInbox.batches).toEqual([]);
  });

  it('names a DM after its sender', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const dm = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/dms', {
      user_id: ben.user.id,
    });
    const benInbox = await openInbox(phoenix(ben), ben);
    await postMessage(ana, dm.body.chat.id, 'just us');
    await until(() => benInbox.live.length === 1, 5_000, 'new_notification');
    expect(benInbox.live[0]).toMatchObject({
      chat_id: dm.body.chat.id,
      chat_name: ana.user.name,
      content: 'just us',
    });
  });
});

describe('pending notifications', () => {
  it('are pushed on join as one batch and one event each, again on each connection until acknowledged', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const room = await roomWith(ana, [ben]);
    for (const text of ['one', 'two', 'three']) await postMessage(ana, room.id, text);

    const first = await comeOnline(ben, 'first');
    await until(() => first.pending.length === 3, 5_000, 'three pending_notification');
    await settle(first);
    expect(first.batches).toHaveLength(1);
    const batch = first.batches[0];
    expect(batch?.has_more).toBe(false);
    expect(batch?.notifications.map((n) => [n.chat_id, n.chat_name, n.seq, n.content])).toEqual([
      [room.id, room.name, 1, 'one'],
      [room.id, room.name, 2, 'two'],
      [room.id, room.name, 3, 'three'],
    ]);
    expect(first.pending).toEqual(batch?.notifications);
    for (const notification of first.pending) {
      expect(notification).toMatchObject({
        sender_id: ana.user.id,
        sender_name: ana.user.name,
        mentioned: false,
      });
      expect(typeof notification.id).toBe('number');
      expect(Number.isNaN(Date.parse(notification.timestamp))).toBe(false);
    }
    expect(first.live).toEqual([]);
    await first.leave();

    // Not acknowledged: a new connection gets the same ones again.
    const second = await comeOnline(ben, 'second');
    await until(() => second.pending.length === 3, 5_000, 'pending again');
    await settle(second);
    expect(second.batches).toEqual(first.batches);
    const ids = second.pending.map((n) => n.id);
    const acked = await push(second.channel, 'ack_notifications', { ids });
    expect(acked).toEqual({ status: 'ok', response: { acked: 3 } });
    await settle(second);
    expect(second.batches).toHaveLength(1);
    await second.leave();

    // Acknowledged: the next connection gets only what came since.
    await postMessage(ana, room.id, 'four');
    const third = await comeOnline(ben, 'third');
    await until(() => third.pending.length === 1, 5_000, 'the new pending notification');
    await settle(third);
    expect(third.batches.map((b) => b.notifications.map((n) => n.content))).toEqual([['four']]);
  });

  it('are cleared by reading the chat', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const room = await roomWith(ana, [ben]);
    for (const text of ['r1', 'r2', 'r3']) await postMessage(ana, room.id, text);

    // Ben reads up to seq 2 on a device that never joins notifications.
    const reader = phoenix(ben, 'reader');
    const chat = reader.channel(`chat:${room.id}`, {});
    expect((await join(chat)).status).toBe('ok');
    expect(await push(chat, 'read', { seq: 2 })).toEqual({
      status: 'ok',
      response: { read_seq: 2 },
    });
    reader.disconnect();

    const inbox = await comeOnline(ben, 'after-read');
    await until(() => inbox.pending.length === 1, 5_000, 'the unread pending notification');
    await settle(inbox);
    expect(inbox.batches.map((b) => b.notifications.map((n) => n.content))).toEqual([['r3']]);

    // Reading over HTTP clears the rest.
    const read = await api(relay, ben.token, 'POST', `/api/chats/${room.id}/read`, { seq: 3 });
    expect(read).toEqual({ status: 200, body: { read_seq: 3 } });
    await inbox.leave();
    await postMessage(ana, room.id, 'r4');
    const later = await comeOnline(ben, 'later');
    await until(() => later.pending.length === 1, 5_000, 'pending after the HTTP read');
    await settle(later);
    expect(later.batches.map((b) => b.notifications.map((n) => n.content))).toEqual([['r4']]);
  });
});

describe('pending notifications in batches', () => {
  it('sends pendingPerPush at a time with has_more, and the next batch after an ack', async () => {
    const paged = await startTestRelay({ limits: { ...LIMITS, pendingPerPush: 2 } });
    try {
      const ana = await newUser('Ana', paged);
      const ben = await newUser('Ben', paged);
      const main = { chatId: await findMainChat(paged, ana), watcher: ana };
      const room = await roomWith(ana, [ben], paged);
      for (const text of ['p1', 'p2', 'p3', 'p4', 'p5']) {
        await postMessage(ana, room.id, text, paged);
      }
      const inbox = await comeOnline(ben, 'paged', paged, main);
      const contents = (): (string[] | boolean)[][] =>
        inbox.batches.map((b) => [b.notifications.map((n) => n.content), b.has_more]);

      await until(() => inbox.pending.length === 2, 5_000, 'the first batch');
      await settle(inbox);
      expect(contents()).toEqual([[['p1', 'p2'], true]]);
      const ack = async (batch: number): Promise<void> => {
        const ids = inbox.batches[batch]?.notifications.map((n) => n.id) ?? [];
        expect(await push(inbox.channel, 'ack_notifications', { ids })).toEqual({
          status: 'ok',
          response: { acked: ids.length },
        });
      };
      await ack(0);
      await until(() => inbox.batches.length === 2, 5_000, 'the second batch');
      await ack(1);
      await until(() => inbox.batches.length === 3, 5_000, 'the last batch');
      await ack(2);
      await settle(inbox);
      expect(contents()).toEqual([
        [['p1', 'p2'], true],
        [['p3', 'p4'], true],
        [['p5'], false],
      ]);
      expect(inbox.pending.map((n) => n.content)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    } finally {
      for (const socket of sockets.splice(0)) socket.disconnect();
      for (const raw of raws.splice(0)) raw.close();
      await paged.close();
      removeDir(paged.dataDir);
    }
  });

  it('bounds a batch by bytes too (maxPageBytes, half for each of the two pushes), at least one per batch', async () => {
    // Each notification carries its message: 3,000 characters of CJK text, about 9 KB.
    const paged = await startTestRelay({ limits: { ...LIMITS, maxPageBytes: 40_000 } });
    try {
      const ana = await newUser('Ana', paged);
      const ben = await newUser('Ben', paged);
      const main = { chatId: await findMainChat(paged, ana), watcher: ana };
      const room = await roomWith(ana, [ben], paged);
      const long = (n: number): string => `${n} ${'長'.repeat(3_000)}`;
      for (let n = 1; n <= 6; n += 1) await postMessage(ana, room.id, long(n), paged);
      const inbox = await comeOnline(ben, 'bytes', paged, main);
      const received = (): string[] => inbox.pending.map((n) => n.content);
      for (let batch = 0; received().length < 6; batch += 1) {
        await until(() => inbox.batches.length > batch, 5_000, `batch ${batch + 1}`);
        const notifications = inbox.batches[batch]?.notifications ?? [];
        expect(notifications.length).toBeGreaterThan(0);
        expect(Buffer.byteLength(JSON.stringify(notifications))).toBeLessThanOrEqual(20_000);
        const ids = notifications.map((n) => n.id);
        expect((await push(inbox.channel, 'ack_notifications', { ids })).status).toBe('ok');
      }
      await settle(inbox);
      expect(inbox.batches.length).toBeGreaterThanOrEqual(3);
      expect(inbox.batches.at(-1)?.has_more).toBe(false);
      expect(received()).toEqual(Array.from({ length: 6 }, (_, i) => long(i + 1)));
    } finally {
      for (const socket of sockets.splice(0)) socket.disconnect();
      for (const raw of raws.splice(0)) raw.close();
      await paged.close();
      removeDir(paged.dataDir);
    }
  });
});

describe('@mentions', () => {
  it('set mentioned:true on live and pending notifications', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const room = await roomWith(ana, [ben]);
    const name = ben.user.name;

    // Offline: pending.
    await postMessage(ana, room.id, `hey @${name.toLowerCase()}, look`);
    await postMessage(ana, room.id, 'no mention here');
    await postMessage(ana, room.id, `@${name}x is someone else`);
    const inbox = await comeOnline(ben, 'mentions');
    await until(() => inbox.pending.length === 3, 5_000, 'pending notifications');
    expect(inbox.pending.map((n) => n.mentioned)).toEqual([true, false, false]);

    // Online: live.
    await postMessage(ana, room.id, `thanks @${name}!`);
    await postMessage(ana, room.id, 'bye');
    await until(() => inbox.live.length === 2, 5_000, 'new_notification');
    expect(inbox.live.map((n) => [n.content, n.mentioned])).toEqual([
      [`thanks @${name}!`, true],
      ['bye', false],
    ]);
  });

  it('in a room above pendingFanoutMaxMembers, offline members get pending ones only when mentioned', async () => {
    const big = await startTestRelay({ limits: { ...LIMITS, pendingFanoutMaxMembers: 3 } });
    try {
      const [ana, ben, cy, dan] = await Promise.all(
        ['Ana', 'Ben', 'Cy', 'Dan'].map((base) => newUser(base, big)),
      );
      if (ana === undefined || ben === undefined || cy === undefined || dan === undefined) {
        throw new Error('sign-in failed');
      }
      const main = { chatId: await findMainChat(big, dan), watcher: dan };
      const large = await roomWith(ana, [ben, cy, dan], big);
      const small = await roomWith(ana, [ben], big);

      await postMessage(ana, large.id, 'plain news', big);
      await postMessage(ana, large.id, `@${ben.user.name} please look`, big);
      await postMessage(ana, large.id, `@${cy.user.name} you too`, big);
      await postMessage(ana, small.id, 'small room news', big);

      const benInbox = await comeOnline(ben, 'ben', big, main);
      await until(() => benInbox.pending.length === 2, 5_000, 'ben pending');
      await settle(benInbox);
      expect(benInbox.batches).toHaveLength(1);
      expect(benInbox.pending.map((n) => [n.chat_id, n.content, n.mentioned])).toEqual([
        [large.id, `@${ben.user.name} please look`, true],
        [small.id, 'small room news', false],
      ]);
      const cyInbox = await comeOnline(cy, 'cy', big, main);
      await until(() => cyInbox.pending.length === 1, 5_000, 'cy pending');
      await settle(cyInbox);
      expect(cyInbox.pending.map((n) => n.content)).toEqual([`@${cy.user.name} you too`]);

      // Unread counts still count everything.
      const chats = await api<{ chats: ChatSummary[] }>(big, ben.token, 'GET', '/api/chats');
      expect(chats.body.chats.find((c) => c.id === large.id)?.unread_count).toBe(3);
    } finally {
      for (const socket of sockets.splice(0)) socket.disconnect();
      for (const raw of raws.splice(0)) raw.close();
      await big.close();
      removeDir(big.dataDir);
    }
  });
});

describe('chat_added and chat_removed', () => {
  it("tell every device of a user when they become a member of a chat or leave one, and nobody else's", async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const cy = await newUser('Cy');
    const watch = async (session: Session, device: string) => {
      const channel = phoenix(session, device).channel(`notifications:${session.user.id}`, {});
      const added = collect<{ chat_id: string }>(channel, 'chat_added');
      const removed = collect<{ chat_id: string }>(channel, 'chat_removed');
      expect((await join(channel)).status).toBe('ok');
      return { added, removed, ids: (list: { chat_id: string }[]) => list.map((e) => e.chat_id) };
    };
    const anaPhone = await watch(ana, 'ana-phone');
    const anaLaptop = await watch(ana, 'ana-laptop');
    const benPhone = await watch(ben, 'ben-phone');
    const cyPhone = await watch(cy, 'cy-phone');

    // Ana makes a room (on some device): all her devices hear of it.
    const room = await roomWith(ana, []);
    await until(() => anaPhone.added.length === 1 && anaLaptop.added.length === 1);
    expect(anaPhone.ids(anaPhone.added)).toEqual([room.id]);
    // She adds Ben; Ben opens a DM with Cy; Cy opens a public room of Ana's.
    expect(
      (
        await api(relay, ana.token, 'POST', `/api/chats/${room.id}/members`, {
          user_id: ben.user.id,
        })
      ).status,
    ).toBe(200);
    const dm = await api<{ chat: ChatInfo }>(relay, ben.token, 'POST', '/api/dms', {
      user_id: cy.user.id,
    });
    const open = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/chats', {
      name: `open-${userCount}`,
      visibility: 'public',
    });
    expect(
      (await api(relay, cy.token, 'POST', `/api/chats/${open.body.chat.id}/join`)).status,
    ).toBe(200);
    await until(() => benPhone.added.length === 2 && cyPhone.added.length === 1);
    expect(benPhone.ids(benPhone.added)).toEqual([room.id, dm.body.chat.id]);
    // Cy hears of the DM with its first message, not when Ben merely opened it.
    expect(cyPhone.ids(cyPhone.added)).toEqual([open.body.chat.id]);

    // Ben leaves the room: his devices hear of it; Ana, still in it, hears nothing of it.
    expect((await api(relay, ben.token, 'POST', `/api/chats/${room.id}/leave`)).status).toBe(200);
    await until(() => benPhone.removed.length === 1);
    expect(benPhone.ids(benPhone.removed)).toEqual([room.id]);
    await until(() => anaPhone.added.length === 2, 5_000, 'the open room');
    expect(anaPhone.ids(anaPhone.added)).toEqual([room.id, open.body.chat.id]);
    expect(anaPhone.removed).toEqual([]);
    expect(cyPhone.removed).toEqual([]);
  });
});

/** PATCH or DELETE of a message over HTTP (api() speaks GET and POST only). */
async function changeMessage(
  session: Session,
  method: 'PATCH' | 'DELETE',
  chatId: string,
  messageId: string,
  body?: { content: string; ref_id: string },
): Promise<number> {
  const res = await fetch(`${relay.url}/api/chats/${chatId}/messages/${messageId}`, {
    method,
    headers: {
      authorization: `Bearer ${session.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('edits and deletes', () => {
  it('never notify, live or pending; pending ones show the edited text, and go with a delete', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const cy = await newUser('Cy');
    const room = await roomWith(ana, [ben, cy]);
    // Cy is online with her inbox open (live notifications); Ben is offline (pending ones).
    const cyInbox = await openInbox(phoenix(cy, 'cy-phone'), cy);
    const kept = await postMessage(ana, room.id, `kept, @${ben.user.name}`);
    const gone = await postMessage(ana, room.id, 'gone soon');
    await until(() => cyInbox.live.length === 2, 5_000, 'two live notifications');

    expect(
      await changeMessage(ana, 'PATCH', room.id, kept.message_id ?? '', {
        content: `kept and edited, @${ben.user.name}`,
        ref_id: 'edit-1',
      }),
    ).toBe(200);
    expect(await changeMessage(ana, 'DELETE', room.id, gone.message_id ?? '')).toBe(200);
    // A message after them: its notification comes after anything the changes could have made.
    await postMessage(ana, room.id, 'after the changes');
    await until(() => cyInbox.live.length >= 3, 5_000, 'the third live notification');
    await settle(cyInbox);
    expect(cyInbox.live.map((n) => n.content)).toEqual([
      `kept, @${ben.user.name}`,
      'gone soon',
      'after the changes',
    ]);
    expect(cyInbox.pending).toEqual([]);

    const benInbox = await comeOnline(ben, 'ben-phone');
    await until(() => benInbox.pending.length === 2, 5_000, 'the pending notifications');
    await settle(benInbox);
    expect(benInbox.pending.map((n) => [n.message_id, n.content, n.mentioned])).toEqual([
      [kept.message_id, `kept and edited, @${ben.user.name}`, true],
      [expect.any(String), 'after the changes', false],
    ]);
    expect(benInbox.live).toEqual([]);
  });
});
