/**
 * Protocol abuse against a real relay: malformed frames, refused events, floods, slow readers,
 * silent clients and random mutations of valid frames. In every case the bad client gets a
 * documented answer (an error reply or a close code), nothing is stored, and a "canary" (two
 * other users chatting with the official `phoenix` client) keeps receiving everything.
 */
import type { Socket as NetSocket } from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../protocol/errors.js';
import {
  sendMessagePayload,
  type ChatSummary,
  type MessageSent,
  type WireMessage,
} from '../protocol/events.js';
import { Canary, capturingLogger, errorsIn, type LogLine } from '../testing/canary.js';
import {
  RawClient,
  api,
  createRoom,
  mainChatId,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type Session,
  type TestRelay,
} from '../testing/relay-harness.js';

type Reply = { status: string; response: Record<string, unknown> };

/** For afterAll: the canary lost nothing; the relay is closed and its data removed. */
async function stopWithCanary(relay: TestRelay, canary: Canary): Promise<void> {
  await canary.verify();
  canary.stop();
  await relay.close();
  removeDir(relay.dataDir);
}

/**
 * Everything the given users can see over HTTP: users, public rooms, their chats with
 * last_seq / read_seq / unread_count, every chat's members and full history.
 */
async function snapshot(relay: TestRelay, sessions: Session[]): Promise<unknown> {
  const [first] = sessions;
  if (first === undefined) throw new Error('snapshot needs a session');
  const users = await api(relay, first.token, 'GET', '/api/users');
  const publicChats = await api(relay, first.token, 'GET', '/api/chats?scope=public');
  const perUser: unknown[] = [];
  for (const session of sessions) {
    const chats = await api<{ chats: ChatSummary[] }>(relay, session.token, 'GET', '/api/chats');
    const details: unknown[] = [];
    for (const chat of chats.body.chats) {
      details.push(
        (await api(relay, session.token, 'GET', `/api/chats/${chat.id}`)).body,
        (await api(relay, session.token, 'GET', `/api/chats/${chat.id}/messages?limit=500`)).body,
      );
    }
    perUser.push({ user: session.user.id, chats: chats.body, details });
  }
  return { users: users.body, publicChats: publicChats.body, perUser };
}

/** Waits until the relay has handled every earlier frame of this client (replies are in order). */
async function barrier(client: RawClient): Promise<void> {
  const reply = await client.call(null, 'phoenix', 'heartbeat', {});
  expect(reply.status).toBe('ok');
}

function replyFrames(client: RawClient): { ref: unknown; status: string; reason: unknown }[] {
  return client.frames
    .filter((frame) => frame[3] === 'phx_reply')
    .map((frame) => {
      const payload = frame[4] as Reply;
      return { ref: frame[1], status: payload.status, reason: payload.response.reason };
    });
}

/** An upgrade the relay refuses: its HTTP status and JSON body. */
function refusedUpgrade(
  relay: { socketUrl: string },
  token: string,
): Promise<{ status: number; body: unknown }> {
  const query = new URLSearchParams({ token, vsn: '2.0.0', device_unique_id: 'extra' });
  const ws = new WebSocket(`${relay.socketUrl}/websocket?${query.toString()}`);
  return new Promise((resolve, reject) => {
    ws.on('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
  });
}

describe('malformed frames and refused events', () => {
  const MAX_PAYLOAD = 2_048;
  const MAX_CHARS = 100;
  let relay: TestRelay;
  let logs: LogLine[];
  let canary: Canary;
  let mallory: Session;
  let victim: Session;
  let mainId: string;
  let victimRoomId: string;
  let publicRoomId: string;

  beforeAll(async () => {
    const captured = capturingLogger();
    logs = captured.lines;
    relay = await startTestRelay({
      logger: captured.logger,
      limits: {
        maxPayloadBytes: MAX_PAYLOAD,
        maxMessageChars: MAX_CHARS,
        strikesPerMinute: 1_000,
        // The canary sends after every case; its own rate limit is not under test here.
        messageBurst: 1_000,
      },
    });
    mallory = await signIn(relay, 'Mallory');
    victim = await signIn(relay, 'Victim');
    mainId = await mainChatId(relay, mallory.token);
    victimRoomId = await createRoom(relay, victim.token, 'victim-private', 'private');
    publicRoomId = await createRoom(relay, victim.token, 'victim-public', 'public');
    // History to protect: one message in each chat.
    for (const chatId of [mainId, victimRoomId, publicRoomId]) {
      await api(relay, victim.token, 'POST', `/api/chats/${chatId}/messages`, {
        content: 'keep me',
        mobile_ref_id: `keep-${chatId}`,
      });
    }
    canary = await Canary.start(relay);
  });
  afterAll(() => stopWithCanary(relay, canary));

  const observed = (): Promise<unknown> => snapshot(relay, [mallory, victim]);

  /** Nothing changed, the relay logged no error, and the canary still chats. */
  async function expectHarmless(before: unknown): Promise<void> {
    expect(await observed()).toEqual(before);
    expect(errorsIn(logs)).toEqual([]);
    await canary.check();
  }

  const malformed: [string, string][] = [
    ['not JSON', 'hello'],
    ['truncated JSON', '[null,"1","phoenix","heartbeat",{}'],
    ['an object', '{"topic":"phoenix","event":"heartbeat"}'],
    ['a string', '"phoenix"'],
    ['a number', '42'],
    ['null', 'null'],
    ['an empty array', '[]'],
    ['four elements', '[null,"1","phoenix","heartbeat"]'],
    ['six elements', '[null,"1","phoenix","heartbeat",{},{}]'],
    ['a numeric join_ref', '[1,"1","phoenix","heartbeat",{}]'],
    ['a numeric ref', '[null,1,"phoenix","heartbeat",{}]'],
    ['an object ref', '[null,{},"phoenix","heartbeat",{}]'],
    ['a 33-character ref', `[null,"${'r'.repeat(33)}","phoenix","heartbeat",{}]`],
    ['a numeric topic', '[null,"1",7,"heartbeat",{}]'],
    ['a null topic', '[null,"1",null,"heartbeat",{}]'],
    ['an empty topic', '[null,"1","","heartbeat",{}]'],
    ['a 161-character topic', `[null,"1","chat:${'a'.repeat(156)}","phx_join",{}]`],
    ['a null event', '[null,"1","phoenix",null,{}]'],
    ['an array event', '[null,"1","phoenix",["heartbeat"],{}]'],
    ['an empty event', '[null,"1","phoenix","",{}]'],
    ['a 65-character event', `[null,"1","phoenix","${'e'.repeat(65)}",{}]`],
    ['an array payload', '[null,"1","phoenix","heartbeat",[]]'],
    ['a string payload', '[null,"1","phoenix","heartbeat","{}"]'],
    ['a null payload', '[null,"1","phoenix","heartbeat",null]'],
    ['a numeric payload', '[null,"1","phoenix","heartbeat",1e999]'],
  ];

  it.each(malformed)('closes with 1007 on %s', async (_label, text) => {
    const before = await observed();
    const client = await RawClient.connect(relay, mallory.token);
    client.sendRaw(text);
    expect(await client.closed()).toBe(1007);
    expect(client.closeReason).toBe('malformed_frame');
    expect(client.frames).toEqual([]);
    await expectHarmless(before);
  });

  it('closes with 1007 on a text frame that is not UTF-8, even after a valid join', async () => {
    const before = await observed();
    const client = await RawClient.connect(relay, mallory.token);
    const joined = await client.join(`chat:${mainId}`);
    expect(joined.status).toBe('ok');
    client.socket.send(Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]), { binary: false });
    expect(await client.closed()).toBe(1007);
    await expectHarmless(before);
  });

  it('closes with 1003 on a binary frame, even one holding a valid send', async () => {
    const before = await observed();
    const client = await RawClient.connect(relay, mallory.token);
    const { joinRef } = await client.join(`chat:${mainId}`);
    const frame = JSON.stringify([
      joinRef,
      '9',
      `chat:${mainId}`,
      'send_message',
      { content: 'binary send', mobile_ref_id: 'bin-1' },
    ]);
    client.sendRaw(Buffer.from(frame), true);
    expect(await client.closed()).toBe(1003);
    expect(client.events('message_sent')).toEqual([]);
    await expectHarmless(before);
  });

  it('accepts a frame of exactly maxPayloadBytes and closes with 1009 on a larger one', async () => {
    const before = await observed();
    const client = await RawClient.connect(relay, mallory.token);
    const heartbeat = (pad: number): string =>
      JSON.stringify([null, 'hb', 'phoenix', 'heartbeat', { pad: 'p'.repeat(pad) }]);
    const overhead = heartbeat(0).length;
    client.sendRaw(heartbeat(MAX_PAYLOAD - overhead));
    expect((await client.reply('hb')).status).toBe('ok');

    const { joinRef } = await client.join(`chat:${mainId}`);
    const send = JSON.stringify([
      joinRef,
      'big',
      `chat:${mainId}`,
      'send_message',
      { content: 'x'.repeat(MAX_PAYLOAD), mobile_ref_id: 'big-1' },
    ]);
    client.sendRaw(send);
    expect(await client.closed()).toBe(1009);
    expect(client.events('message_sent')).toEqual([]);
    await expectHarmless(before);
  });

  it('answers unknown topics with unknown_topic and keeps the socket', async () => {
    const before = await observed();
    const client = await RawClient.connect(relay, mallory.token);
    const topics = [
      'room:lobby',
      'chat:',
      'chat:bad id',
      'chat:a.b',
      `chat:${'a'.repeat(65)}`,
      'notifications',
      'notifications:',
      'phoenix:x',
      'Phoenix',
      'CHAT:abc',
      ':abc',
    ];
    for (const topic of topics) {
      for (const event of ['phx_join', 'send_message']) {
        const reply = await client.call('1', topic, event, {
          content: 'hello',
          mobile_ref_id: 'topic-1',
        });
        expect(reply, `${event} on ${topic}`).toMatchObject({
          status: 'error',
          response: { reason: 'unknown_topic' },
        });
      }
    }
    await barrier(client);
    expect(client.closeCode).toBeNull();
    expect(client.events('message_sent')).toEqual([]);
    client.close();
    await expectHarmless(before);
  });

  it('answers unknown events with unknown_event on every kind of topic', async () => {
    const before = await observed();
    const client = await RawClient.connect(relay, mallory.token);
    const chat = await client.join(`chat:${mainId}`);
    const inbox = await client.join(`notifications:${mallory.user.id}`);
    expect([chat.status, inbox.status]).toEqual(['ok', 'ok']);
    const cases: [string | null, string, string][] = [
      [chat.joinRef, `chat:${mainId}`, 'pin_message'],
      [chat.joinRef, `chat:${mainId}`, 'ack_notifications'],
      [chat.joinRef, `chat:${mainId}`, 'SEND_MESSAGE'],
      [chat.joinRef, `chat:${mainId}`, 'receive_message'],
      [inbox.joinRef, `notifications:${mallory.user.id}`, 'send_message'],
      [inbox.joinRef, `notifications:${mallory.user.id}`, 'read'],
      [null, 'phoenix', 'phx_join'],
      [null, 'phoenix', 'send_message'],
    ];
    for (const [joinRef, topic, event] of cases) {
      const reply = await client.call(joinRef, topic, event, {
        content: 'hello',
        mobile_ref_id: 'event-1',
        seq: 99,
      });
      expect(reply, `${event} on ${topic}`).toMatchObject({
        status: 'error',
        response: { reason: 'unknown_event' },
      });
    }
    await barrier(client);
    expect(client.events('message_sent')).toEqual([]);
    client.close();
    await expectHarmless(before);
  });

  it("answers pushes to topics not joined with 'unmatched topic'", async () => {
    const before = await observed();
    const client = await RawClient.connect(relay, mallory.token);
    const topic = `chat:${mainId}`;
    const send = { content: 'not joined', mobile_ref_id: 'unjoined-1' };
    const expectUnmatched = async (joinRef: string | null, event: string, payload: object) => {
      const reply = await client.call(joinRef, topic, event, payload);
      expect(reply, `${event} with join_ref ${String(joinRef)}`).toMatchObject({
        status: 'error',
        response: { reason: 'unmatched topic' },
      });
    };
    // Never joined.
    for (const joinRef of [null, '1', '77']) {
      await expectUnmatched(joinRef, 'send_message', send);
      await expectUnmatched(joinRef, 'typing', { typing: true });
      await expectUnmatched(joinRef, 'read', { seq: 1 });
      await expectUnmatched(joinRef, 'phx_leave', {});
    }
    await expectUnmatched(null, 'ack_notifications', { ids: [1] });
    // Joined, but the frame names another join_ref.
    const joined = await client.join(topic);
    expect(joined.status).toBe('ok');
    await expectUnmatched(`${joined.joinRef}0`, 'send_message', send);
    // Joined, then left.
    expect((await client.call(joined.joinRef, topic, 'phx_leave', {})).status).toBe('ok');
    await expectUnmatched(joined.joinRef, 'send_message', send);
    await expectUnmatched(null, 'send_message', send);
    await barrier(client);
    expect(client.events('message_sent')).toEqual([]);
    client.close();
    await expectHarmless(before);
  });

  it('refuses joins it must refuse without making anyone a member', async () => {
    const before = await observed();
    const client = await RawClient.connect(relay, mallory.token);
    const cases: [string | null, string, object, string][] = [
      ['1', `chat:${victimRoomId}`, {}, 'not_member'],
      ['2', 'chat:no-such-chat', {}, 'not_found'],
      ['3', `notifications:${victim.user.id}`, {}, 'unauthorized'],
      ['4', `notification:${victim.user.id}`, {}, 'unauthorized'],
      [null, `chat:${publicRoomId}`, {}, 'invalid_payload'],
      ['5', `chat:${publicRoomId}`, { since_seq: -1 }, 'invalid_payload'],
      ['6', `chat:${publicRoomId}`, { since_seq: '0' }, 'invalid_payload'],
      ['7', `chat:${publicRoomId}`, { since_seq: 1.5 }, 'invalid_payload'],
      ['8', `chat:${publicRoomId}`, { since_seq: 2 ** 60 }, 'invalid_payload'],
    ];
    for (const [joinRef, topic, payload, reason] of cases) {
      const reply = await client.call(joinRef, topic, 'phx_join', payload);
      expect(reply, `join ${topic} ${JSON.stringify(payload)}`).toMatchObject({
        status: 'error',
        response: { reason },
      });
    }
    // The refused joins left no subscription behind: pushes there are unmatched.
    const after = await client.call('1', `chat:${victimRoomId}`, 'send_message', {
      content: 'sneaky',
      mobile_ref_id: 'sneak-1',
    });
    expect(after.response.reason).toBe('unmatched topic');
    client.close();
    await expectHarmless(before);
  });

  describe('inside a joined chat', () => {
    let client: RawClient;
    let joinRef: string;
    const topic = (): string => `chat:${mainId}`;

    beforeAll(async () => {
      client = await RawClient.connect(relay, mallory.token);
      const joined = await client.join(topic());
      expect(joined.status).toBe('ok');
      joinRef = joined.joinRef;
    });
    afterAll(() => client.close());

    /** Sends and returns the reply plus the message_sent pushes that came with it. */
    async function send(payload: unknown): Promise<{ reply: Reply; pushed: MessageSent[] }> {
      const seen = client.events('message_sent').length;
      const reply = await client.call(joinRef, topic(), 'send_message', payload);
      await barrier(client);
      return { reply, pushed: client.events<MessageSent>('message_sent').slice(seen) };
    }

    function expectSentError(pushed: MessageSent[], ref: string, reason: string): void {
      expect(pushed).toEqual([
        {
          mobile_ref_id: ref,
          status: 'error',
          chat_id: mainId,
          message_id: null,
          seq: null,
          timestamp: null,
          reason,
          message: expect.any(String),
        },
      ]);
    }

    it('answers send_message with wrong types or missing fields with invalid_payload, and a message_sent error when the mobile_ref_id is usable', async () => {
      const before = await observed();
      const withRef: [string, object][] = [
        ['missing content', { mobile_ref_id: 'bad-1' }],
        ['numeric content', { content: 42, mobile_ref_id: 'bad-2' }],
        ['null content', { content: null, mobile_ref_id: 'bad-3' }],
        ['array content', { content: ['hi'], mobile_ref_id: 'bad-4' }],
        ['object content', { content: { text: 'hi' }, mobile_ref_id: 'bad-5' }],
        ['boolean content', { content: true, mobile_ref_id: 'bad-6' }],
      ];
      for (const [label, payload] of withRef) {
        const { reply, pushed } = await send(payload);
        expect(reply, label).toMatchObject({
          status: 'error',
          response: { reason: 'invalid_payload' },
        });
        expectSentError(
          pushed,
          (payload as { mobile_ref_id: string }).mobile_ref_id,
          'invalid_payload',
        );
      }
      const withoutRef: [string, object][] = [
        ['missing mobile_ref_id', { content: 'hi' }],
        ['numeric mobile_ref_id', { content: 'hi', mobile_ref_id: 7 }],
        ['object mobile_ref_id', { content: 'hi', mobile_ref_id: { id: 'x' } }],
        ['129-character mobile_ref_id', { content: 'hi', mobile_ref_id: 'r'.repeat(129) }],
        ['empty payload', {}],
      ];
      for (const [label, payload] of withoutRef) {
        const { reply, pushed } = await send(payload);
        expect(reply, label).toMatchObject({
          status: 'error',
          response: { reason: 'invalid_payload' },
        });
        expect(pushed, label).toEqual([]);
      }
      await expectHarmless(before);
    });

    it('answers empty content with empty_message and long content with message_too_long', async () => {
      const before = await observed();
      for (const [content, reason] of [
        ['', 'empty_message'],
        ['   ', 'empty_message'],
        ['\n\t \r\n', 'empty_message'],
        ['x'.repeat(MAX_CHARS + 1), 'message_too_long'],
        [`${'é'.repeat(MAX_CHARS)}!`, 'message_too_long'],
      ] as const) {
        const ref = `content-${reason}-${content.length}`;
        const reply = await client.call(joinRef, topic(), 'send_message', {
          content,
          mobile_ref_id: ref,
        });
        expect(reply, JSON.stringify(content).slice(0, 20)).toMatchObject({
          status: 'error',
          response: { reason },
        });
        const pushed = (await client.waitFor(
          (frame) => frame[3] === 'message_sent' && (frame[4] as MessageSent).mobile_ref_id === ref,
        )) as [unknown, unknown, unknown, unknown, MessageSent];
        expectSentError([pushed[4]], ref, reason);
      }
      await expectHarmless(before);
    });

    it('answers bad typing, read and join payloads with invalid_payload', async () => {
      const before = await observed();
      const cases: [string, unknown][] = [
        ['typing', {}],
        ['typing', { typing: 'yes' }],
        ['typing', { typing: 1 }],
        ['read', {}],
        ['read', { seq: -1 }],
        ['read', { seq: 'last' }],
        ['read', { seq: 1e300 }],
        ['read', { seq: 0.5 }],
      ];
      for (const [event, payload] of cases) {
        const reply = await client.call(joinRef, topic(), event, payload);
        expect(reply, `${event} ${JSON.stringify(payload)}`).toMatchObject({
          status: 'error',
          response: { reason: 'invalid_payload' },
        });
      }
      await barrier(client);
      expect(client.closeCode).toBeNull();
      await expectHarmless(before);
    });
  });
});

describe('floods and limits', () => {
  const BURST = 10;
  const STRIKES = 10;
  const FRAME_BURST = 60;
  let relay: TestRelay;
  let logs: LogLine[];
  let canary: Canary;
  let mainId: string;

  beforeAll(async () => {
    const captured = capturingLogger();
    logs = captured.lines;
    relay = await startTestRelay({
      logger: captured.logger,
      limits: {
        messagesPerSecond: 1,
        messageBurst: BURST,
        strikesPerMinute: STRIKES,
        framesPerSecond: 20,
        frameBurst: FRAME_BURST,
        maxJoinsPerConnection: 3,
        maxConnectionsPerUser: 2,
      },
    });
    canary = await Canary.start(relay);
    mainId = await mainChatId(relay, canary.sender.token);
  });
  afterAll(() => stopWithCanary(relay, canary));

  it('answers a send_message flood with rate_limited and message_sent errors, then closes with 1008', async () => {
    const flooder = await signIn(relay, 'Flooder');
    const roomId = await createRoom(relay, flooder.token, 'flood', 'private');
    const client = await RawClient.connect(relay, flooder.token);
    const { joinRef, status } = await client.join(`chat:${roomId}`);
    expect(status).toBe('ok');

    const FLOOD = 40;
    const refByFrame = new Map<string, string>();
    for (let n = 1; n <= FLOOD; n += 1) {
      const ref = client.send(joinRef, `chat:${roomId}`, 'send_message', {
        content: `flood ${n}`,
        mobile_ref_id: `flood-${n}`,
      });
      refByFrame.set(ref, `flood-${n}`);
    }
    expect(await client.closed()).toBe(1008);
    expect(client.closeReason).toBe('rate_limited');
    await canary.check();

    const replies = replyFrames(client).filter((reply) => refByFrame.has(String(reply.ref)));
    const limited = replies.filter((reply) => reply.reason === 'rate_limited');
    // Each breach is answered until the one past strikesPerMinute, which closes instead.
    expect(limited).toHaveLength(STRIKES);
    const limitedRefs = limited.map((reply) => refByFrame.get(String(reply.ref)));
    const sentErrors = client
      .events<MessageSent>('message_sent')
      .filter((m) => m.status === 'error');
    expect(sentErrors.map((m) => m.mobile_ref_id)).toEqual(limitedRefs);
    expect(sentErrors.every((m) => m.reason === 'rate_limited' && m.seq === null)).toBe(true);

    const acked = client.events<MessageSent>('message_sent').filter((m) => m.status === 'sent');
    const history = await api<{ messages: WireMessage[] }>(
      relay,
      flooder.token,
      'GET',
      `/api/chats/${roomId}/messages?limit=500`,
    );
    const stored = history.body.messages;
    // The burst went through in order; nothing refused was stored; every ack is stored as acked.
    expect(stored.slice(0, BURST).map((m) => [m.seq, m.mobile_ref_id])).toEqual(
      Array.from({ length: BURST }, (_, i) => [i + 1, `flood-${i + 1}`]),
    );
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.length).toBeLessThanOrEqual(FLOOD - STRIKES - 1);
    const storedRefs = new Set(stored.map((m) => m.mobile_ref_id));
    for (const ref of limitedRefs) expect(storedRefs.has(ref ?? '')).toBe(false);
    for (const ack of acked) {
      expect(stored.find((m) => m.mobile_ref_id === ack.mobile_ref_id)?.seq).toBe(ack.seq);
    }
    expect(errorsIn(logs)).toEqual([]);
  });

  it('answers a frame flood with rate_limited, then closes with 1008', async () => {
    const flooder = await signIn(relay, 'FrameFlooder');
    const client = await RawClient.connect(relay, flooder.token);
    const refs: string[] = [];
    for (let n = 0; n < FRAME_BURST * 3; n += 1) {
      refs.push(client.send(null, 'phoenix', 'heartbeat', {}));
    }
    expect(await client.closed()).toBe(1008);
    const replies = replyFrames(client);
    const ok = replies.filter((reply) => reply.status === 'ok');
    const limited = replies.filter((reply) => reply.reason === 'rate_limited');
    expect(ok.length).toBeGreaterThanOrEqual(FRAME_BURST);
    expect(ok.length).toBeLessThan(FRAME_BURST + 10);
    expect(limited).toHaveLength(STRIKES);
    // Replies came in the order the frames were sent: the first FRAME_BURST were served.
    expect(replies.slice(0, FRAME_BURST).map((reply) => reply.ref)).toEqual(
      refs.slice(0, FRAME_BURST),
    );
    await canary.check();
  });

  it('refuses a join over maxJoinsPerConnection with too_many_joins and joins nothing', async () => {
    const joiner = await signIn(relay, 'Joiner');
    const owner = await signIn(relay, 'RoomOwner');
    const rooms: string[] = [];
    for (const n of [1, 2, 3]) {
      rooms.push(await createRoom(relay, owner.token, `open-${n}`, 'public'));
    }
    const [room1 = '', room2 = '', room3 = ''] = rooms;
    const client = await RawClient.connect(relay, joiner.token);
    expect((await client.join(`notifications:${joiner.user.id}`)).status).toBe('ok');
    expect((await client.join(`chat:${mainId}`)).status).toBe('ok');
    const first = await client.join(`chat:${room1}`);
    expect(first.status).toBe('ok');

    const refused = await client.join(`chat:${room2}`);
    expect(refused).toMatchObject({ status: 'error', response: { reason: 'too_many_joins' } });
    // Re-joining a topic already joined replaces it and is not an extra join.
    expect((await client.join(`notifications:${joiner.user.id}`)).status).toBe('ok');
    const rejoined = await client.join(`chat:${room1}`);
    expect(rejoined.status).toBe('ok');
    // The refused join of a public room did not make the user a member of it.
    const detail = await api(relay, joiner.token, 'GET', `/api/chats/${room2}`);
    expect(detail.status).toBe(403);
    const mine = await api<{ chats: ChatSummary[] }>(relay, joiner.token, 'GET', '/api/chats');
    expect(mine.body.chats.map((chat) => chat.id)).not.toContain(room2);

    // Leaving one makes room for another.
    expect((await client.call(rejoined.joinRef, `chat:${room1}`, 'phx_leave', {})).status).toBe(
      'ok',
    );
    expect((await client.join(`chat:${room3}`)).status).toBe('ok');
    client.close();
    await canary.check();
  });

  it('refuses an upgrade over maxConnectionsPerUser with HTTP 429', async () => {
    const user = await signIn(relay, 'ManyTabs');
    const first = await RawClient.connect(relay, user.token);
    const second = await RawClient.connect(relay, user.token);
    const refused = await refusedUpgrade(relay, user.token);
    expect(refused).toEqual({
      status: 429,
      body: { error: { code: 'rate_limited', message: expect.any(String) } },
    });
    // The two open connections still work.
    await barrier(first);
    await barrier(second);
    // Another user is not affected.
    const other = await signIn(relay, 'OneTab');
    const otherClient = await RawClient.connect(relay, other.token);
    await barrier(otherClient);
    otherClient.close();

    // A closed connection frees its slot.
    first.close();
    await first.closed();
    await until(
      () => logs.some((line) => line.msg === 'disconnected' && line.user === user.user.id),
      5_000,
      'the relay to drop the closed connection',
    );
    const third = await RawClient.connect(relay, user.token);
    await barrier(third);
    third.close();
    second.close();
    await canary.check();
  });
});

describe('slow consumers', () => {
  const MAX_BUFFERED = 64 * 1024;
  let relay: TestRelay;
  let logs: LogLine[];
  let canary: Canary;

  beforeAll(async () => {
    const captured = capturingLogger();
    logs = captured.lines;
    relay = await startTestRelay({
      logger: captured.logger,
      limits: { maxBufferedBytes: MAX_BUFFERED, messageBurst: 100, joinHistory: 50 },
    });
    canary = await Canary.start(relay);
  });
  afterAll(() => stopWithCanary(relay, canary));

  it('disconnects a client that stops reading with 4001 while others keep chatting', async () => {
    const slow = await signIn(relay, 'Slowpoke');
    const talker = await signIn(relay, 'Talker');
    const roomId = await createRoom(relay, talker.token, 'busy room', 'private');
    const added = await api(relay, talker.token, 'POST', `/api/chats/${roomId}/members`, {
      user_id: slow.user.id,
    });
    expect(added.status).toBe(200);
    const client = await RawClient.connect(relay, slow.token);
    expect((await client.join(`chat:${roomId}`)).status).toBe('ok');

    const tcp = (client.socket as unknown as { _socket: NetSocket })._socket;
    tcp.pause();
    // Join replies are bounded by the connection's own backlog, so the room's traffic is what
    // fills it: messages of 8,000 control characters (about 48 kB each as JSON), far more in
    // all than the kernel buffers hold (a few MB on loopback), until the relay gives up.
    const SENDS = 100;
    let sent = 0;
    for (let n = 1; n <= SENDS; n += 1) {
      if (logs.some((line) => line.msg === 'closing slow consumer' && line.user === slow.user.id)) {
        break;
      }
      const answer = await api(relay, talker.token, 'POST', `/api/chats/${roomId}/messages`, {
        content: `${n} `.padEnd(8_000, '\u0001'),
        mobile_ref_id: `busy-${n}`,
      });
      expect(answer.status).toBe(201);
      sent += 1;
    }
    await until(
      () => logs.some((line) => line.msg === 'closing slow consumer' && line.user === slow.user.id),
      20_000,
      'the relay to close the slow consumer',
    );
    // Others are fine while it is being cut off.
    await canary.check();
    tcp.resume();
    expect(await client.closed()).toBe(4001);
    expect(client.closeReason).toBe('slow_consumer');
    await until(
      () =>
        logs.some(
          (line) => line.msg === 'disconnected' && line.user === slow.user.id && line.code === 4001,
        ),
      5_000,
      'the relay to drop the connection',
    );
    // The relay stopped queueing for it: it got fewer messages than were sent, each once.
    const received = client.frames.filter((frame) => frame[3] === 'receive_message').length;
    console.log(`slow consumer: closed after ${sent} sends of ~48 kB; it had received ${received}`);
    expect(received).toBeLessThan(sent);
    await canary.check();
    expect(errorsIn(logs)).toEqual([]);
  });
});

describe('heartbeat timeout', () => {
  const TIMEOUT_MS = 600;
  /** Beats per timeout period: a beat may come late by most of a period and still count. */
  const BEATS_PER_PERIOD = 6;
  let relay: TestRelay;

  beforeAll(async () => {
    relay = await startTestRelay({ limits: { heartbeatTimeoutMs: TIMEOUT_MS } });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  it('closes a silent client with 4000 and keeps a client that sends heartbeats', async () => {
    const quiet = await signIn(relay, 'Quiet');
    const lively = await signIn(relay, 'Lively');
    const silent = await RawClient.connect(relay, quiet.token);
    const beating = await RawClient.connect(relay, lively.token);
    const mainId = await mainChatId(relay, lively.token);
    expect((await beating.join(`chat:${mainId}`)).status).toBe('ok');

    const beats: string[] = [];
    const timer = setInterval(
      () => beats.push(beating.send(null, 'phoenix', 'heartbeat', {})),
      TIMEOUT_MS / BEATS_PER_PERIOD,
    );
    try {
      expect(await silent.closed()).toBe(4000);
      expect(silent.closeReason).toBe('heartbeat_timeout');
      // Three more timeout periods of beating: still connected, every beat answered ok.
      const target = beats.length + 3 * BEATS_PER_PERIOD;
      await until(() => beats.length >= target, 10_000, 'more heartbeats');
      await beating.reply(beats[beats.length - 1] ?? '');
    } finally {
      clearInterval(timer);
    }
    expect(beating.closeCode).toBeNull();
    const answered = replyFrames(beating).filter((reply) => beats.includes(String(reply.ref)));
    expect(answered.length).toBeGreaterThanOrEqual(3 * BEATS_PER_PERIOD);
    expect(answered.every((reply) => reply.status === 'ok')).toBe(true);
    // And it still receives messages.
    await api(relay, quiet.token, 'POST', `/api/chats/${mainId}/messages`, {
      content: 'still there?',
      mobile_ref_id: 'hb-1',
    });
    const received = await beating.waitFor((frame) => frame[3] === 'receive_message');
    expect((received[4] as WireMessage).content).toBe('still there?');
    beating.close();
  });
});

describe('random mutations of valid frames (property)', () => {
  const MAX_CHARS = 200;
  let relay: TestRelay;
  let logs: LogLine[];
  let canary: Canary;
  let fuzzer: Session;
  let victim: Session;
  let topics: string[];

  beforeAll(async () => {
    const captured = capturingLogger();
    logs = captured.lines;
    relay = await startTestRelay({
      logger: captured.logger,
      // The canary sends once per run: its rate limit must not be what the property measures.
      limits: {
        maxPayloadBytes: 16 * 1024,
        maxMessageChars: MAX_CHARS,
        messagesPerSecond: 100,
        messageBurst: 1_000,
      },
    });
    fuzzer = await signIn(relay, 'Fuzzer');
    victim = await signIn(relay, 'Victim');
    const mainId = await mainChatId(relay, fuzzer.token);
    const ownId = await createRoom(relay, fuzzer.token, 'fuzz room', 'private');
    const otherId = await createRoom(relay, victim.token, 'victim room', 'private');
    // History in the fuzzer's room, sent by the fuzzer itself (so its read marker is at the end
    // and it has no pending notifications), and in the victim's room.
    for (let n = 1; n <= 3; n += 1) {
      await api(relay, fuzzer.token, 'POST', `/api/chats/${ownId}/messages`, {
        content: `fuzz history ${n}`,
        mobile_ref_id: `fh-${n}`,
      });
      await api(relay, victim.token, 'POST', `/api/chats/${otherId}/messages`, {
        content: `victim history ${n}`,
        mobile_ref_id: `vh-${n}`,
      });
    }
    topics = [
      `chat:${ownId}`,
      `chat:${mainId}`,
      `chat:${otherId}`,
      'chat:no-such-chat',
      `notifications:${fuzzer.user.id}`,
      `notification:${fuzzer.user.id}`,
      `notifications:${victim.user.id}`,
      'phoenix',
    ];
    canary = await Canary.start(relay);
  });
  afterAll(async () => {
    canary.stop();
    await relay.close();
    removeDir(relay.dataDir);
  });

  /** True for a frame that is a valid, storable send: those would rightly change data. */
  function wouldStore(text: string): boolean {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return false;
    }
    if (!Array.isArray(raw) || raw[3] !== 'send_message') return false;
    const parsed = sendMessagePayload.safeParse(raw[4]);
    return (
      parsed.success &&
      parsed.data.content.trim().length > 0 &&
      parsed.data.content.length <= MAX_CHARS
    );
  }

  type Outgoing = { text: string } | { binary: Uint8Array };

  function outgoingFrames(): fc.Arbitrary<Outgoing[]> {
    const nested = (depth: number, leaf: unknown): unknown => {
      let value = leaf;
      for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? [value] : { v: value };
      return value;
    };
    const hugeNumber = fc.oneof(
      fc.double(),
      fc.constantFrom(
        Number.MAX_SAFE_INTEGER + 2,
        2 ** 63,
        -(2 ** 63),
        1e308,
        -1e308,
        Number.MIN_VALUE,
        -0,
      ),
      fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }).map(Number),
    );
    const anyValue: fc.Arbitrary<unknown> = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      hugeNumber,
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.tuple(fc.nat({ max: 2_000 }), fc.jsonValue({ maxDepth: 1 })).map(([d, l]) => nested(d, l)),
    );
    const ref = fc.oneof(fc.constant(null), fc.constantFrom('0', '1'), fc.nat().map(String));
    const topic = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...topics) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
      { weight: 1, arbitrary: fc.string({ maxLength: 70 }).map((id) => `chat:${id}`) },
    );
    const content = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('', '   ', 'x'.repeat(MAX_CHARS + 1)),
    );
    const template = fc
      .oneof(
        fc.tuple(
          ref,
          ref,
          topic,
          fc.constant('phx_join'),
          fc.oneof(fc.constant({}), fc.record({ since_seq: fc.nat() })),
        ),
        fc.tuple(
          ref,
          ref,
          topic,
          fc.constant('send_message'),
          fc.record({ content, mobile_ref_id: fc.string({ minLength: 1, maxLength: 10 }) }),
        ),
        fc.tuple(ref, ref, topic, fc.constant('typing'), fc.record({ typing: fc.boolean() })),
        fc.tuple(ref, ref, topic, fc.constant('read'), fc.record({ seq: fc.nat() })),
        fc.tuple(ref, ref, topic, fc.constant('phx_leave'), fc.constant({})),
        fc.tuple(
          ref,
          ref,
          topic,
          fc.constant('ack_notifications'),
          fc.record({ ids: fc.array(fc.nat(), { maxLength: 5 }) }),
        ),
        fc.tuple(
          fc.constant(null),
          ref,
          fc.constant('phoenix'),
          fc.constant('heartbeat'),
          fc.constant({}),
        ),
      )
      .map((frame) => [...frame] as unknown[]);

    type Mutation = (frame: unknown[]) => unknown[];
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.tuple(fc.nat({ max: 4 }), anyValue).map(
        ([index, value]): Mutation =>
          (frame) =>
            frame.map((item, i) => (i === index ? value : item)),
      ),
      fc
        .tuple(
          fc.constantFrom(
            'content',
            'mobile_ref_id',
            'since_seq',
            'seq',
            'typing',
            'ids',
            '__proto__',
            'constructor',
          ),
          anyValue,
        )
        .map(([key, value]): Mutation => (frame) => {
          const payload = frame[4];
          if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
            return frame;
          return [...frame.slice(0, 4), { ...payload, [key]: value }];
        }),
      fc.constantFrom<Mutation>(
        (frame) => frame.slice(0, -1),
        (frame) => [...frame, {}],
        (frame) => [frame],
        (frame) => frame.slice().reverse(),
      ),
      fc.constantFrom<Mutation>(
        ...[
          'phx_join',
          'phx_leave',
          'phx_reply',
          'phx_error',
          'phx_close',
          'heartbeat',
          'send_message',
          'message_sent',
          'receive_message',
          'typing',
          'read',
          'ack_notifications',
        ].map((event): Mutation => (frame) => [...frame.slice(0, 3), event, ...frame.slice(4)]),
      ),
    );
    const textual = fc.oneof(
      { weight: 6, arbitrary: fc.constant((text: string) => text) },
      {
        weight: 1,
        arbitrary: fc.nat().map((n) => (text: string) => text.slice(0, n % (text.length + 1))),
      },
      {
        weight: 1,
        arbitrary: fc
          .string({ unit: 'binary', maxLength: 5 })
          .map((s) => (text: string) => `${s}${text}`),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          (text: string) => text.replace(/\d+/, '1e999'),
          (text: string) => text.replace(/\d+/, '123456789012345678901234567890'),
        ),
      },
    );
    const frame: fc.Arbitrary<Outgoing> = fc.oneof(
      {
        weight: 12,
        arbitrary: fc
          .tuple(template, fc.array(mutation, { minLength: 1, maxLength: 3 }), textual)
          .map(([base, mutations, edit]) => ({
            text: edit(JSON.stringify(mutations.reduce((value, mutate) => mutate(value), base))),
          })),
      },
      {
        weight: 1,
        arbitrary: fc.nat({ max: 3_000 }).map((depth) => ({
          text: `[null,"1","phoenix","heartbeat",${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]`,
        })),
      },
      {
        weight: 1,
        arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((text) => ({ text })),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((binary) => ({ binary })) },
    );
    return fc
      .tuple(
        fc.boolean(),
        fc.array(
          frame.filter((item) => !('text' in item) || !wouldStore(item.text)),
          { minLength: 1, maxLength: 8 },
        ),
      )
      .map(([joinFirst, frames]) =>
        joinFirst
          ? [{ text: JSON.stringify(['0', '0', topics[0], 'phx_join', {}]) }, ...frames]
          : frames,
      );
  }

  it('never crashes the relay, never changes stored data, and the canary keeps chatting', async () => {
    const before = await snapshot(relay, [fuzzer, victim]);
    const allowedCloses = new Set([1003, 1007, 1008, 1009]);
    const codes = new Set<string>(Object.keys(ERROR_CODES));
    let runs = 0;

    await fc.assert(
      fc.asyncProperty(outgoingFrames(), async (frames) => {
        runs += 1;
        const client = await RawClient.connect(relay, fuzzer.token);
        for (const item of frames) {
          if ('text' in item) client.sendRaw(item.text);
          else client.sendRaw(Buffer.from(item.binary), true);
        }
        // Either the relay closes the socket or it answers a heartbeat sent after everything.
        // Its ref is one the generated frames never use.
        const barrierRef = 'barrier-ref';
        client.sendRaw(JSON.stringify([null, barrierRef, 'phoenix', 'heartbeat', {}]));
        const outcome = await Promise.race([
          client.closed().then((code) => ({ closed: code })),
          client.reply(barrierRef, 10_000).then((reply) => ({ reply })),
        ]);
        if ('closed' in outcome) {
          expect(allowedCloses.has(outcome.closed), `close code ${outcome.closed}`).toBe(true);
        } else {
          expect(outcome.reply.status).toBe('ok');
        }
        for (const reply of replyFrames(client)) {
          expect(['ok', 'error']).toContain(reply.status);
          if (reply.status === 'error') expect(codes.has(String(reply.reason))).toBe(true);
        }
        for (const sent of client.events<MessageSent>('message_sent')) {
          expect(sent.status).toBe('error');
        }
        expect(errorsIn(logs)).toEqual([]);
        client.close();
        await client.closed();
        await canary.check();
      }),
      { numRuns: 80 },
    );

    expect(runs).toBe(80);
    expect(await snapshot(relay, [fuzzer, victim])).toEqual(before);
    const health = await fetch(`${relay.url}/healthz`);
    expect(health.status).toBe(200);
    await canary.verify();
  });
});
