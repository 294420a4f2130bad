/**
 * chat:<id> end to end: real relays on port 0 with real SQLite files, the official `phoenix`
 * client for what apps do and RawClient where the exact frames matter.
 */
import type { Channel, Socket } from 'phoenix';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  STREAM_VERSION,
  type ChatJoinReply,
  type ChatSummary,
  type MessageSent,
  type WireMessage,
} from '../protocol/events.js';
import { capturingLogger } from '../testing/canary.js';
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

const JOIN_HISTORY = 10;
/** Generous send limits: these tests are about ordering and delivery, not rate limiting. */
const LIMITS = {
  joinHistory: JOIN_HISTORY,
  messagesPerSecond: 1_000,
  messageBurst: 1_000,
  sessionAttemptsPerMinute: 10_000,
};

let relay: TestRelay;
let userCount = 0;
const sockets: Socket[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  relay = await startTestRelay({ limits: LIMITS });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  for (const raw of raws.splice(0)) raw.close();
});
afterAll(async () => {
  await relay.close();
  removeDir(relay.dataDir);
});

function newUser(base: string, on: TestRelay = relay): Promise<Session> {
  userCount += 1;
  return signIn(on, `${base}${userCount}`);
}

function phoenix(session: Session, device = 'device-1', on: TestRelay = relay): Socket {
  const socket = connectPhoenix(on, session.token, device);
  sockets.push(socket);
  return socket;
}

async function raw(session: Session, device = 'raw-1', on: TestRelay = relay): Promise<RawClient> {
  const client = await RawClient.connect(on, session.token, device);
  raws.push(client);
  return client;
}

async function createRoom(
  owner: Session,
  visibility: 'public' | 'private' = 'public',
  on: TestRelay = relay,
): Promise<string> {
  const res = await api<{ chat: { id: string } }>(on, owner.token, 'POST', '/api/chats', {
    name: `room-${userCount}-${visibility}`,
    visibility,
  });
  expect(res.status).toBe(201);
  return res.body.chat.id;
}

async function addMember(owner: Session, chatId: string, member: Session): Promise<void> {
  const res = await api(relay, owner.token, 'POST', `/api/chats/${chatId}/members`, {
    user_id: member.user.id,
  });
  expect(res.status).toBe(200);
}

async function postMessage(
  sender: Session,
  chatId: string,
  content: string,
  mobileRefId: string,
  on: TestRelay = relay,
): Promise<MessageSent> {
  const res = await api<MessageSent>(on, sender.token, 'POST', `/api/chats/${chatId}/messages`, {
    content,
    mobile_ref_id: mobileRefId,
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function history(
  reader: Session,
  chatId: string,
  query = '',
  on: TestRelay = relay,
): Promise<{ messages: WireMessage[]; has_more: boolean }> {
  const res = await api<{ messages: WireMessage[]; has_more: boolean }>(
    on,
    reader.token,
    'GET',
    `/api/chats/${chatId}/messages${query}`,
  );
  expect(res.status).toBe(200);
  return res.body;
}

async function joinChat(
  socket: Socket,
  chatId: string,
  params: object = {},
): Promise<{ channel: Channel; reply: ChatJoinReply }> {
  const channel = socket.channel(`chat:${chatId}`, params);
  const joined = await join<ChatJoinReply>(channel);
  expect(joined.status).toBe('ok');
  return { channel, reply: joined.response };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

describe('joining a chat', () => {
  it('replies with {chat, messages, events, stream_version, last_seq, has_more, read_seq}', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await createRoom(ana);
    await postMessage(ana, chatId, 'first', 'shape-1');
    await postMessage(ana, chatId, 'second', 'shape-2');

    const { reply } = await joinChat(phoenix(ben), chatId);
    expect(Object.keys(reply).sort()).toEqual(
      ['chat', 'events', 'has_more', 'last_seq', 'messages', 'read_seq', 'stream_version'].sort(),
    );
    // A join without since_seq lists the newest messages in their current state, no events.
    expect(reply.events).toEqual([]);
    expect(reply.stream_version).toBe(STREAM_VERSION);
    expect(reply.chat).toMatchObject({
      id: chatId,
      kind: 'room',
      visibility: 'public',
      ephemeral_ttl_s: null,
      is_main: false,
      last_seq: 2,
    });
    expect(reply.last_seq).toBe(2);
    expect(reply.has_more).toBe(false);
    expect(reply.read_seq).toBe(0);
    expect(reply.messages.map((m) => [m.seq, m.content])).toEqual([
      [1, 'first'],
      [2, 'second'],
    ]);
    expect(reply.messages[0]).toMatchObject({
      chat_id: chatId,
      sender_id: ana.user.id,
      sender_name: ana.user.name,
      mobile_ref_id: 'shape-1',
    });
    expect(typeof reply.messages[0]?.message_id).toBe('string');
    expect(Number.isNaN(Date.parse(reply.messages[0]?.timestamp ?? ''))).toBe(false);
  });

  it('returns the newest joinHistory messages and has_more when older ones exist', async () => {
    const ana = await newUser('Ana');
    const chatId = await createRoom(ana);
    for (const i of range(1, JOIN_HISTORY + 3)) await postMessage(ana, chatId, `m${i}`, `h-${i}`);

    const { reply } = await joinChat(phoenix(ana), chatId);
    expect(reply.has_more).toBe(true);
    expect(reply.messages.map((m) => m.seq)).toEqual(range(4, JOIN_HISTORY + 3));
    expect(reply.last_seq).toBe(JOIN_HISTORY + 3);
  });

  it('with since_seq returns exactly the messages after it', async () => {
    const ana = await newUser('Ana');
    const chatId = await createRoom(ana);
    for (const i of range(1, 8)) await postMessage(ana, chatId, `m${i}`, `since-${i}`);

    const { reply } = await joinChat(phoenix(ana), chatId, { since_seq: 5 });
    expect(reply.messages.map((m) => m.seq)).toEqual([6, 7, 8]);
    expect(reply.messages.map((m) => m.content)).toEqual(['m6', 'm7', 'm8']);
    expect(reply.has_more).toBe(false);
    expect(reply.last_seq).toBe(8);

    const upToDate = await joinChat(phoenix(ana, 'device-2'), chatId, { since_seq: 8 });
    expect(upToDate.reply.messages).toEqual([]);
    expect(upToDate.reply.has_more).toBe(false);
  });

  it('with more than resumeMax missed sets has_more, and paging by after_seq gives the rest', async () => {
    const small = await startTestRelay({ limits: { ...LIMITS, resumeMax: 5 } });
    try {
      const ana = await newUser('Ana', small);
      const chatId = await createRoom(ana, 'public', small);
      for (const i of range(1, 17)) await postMessage(ana, chatId, `m${i}`, `page-${i}`, small);

      const { reply } = await joinChat(phoenix(ana, 'device-1', small), chatId, { since_seq: 2 });
      expect(reply.has_more).toBe(true);
      expect(reply.messages.map((m) => m.seq)).toEqual([3, 4, 5, 6, 7]);
      expect(reply.last_seq).toBe(17);

      const seen = reply.messages.map((m) => m.seq);
      let after = seen.at(-1) ?? 2;
      for (;;) {
        const page = await history(ana, chatId, `?after_seq=${after}&limit=4`, small);
        seen.push(...page.messages.map((m) => m.seq));
        after = page.messages.at(-1)?.seq ?? after;
        if (!page.has_more) break;
      }
      expect(seen).toEqual(range(3, 17));
    } finally {
      await small.close();
      removeDir(small.dataDir);
    }
  });
});

describe('sending', () => {
  it('answers ok and message_sent, and receive_message reaches every other connection', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const cy = await newUser('Cy');
    const chatId = await createRoom(ana);

    const anaPhone = await joinChat(phoenix(ana, 'ana-phone'), chatId);
    const anaLaptop = await joinChat(phoenix(ana, 'ana-laptop'), chatId);
    const benChat = await joinChat(phoenix(ben), chatId);
    const cyChat = await joinChat(phoenix(cy), chatId);
    const phoneReceived = collect<WireMessage>(anaPhone.channel, 'receive_message');
    const phoneSent = collect<MessageSent>(anaPhone.channel, 'message_sent');
    const laptopReceived = collect<WireMessage>(anaLaptop.channel, 'receive_message');
    const benReceived = collect<WireMessage>(benChat.channel, 'receive_message');
    const cyReceived = collect<WireMessage>(cyChat.channel, 'receive_message');

    const reply = await push<MessageSent>(anaPhone.channel, 'send_message', {
      content: 'hello all',
      mobile_ref_id: 'hello-1',
    });
    expect(reply.status).toBe('ok');
    expect(reply.response).toMatchObject({
      mobile_ref_id: 'hello-1',
      status: 'sent',
      chat_id: chatId,
      seq: 1,
    });
    await until(() => phoneSent.length === 1, 5_000, 'message_sent');
    const sent = phoneSent[0];
    expect(sent).toEqual(reply.response);
    expect(Object.keys(sent ?? {}).sort()).toEqual(
      ['chat_id', 'message_id', 'mobile_ref_id', 'seq', 'status', 'timestamp'].sort(),
    );
    expect(typeof sent?.message_id).toBe('string');
    expect(Number.isNaN(Date.parse(sent?.timestamp ?? ''))).toBe(false);

    await until(
      () => laptopReceived.length === 1 && benReceived.length === 1 && cyReceived.length === 1,
      5_000,
      'receive_message on the other connections',
    );
    for (const received of [laptopReceived, benReceived, cyReceived]) {
      expect(received[0]).toMatchObject({
        chat_id: chatId,
        message_id: sent?.message_id,
        seq: 1,
        content: 'hello all',
        sender_id: ana.user.id,
        timestamp: sent?.timestamp,
      });
    }

    // Ben answers; once the phone has his message it would also have had its own.
    await push(benChat.channel, 'send_message', { content: 'hi', mobile_ref_id: 'hi-1' });
    await until(() => phoneReceived.length === 1, 5_000, 'ben message on ana phone');
    expect(phoneReceived.map((m) => [m.seq, m.content])).toEqual([[2, 'hi']]);
  });

  it('numbers messages with seq increasing by exactly 1', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await createRoom(ana);
    const anaChat = await joinChat(phoenix(ana), chatId);
    const benChat = await joinChat(phoenix(ben), chatId);
    const seqs: number[] = [];
    for (const i of range(1, 6)) {
      const channel = i % 2 === 0 ? benChat.channel : anaChat.channel;
      const reply = await push<MessageSent>(channel, 'send_message', {
        content: `n${i}`,
        mobile_ref_id: `seq-${i}`,
      });
      expect(reply.status).toBe('ok');
      seqs.push(reply.response.seq ?? -1);
    }
    expect(seqs).toEqual(range(1, 6));
    expect((await history(ana, chatId)).messages.map((m) => m.seq)).toEqual(range(1, 6));
  });

  it('answers a repeated mobile_ref_id with the original message, storing and broadcasting nothing', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await createRoom(ana);
    const anaChat = await joinChat(phoenix(ana), chatId);
    const benChat = await joinChat(phoenix(ben), chatId);
    const anaSent = collect<MessageSent>(anaChat.channel, 'message_sent');
    const benReceived = collect<WireMessage>(benChat.channel, 'receive_message');

    const first = await push<MessageSent>(anaChat.channel, 'send_message', {
      content: 'original',
      mobile_ref_id: 'dup-1',
    });
    const again = await push<MessageSent>(anaChat.channel, 'send_message', {
      content: 'changed on retry',
      mobile_ref_id: 'dup-1',
    });
    expect(first.status).toBe('ok');
    expect(first.response.duplicate).toBeUndefined();
    expect(again.status).toBe('ok');
    expect(again.response).toMatchObject({
      mobile_ref_id: 'dup-1',
      status: 'sent',
      chat_id: chatId,
      message_id: first.response.message_id,
      seq: first.response.seq,
      timestamp: first.response.timestamp,
      duplicate: true,
    });
    await until(() => anaSent.length === 2, 5_000, 'both message_sent');
    expect(anaSent[1]).toEqual(again.response);

    // The same retry over HTTP is a duplicate too.
    const overHttp = await api<MessageSent>(
      relay,
      ana.token,
      'POST',
      `/api/chats/${chatId}/messages`,
      { content: 'third try', mobile_ref_id: 'dup-1' },
    );
    expect(overHttp.status).toBe(200);
    expect(overHttp.body).toMatchObject({
      message_id: first.response.message_id,
      seq: first.response.seq,
      duplicate: true,
    });

    await push(anaChat.channel, 'send_message', { content: 'after', mobile_ref_id: 'dup-2' });
    await until(() => benReceived.length === 2, 5_000, 'the message after the duplicates');
    expect(benReceived.map((m) => [m.seq, m.content])).toEqual([
      [1, 'original'],
      [2, 'after'],
    ]);
    const stored = await history(ana, chatId);
    expect(stored.messages.map((m) => [m.seq, m.content, m.mobile_ref_id])).toEqual([
      [1, 'original', 'dup-1'],
      [2, 'after', 'dup-2'],
    ]);
  });

  it('with many concurrent senders, every receiver sees every message exactly once, in seq order', async () => {
    const observer = await newUser('Obs');
    const chatId = await createRoom(observer);
    const senders = await Promise.all(range(1, 4).map(() => newUser('Sender')));
    const perSender = 15;

    const observerChat = await joinChat(phoenix(observer), chatId);
    const joined = await Promise.all(
      senders.map(async (session) => ({ session, ...(await joinChat(phoenix(session), chatId)) })),
    );
    const receivers = [
      { name: 'observer', channel: observerChat.channel, own: [] as number[] },
      ...joined.map(({ session, channel }) => ({
        name: session.user.name,
        channel,
        own: [] as number[],
      })),
    ].map((receiver) => ({
      ...receiver,
      received: collect<WireMessage>(receiver.channel, 'receive_message'),
    }));

    await Promise.all(
      receivers.slice(1).map(async (receiver) => {
        const replies = await Promise.all(
          range(1, perSender).map((i) =>
            push<MessageSent>(receiver.channel, 'send_message', {
              content: `${receiver.name} #${i}`,
              mobile_ref_id: `${receiver.name}-${i}`,
            }),
          ),
        );
        for (const reply of replies) {
          expect(reply.status).toBe('ok');
          receiver.own.push(reply.response.seq ?? -1);
        }
      }),
    );
    const total = senders.length * perSender;
    // A last message from the observer: behind it, nothing else can still be on its way.
    const barrier = await push<MessageSent>(observerChat.channel, 'send_message', {
      content: 'barrier',
      mobile_ref_id: 'barrier',
    });
    expect(barrier.response.seq).toBe(total + 1);
    await until(
      () => receivers.slice(1).every((r) => r.received.at(-1)?.content === 'barrier'),
      5_000,
      'the barrier on every sender',
    );
    await until(
      () => receivers[0]?.received.length === total,
      5_000,
      'every message on the observer',
    );

    for (const receiver of receivers) {
      const seqs = receiver.received.map((m) => m.seq);
      const expected = range(1, receiver.name === 'observer' ? total : total + 1).filter(
        (seq) => !receiver.own.includes(seq),
      );
      expect(seqs, receiver.name).toEqual(expected);
    }
    // Each sender's own messages were stored in the order it sent them.
    for (const receiver of receivers.slice(1)) {
      expect([...receiver.own].sort((a, b) => a - b)).toEqual(receiver.own);
    }
  });
});

describe('a full write queue', () => {
  it('refuses sends with overloaded and logs one line, then counts, then one line when sends are queued again', async () => {
    const { logger, lines } = capturingLogger();
    const small = await startTestRelay({ logger, limits: { ...LIMITS, maxWriteQueue: 1 } });
    try {
      const ana = await signIn(small, 'Ana');
      const chats = await api<{ chats: ChatSummary[] }>(small, ana.token, 'GET', '/api/chats');
      const mainId = chats.body.chats.find((chat) => chat.is_main)?.id ?? '';
      const client = await raw(ana, 'burst', small);
      const joined = await client.join(`chat:${mainId}`);
      // One burst: the queue holds one message, so most of the burst is refused.
      const refs = Array.from({ length: 200 }, (_, n) =>
        client.send(joined.joinRef, `chat:${mainId}`, 'send_message', {
          content: `burst ${n}`,
          mobile_ref_id: `burst-${n}`,
        }),
      );
      const replies = await Promise.all(refs.map((ref) => client.reply(ref, 15_000)));
      const overloaded = replies.filter(
        (reply) => reply.status === 'error' && reply.response.reason === 'overloaded',
      ).length;
      expect(overloaded).toBeGreaterThan(10);

      // The queue drains: the next send goes through and the log says so, once.
      const after = await client.call(joined.joinRef, `chat:${mainId}`, 'send_message', {
        content: 'after the burst',
        mobile_ref_id: 'after-burst',
      });
      expect(after.status).toBe('ok');
      await until(
        () => lines.some((line) => line.msg === 'sends queued again'),
        5_000,
        'the recovery line',
      );
      const refusedLines = lines.filter((line) => line.msg === 'send refused: overloaded');
      const recovered = lines.filter((line) => line.msg === 'sends queued again');
      // The queue filled and drained again and again during the burst: still one line at once,
      // and at most one of each per 10 s, never one per refused send.
      expect(refusedLines[0]).toMatchObject({ level: 40, sends: 1 });
      expect(refusedLines.length).toBeLessThanOrEqual(2);
      expect(recovered.length).toBeGreaterThanOrEqual(1);
      expect(recovered.length).toBeLessThanOrEqual(2);
      // No refusal is counted twice.
      const counted = [...refusedLines, ...recovered].reduce(
        (sum, line) => sum + Number(line.sends),
        0,
      );
      expect(counted).toBeLessThanOrEqual(overloaded);
      expect(lines.filter((line) => line.msg === 'send failed')).toEqual([]);
    } finally {
      await small.close();
      removeDir(small.dataDir);
    }
  });
});

describe('a join racing with sends', () => {
  /** Reply messages plus live receive_message after the reply, from raw frames. */
  function coverage(client: RawClient, joinRef: string, topic: string): number[] {
    const replyAt = client.frames.findIndex((f) => f[0] === joinRef && f[3] === 'phx_reply');
    expect(replyAt).toBeGreaterThanOrEqual(0);
    const before = client.frames
      .slice(0, replyAt)
      .filter((f) => f[2] === topic && f[3] === 'receive_message');
    expect(before, 'receive_message before the join reply').toEqual([]);
    const reply = (client.frames[replyAt]?.[4] as { response: ChatJoinReply }).response;
    const live = client.frames
      .slice(replyAt + 1)
      .filter((f) => f[2] === topic && f[3] === 'receive_message')
      .map((f) => (f[4] as WireMessage).seq);
    return [...reply.messages.map((m) => m.seq), ...live];
  }

  it('loses and duplicates nothing: reply messages and live messages cover every seq once', async () => {
    const ana = await newUser('Ana');
    const chatId = await createRoom(ana);
    const topic = `chat:${chatId}`;
    const senders = await Promise.all(
      ['sender-1', 'sender-2'].map(async (device) => ({
        device,
        ...(await joinChat(phoenix(ana, device), chatId)),
      })),
    );
    const perSender = 60;
    const total = senders.length * perSender;

    // Joiners come in while the sends commit one by one: plain joins (the newest joinHistory,
    // with has_more once older ones exist) and resumes from the last seq acknowledged so far.
    const joiners: Promise<{ client: RawClient; joinRef: string; since: number | null }>[] = [];
    let lastAcked = 0;
    async function startJoiner(index: number): Promise<{
      client: RawClient;
      joinRef: string;
      since: number | null;
    }> {
      const client = await raw(ana, `joiner-${index}`);
      const since = index % 2 === 0 ? Math.max(0, lastAcked - 2) : null;
      const joined = await client.join(topic, since === null ? {} : { since_seq: since });
      expect(joined.status).toBe('ok');
      return { client, joinRef: joined.joinRef, since };
    }
    await Promise.all(
      senders.map(async ({ device, channel }, senderIndex) => {
        for (const i of range(1, perSender)) {
          const reply = await push<MessageSent>(channel, 'send_message', {
            content: `${device} ${i}`,
            mobile_ref_id: `${device}-${i}`,
          });
          expect(reply.status).toBe('ok');
          lastAcked = Math.max(lastAcked, reply.response.seq ?? 0);
          if (senderIndex === 0 && i % 6 === 0) joiners.push(startJoiner(i / 6));
        }
      }),
    );
    const joined = await Promise.all(joiners);
    expect(joined).toHaveLength(perSender / 6);

    let joinedMidway = 0;
    for (const { client, joinRef, since } of joined) {
      await until(
        () => coverage(client, joinRef, topic).includes(total),
        5_000,
        `seq ${total} on the joiner since ${String(since)}`,
      );
      const seqs = coverage(client, joinRef, topic);
      const first = since === null ? (seqs[0] ?? 0) : since + 1;
      expect(seqs, `joiner since ${String(since)}`).toEqual(range(first, total));
      if (client.events('receive_message').length > 0) joinedMidway += 1;
    }
    // The race was real: some joins were answered while sends were still committing.
    expect(joinedMidway).toBeGreaterThan(0);
  });
});

describe('rejoining and leaving', () => {
  it('rejoining the same topic on the same socket replaces the first subscription', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await createRoom(ana);
    const topic = `chat:${chatId}`;
    const client = await raw(ben);
    const first = await client.join(topic);
    expect(first.status).toBe('ok');
    const second = await client.join(topic);
    expect(second.status).toBe('ok');
    expect(second.joinRef).not.toBe(first.joinRef);
    const closed = await client.waitFor((f) => f[3] === 'phx_close' && f[2] === topic);
    expect(closed[0]).toBe(first.joinRef);

    await postMessage(ana, chatId, 'once', 'rejoin-1');
    await postMessage(ana, chatId, 'twice?', 'rejoin-2');
    await client.waitFor((f) => f[3] === 'receive_message' && (f[4] as WireMessage).seq === 2);

    // The old join_ref is gone; the new one works.
    const stale = await client.call(first.joinRef, topic, 'typing', { typing: true });
    expect(stale).toMatchObject({ status: 'error', response: { reason: 'unmatched topic' } });
    const fresh = await client.call(second.joinRef, topic, 'send_message', {
      content: 'from the new join',
      mobile_ref_id: 'rejoin-3',
    });
    expect(fresh).toMatchObject({ status: 'ok', response: { seq: 3 } });
    // Behind that reply, a second copy of any broadcast would already have arrived.
    expect(client.events<WireMessage>('receive_message').map((m) => m.seq)).toEqual([1, 2]);
  });

  it('leaving over HTTP closes the open subscription and ends delivery; a private chat refuses the rejoin', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const secret = await createRoom(ana, 'private');
    const other = await createRoom(ana, 'private');
    await addMember(ana, secret, ben);
    await addMember(ana, other, ben);

    const benSocket = phoenix(ben);
    const benSecret = await joinChat(benSocket, secret);
    const benOther = await joinChat(benSocket, other);
    const secretReceived = collect<WireMessage>(benSecret.channel, 'receive_message');
    const otherReceived = collect<WireMessage>(benOther.channel, 'receive_message');
    let closedBy: unknown = null;
    benSecret.channel.onClose((payload: unknown) => {
      closedBy = payload;
    });

    await postMessage(ana, secret, 'before leaving', 'leave-1');
    await until(() => secretReceived.length === 1, 5_000, 'message before leaving');

    const left = await api(relay, ben.token, 'POST', `/api/chats/${secret}/leave`);
    expect(left).toEqual({ status: 200, body: { ok: true } });
    await until(() => closedBy !== null, 5_000, 'phx_close');
    expect(benSecret.channel.state).toBe('closed');

    await postMessage(ana, secret, 'after leaving', 'leave-2');
    await postMessage(ana, other, 'still here', 'other-1');
    await until(() => otherReceived.length === 1, 5_000, 'message in the other chat');
    expect(secretReceived.map((m) => m.content)).toEqual(['before leaving']);

    const retry = benSocket.channel(`chat:${secret}`, {});
    const rejoin = await join(retry);
    retry.leave();
    expect(rejoin).toMatchObject({ status: 'error', response: { reason: 'not_member' } });
    const read = await api(relay, ben.token, 'GET', `/api/chats/${secret}/messages`);
    expect(read.status).toBe(403);
  });

  it('a socket join held between its membership check and its subscribe while the user leaves over HTTP ends with no live subscription', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const secret = await createRoom(ana, 'private');
    await addMember(ana, secret, ben);
    const benRaw = await raw(ben, 'racing-join');

    // Hold the join's membership check (the real store answers it; its answer is released
    // late): the leave runs meanwhile, start to finish, subscription closing included.
    const store = relay.store;
    const getChatAccess = store.getChatAccess.bind(store);
    let reached: () => void = () => undefined;
    const checked = new Promise<void>((resolve) => (reached = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = false;
    store.getChatAccess = async (chatId, userId) => {
      const answer = await getChatAccess(chatId, userId);
      if (held || chatId !== secret || userId !== ben.user.id) return answer;
      held = true;
      reached();
      await released;
      return answer;
    };
    try {
      const joinRef = benRaw.nextRef();
      benRaw.sendRaw(JSON.stringify([joinRef, joinRef, `chat:${secret}`, 'phx_join', {}]));
      await checked;
      const left = await api(relay, ben.token, 'POST', `/api/chats/${secret}/leave`);
      expect(left).toEqual({ status: 200, body: { ok: true } });
      release();
      const reply = await benRaw.reply(joinRef);
      expect(reply).toMatchObject({ status: 'error', response: { reason: 'not_member' } });
    } finally {
      store.getChatAccess = getChatAccess;
      release();
    }

    await postMessage(ana, secret, 'after the leave', 'race-after-leave');
    // A later frame on the same socket is answered after any broadcast to it was written.
    expect((await benRaw.call(null, 'phoenix', 'heartbeat', {})).status).toBe('ok');
    expect(benRaw.events('receive_message')).toEqual([]);
  });
});

describe('read markers', () => {
  it('a read push moves the marker and GET /api/chats counts the unread', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const chatId = await createRoom(ana);
    const benChat = await joinChat(phoenix(ben), chatId);
    for (const i of range(1, 4)) await postMessage(ana, chatId, `u${i}`, `unread-${i}`);

    async function unread(): Promise<Pick<ChatSummary, 'unread_count' | 'read_seq'> | undefined> {
      const res = await api<{ chats: ChatSummary[] }>(relay, ben.token, 'GET', '/api/chats');
      expect(res.status).toBe(200);
      const chat = res.body.chats.find((c) => c.id === chatId);
      return chat && { unread_count: chat.unread_count, read_seq: chat.read_seq };
    }

    expect(await unread()).toEqual({ unread_count: 4, read_seq: 0 });
    const read = await push(benChat.channel, 'read', { seq: 3 });
    expect(read).toEqual({ status: 'ok', response: { read_seq: 3 } });
    expect(await unread()).toEqual({ unread_count: 1, read_seq: 3 });

    // Never backwards, never past the last message.
    expect(await push(benChat.channel, 'read', { seq: 1 })).toMatchObject({
      response: { read_seq: 3 },
    });
    expect(await push(benChat.channel, 'read', { seq: 99 })).toMatchObject({
      response: { read_seq: 4 },
    });
    expect(await unread()).toEqual({ unread_count: 0, read_seq: 4 });

    // Own messages are never unread, and a new join reports the marker.
    const benSent = await push<MessageSent>(benChat.channel, 'send_message', {
      content: 'mine',
      mobile_ref_id: 'mine-1',
    });
    expect(benSent.response.seq).toBe(5);
    expect(await unread()).toEqual({ unread_count: 0, read_seq: 5 });
    await postMessage(ana, chatId, 'new', 'unread-6');
    expect(await unread()).toEqual({ unread_count: 1, read_seq: 5 });
    const again = await joinChat(phoenix(ben, 'device-2'), chatId);
    expect(again.reply.read_seq).toBe(5);

    const bad = await push(benChat.channel, 'read', { seq: 'last' });
    expect(bad).toMatchObject({ status: 'error', response: { reason: 'invalid_payload' } });
  });
});
