/**
 * Who may see what: DMs and private rooms stay with their members on every door (socket topics,
 * notifications, HTTP), public rooms admit anyone who opens them, notification topics belong to
 * their user, and a socket without a valid token never opens.
 */
import { SignJWT } from 'jose';
import { Socket, type Channel } from 'phoenix';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChatInfo,
  MessageSent,
  NotificationPayload,
  PendingNotifications,
  WireMessage,
} from '../protocol/events.js';
import {
  RawClient,
  api,
  collect,
  createRoom,
  connectPhoenix,
  join,
  mainChatId as mainChatIdOf,
  push,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type Session,
  type TestRelay,
} from '../testing/relay-harness.js';

const JWT_SECRET = 'privacy-test-secret-0123456789abcdef';

let relay: TestRelay;
let host: Session;
let mainChatId: string;
let userCount = 0;
const sockets: Socket[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  relay = await startTestRelay({
    jwtSecret: JWT_SECRET,
    limits: { sessionAttemptsPerMinute: 10_000 },
  });
  host = await newUser('Host');
  mainChatId = await mainChatIdOf(relay, host.token);
  expect(mainChatId).not.toBe('');
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  for (const raw of raws.splice(0)) raw.close();
});
afterAll(async () => {
  await relay.close();
  removeDir(relay.dataDir);
});

function newUser(base: string): Promise<Session> {
  userCount += 1;
  return signIn(relay, `${base}${userCount}`);
}

function phoenix(session: Session, device = 'device-1'): Socket {
  const socket = connectPhoenix(relay, session.token, device);
  sockets.push(socket);
  return socket;
}

async function raw(session: Session, device = 'raw-1'): Promise<RawClient> {
  const client = await RawClient.connect(relay, session.token, device);
  raws.push(client);
  return client;
}

function newRoom(owner: Session, visibility: 'public' | 'private'): Promise<string> {
  return createRoom(relay, owner.token, `room-${userCount}-${visibility}`, visibility);
}

async function openDm(from: Session, to: Session): Promise<string> {
  const res = await api<{ chat: ChatInfo }>(relay, from.token, 'POST', '/api/dms', {
    user_id: to.user.id,
  });
  expect(res.status).toBe(200);
  expect(res.body.chat.kind).toBe('dm');
  return res.body.chat.id;
}

async function postMessage(sender: Session, chatId: string, content: string): Promise<number> {
  const res = await api<MessageSent>(relay, sender.token, 'POST', `/api/chats/${chatId}/messages`, {
    content,
    mobile_ref_id: `${content}-${chatId}`,
  });
  expect(res.status).toBe(201);
  return res.body.seq ?? -1;
}

/**
 * Closes a connection that joined the main room and waits until the relay has let it go: the
 * presence leave in the main room is sent after the connection left the relay's tables.
 */
async function closeAndWait(user: Session, close: () => void): Promise<void> {
  const watcher = await raw(host, `watcher-${user.user.id}`);
  expect((await watcher.join(`chat:${mainChatId}`)).status).toBe('ok');
  close();
  await watcher.waitFor(
    (f) => f[3] === 'presence_diff' && user.user.id in (f[4] as { leaves: object }).leaves,
  );
  watcher.close();
}

/** Joins with the phoenix client; a refused channel is left so it stops retrying. */
async function tryJoin(
  socket: Socket,
  topic: string,
): Promise<{ channel: Channel; status: string; response: Record<string, unknown> }> {
  const channel = socket.channel(topic, {});
  const reply = await join(channel);
  if (reply.status !== 'ok') channel.leave();
  return { channel, ...reply };
}

describe('DMs', () => {
  it('stay between their two users on every topic and over HTTP', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const cy = await newUser('Cy');
    const dmId = await openDm(ana, ben);
    const dmTopic = `chat:${dmId}`;

    // Cy listens everywhere she may: her notifications and the main room.
    const cyClient = await raw(cy);
    expect((await cyClient.join(`notifications:${cy.user.id}`)).status).toBe('ok');
    expect((await cyClient.join(`chat:${mainChatId}`)).status).toBe('ok');
    const refused = await cyClient.join(dmTopic);
    expect(refused).toMatchObject({ status: 'error', response: { reason: 'not_member' } });
    const refusedPhoenix = await tryJoin(phoenix(cy), dmTopic);
    expect(refusedPhoenix).toMatchObject({ status: 'error', response: { reason: 'not_member' } });

    const anaSocket = phoenix(ana);
    const anaDm = await tryJoin(anaSocket, dmTopic);
    expect(anaDm.status).toBe('ok');
    const benInbox = phoenix(ben).channel(`notifications:${ben.user.id}`, {});
    const benNotified = collect<NotificationPayload>(benInbox, 'new_notification');
    expect((await join(benInbox)).status).toBe('ok');

    const sent = await push<MessageSent>(anaDm.channel, 'send_message', {
      content: 'secret over the socket',
      mobile_ref_id: 'dm-1',
    });
    expect(sent.status).toBe('ok');
    await postMessage(ana, dmId, 'secret over http');
    await until(() => benNotified.length === 2, 5_000, 'ben notifications');
    expect(benNotified.map((n) => [n.chat_id, n.content])).toEqual([
      [dmId, 'secret over the socket'],
      [dmId, 'secret over http'],
    ]);

    // A message Cy may see, sent after the secrets: once it is in, the secrets would be too.
    await postMessage(ana, mainChatId, 'public hello');
    await cyClient.waitFor(
      (f) => f[3] === 'receive_message' && (f[4] as WireMessage).content === 'public hello',
    );
    // Everything but the refusal itself, which names the topic Cy asked for.
    const everything = JSON.stringify(
      cyClient.frames.filter((f) => !(f[1] === refused.joinRef && f[3] === 'phx_reply')),
    );
    expect(everything).not.toContain(dmId);
    expect(everything).not.toContain('secret');

    // Offline, Cy gets no pending notification for the DM either.
    await closeAndWait(cy, () => cyClient.close());
    await postMessage(ana, dmId, 'secret while cy is away');
    await postMessage(ana, mainChatId, 'public while cy is away');
    const cyAgain = await raw(cy, 'raw-2');
    expect((await cyAgain.join(`notifications:${cy.user.id}`)).status).toBe('ok');
    const [batch] = await until(
      () => cyAgain.events('pending_notifications').length === 1,
      5_000,
      'pending notifications',
    ).then(() => cyAgain.events<PendingNotifications>('pending_notifications'));
    expect(batch?.notifications.map((n) => [n.chat_id, n.content])).toEqual([
      [mainChatId, 'public while cy is away'],
    ]);

    // HTTP: no history, no sending, no details, no way in.
    const history = await api(relay, cy.token, 'GET', `/api/chats/${dmId}/messages`);
    expect(history).toMatchObject({ status: 403, body: { error: { code: 'not_member' } } });
    const post = await api(relay, cy.token, 'POST', `/api/chats/${dmId}/messages`, {
      content: 'let me in',
      mobile_ref_id: 'intruder-1',
    });
    expect(post).toMatchObject({ status: 403, body: { error: { code: 'not_member' } } });
    expect((await api(relay, cy.token, 'GET', `/api/chats/${dmId}`)).status).toBe(403);
    expect((await api(relay, cy.token, 'POST', `/api/chats/${dmId}/join`)).status).toBe(403);
    const selfAdd = await api(relay, cy.token, 'POST', `/api/chats/${dmId}/members`, {
      user_id: cy.user.id,
    });
    expect(selfAdd.status).toBe(403);
    const added = await api(relay, ben.token, 'POST', `/api/chats/${dmId}/members`, {
      user_id: cy.user.id,
    });
    expect(added).toMatchObject({ status: 400, body: { error: { code: 'invalid_payload' } } });
    const cyChats = await api<{ chats: ChatInfo[] }>(relay, cy.token, 'GET', '/api/chats');
    expect(cyChats.body.chats.map((chat) => chat.id)).not.toContain(dmId);

    // Nothing Cy tried was stored.
    const benHistory = await api<{ messages: WireMessage[] }>(
      relay,
      ben.token,
      'GET',
      `/api/chats/${dmId}/messages`,
    );
    expect(benHistory.body.messages.map((m) => m.content)).toEqual([
      'secret over the socket',
      'secret over http',
      'secret while cy is away',
    ]);
  });
});

describe('rooms', () => {
  it('a private room refuses non-members until a member adds them', async () => {
    const ana = await newUser('Ana');
    const cy = await newUser('Cy');
    const roomId = await newRoom(ana, 'private');
    await postMessage(ana, roomId, 'members only');
    const socket = phoenix(cy);

    const refused = await tryJoin(socket, `chat:${roomId}`);
    expect(refused).toMatchObject({ status: 'error', response: { reason: 'not_member' } });
    const httpJoin = await api(relay, cy.token, 'POST', `/api/chats/${roomId}/join`);
    expect(httpJoin).toMatchObject({ status: 403, body: { error: { code: 'not_member' } } });
    expect((await api(relay, cy.token, 'GET', `/api/chats/${roomId}/messages`)).status).toBe(403);
    const publicList = await api<{ chats: ChatInfo[] }>(
      relay,
      cy.token,
      'GET',
      '/api/chats?scope=public',
    );
    expect(publicList.body.chats.map((chat) => chat.id)).not.toContain(roomId);

    const added = await api(relay, ana.token, 'POST', `/api/chats/${roomId}/members`, {
      user_id: cy.user.id,
    });
    expect(added.status).toBe(200);
    const admitted = await tryJoin(socket, `chat:${roomId}`);
    expect(admitted.status).toBe('ok');
    expect((admitted.response.messages as WireMessage[]).map((m) => m.content)).toEqual([
      'members only',
    ]);
  });

  it('joining a public room as a non-member makes you a member', async () => {
    const ana = await newUser('Ana');
    const cy = await newUser('Cy');
    const roomId = await newRoom(ana, 'public');
    const before = await api(relay, cy.token, 'GET', `/api/chats/${roomId}`);
    expect(before).toMatchObject({ status: 403, body: { error: { code: 'not_member' } } });

    const joined = await tryJoin(phoenix(cy), `chat:${roomId}`);
    expect(joined).toMatchObject({ status: 'ok', response: { read_seq: 0 } });
    const received = collect<WireMessage>(joined.channel, 'receive_message');

    const details = await api<{ members: { id: string }[] }>(
      relay,
      cy.token,
      'GET',
      `/api/chats/${roomId}`,
    );
    expect(details.status).toBe(200);
    expect(details.body.members.map((m) => m.id).sort()).toEqual([ana.user.id, cy.user.id].sort());
    const cyChats = await api<{ chats: ChatInfo[] }>(relay, cy.token, 'GET', '/api/chats');
    expect(cyChats.body.chats.map((chat) => chat.id)).toContain(roomId);

    await postMessage(ana, roomId, 'welcome');
    await until(() => received.length === 1, 5_000, 'receive_message');
    expect(received[0]).toMatchObject({ content: 'welcome', sender_id: ana.user.id });
  });
});

describe('notification topics', () => {
  it("refuses another user's notifications with reason unauthorized", async () => {
    const ana = await newUser('Ana');
    const cy = await newUser('Cy');
    const socket = phoenix(cy);
    for (const topic of [`notifications:${ana.user.id}`, `notification:${ana.user.id}`]) {
      const refused = await tryJoin(socket, topic);
      expect(refused, topic).toMatchObject({
        status: 'error',
        response: { reason: 'unauthorized' },
      });
    }
  });

  it('notification:<own id> (seed prose) works like notifications:', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const roomId = await newRoom(ana, 'private');
    await api(relay, ana.token, 'POST', `/api/chats/${roomId}/members`, { user_id: ben.user.id });
    await postMessage(ana, roomId, 'while ben is away');

    const benSocket = phoenix(ben);
    expect((await tryJoin(benSocket, `chat:${mainChatId}`)).status).toBe('ok');
    const inbox = benSocket.channel(`notification:${ben.user.id}`, {});
    const pending = collect<NotificationPayload>(inbox, 'pending_notification');
    const batches = collect<PendingNotifications>(inbox, 'pending_notifications');
    const live = collect<NotificationPayload>(inbox, 'new_notification');
    const joined = await join(inbox);
    expect(joined).toEqual({ status: 'ok', response: { user_id: ben.user.id } });
    await until(() => pending.length === 1, 5_000, 'pending_notification');
    expect(batches).toHaveLength(1);
    expect(pending[0]).toMatchObject({ chat_id: roomId, content: 'while ben is away' });

    await postMessage(ana, roomId, 'now that ben is here');
    await until(() => live.length === 1, 5_000, 'new_notification');
    expect(live[0]).toMatchObject({
      chat_id: roomId,
      sender_id: ana.user.id,
      content: 'now that ben is here',
      mentioned: false,
    });

    const acked = await push(inbox, 'ack_notifications', { ids: [pending[0]?.id] });
    expect(acked).toEqual({ status: 'ok', response: { acked: 1 } });

    // Ben counted as online above: the live message left nothing pending behind it.
    await closeAndWait(ben, () => benSocket.disconnect());
    await postMessage(ana, roomId, 'after ben left');
    const again = phoenix(ben, 'device-2').channel(`notification:${ben.user.id}`, {});
    const againBatches = collect<PendingNotifications>(again, 'pending_notifications');
    expect((await join(again)).status).toBe('ok');
    await until(() => againBatches.length === 1, 5_000, 'pending_notifications');
    expect(againBatches[0]?.notifications.map((n) => n.content)).toEqual(['after ben left']);
  });
});

describe('socket authentication', () => {
  /** The HTTP answer to a WebSocket upgrade with these query parameters. */
  function upgrade(query: Record<string, string>): Promise<{ status: number; body: unknown }> {
    const url = `${relay.socketUrl}/websocket?${new URLSearchParams({ vsn: '2.0.0', ...query }).toString()}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('open', () => {
        ws.close();
        resolve({ status: 101, body: null });
      });
      ws.on('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      ws.on('error', (error) => {
        if (!/Unexpected server response/.test(error.message)) reject(error);
      });
    });
  }

  function encodePart(value: object): string {
    return Buffer.from(JSON.stringify(value)).toString('base64url');
  }

  async function relayToken(
    sub: string,
    times: { iat: number; exp: number },
    secret = JWT_SECRET,
  ): Promise<string> {
    return new SignJWT({ name: 'crafted', dev: 'crafted-device' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuer('parley-relay')
      .setIssuedAt(times.iat)
      .setExpirationTime(times.exp)
      .sign(new TextEncoder().encode(secret));
  }

  it('refuses the upgrade with HTTP 403 for no, invalid, tampered, foreign or expired tokens', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const now = Math.floor(Date.now() / 1000);
    const [header, payload, signature] = ben.token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as object;
    const tampered = [header, encodePart({ ...claims, sub: ana.user.id }), signature].join('.');
    const valid = await relayToken(ben.user.id, { iat: now - 60, exp: now + 600 });
    const expired = await relayToken(ben.user.id, { iat: now - 600, exp: now - 60 });
    const foreign = await relayToken(
      ben.user.id,
      { iat: now - 60, exp: now + 600 },
      'x'.repeat(40),
    );

    // The controls: the real token and one crafted the same way but still valid both open.
    expect((await upgrade({ token: ben.token })).status).toBe(101);
    expect((await upgrade({ token: valid })).status).toBe(101);

    const cases: [string, Record<string, string>][] = [
      ['no token', {}],
      ['empty token', { token: '' }],
      ['invalid token', { token: 'not-a-jwt' }],
      ['tampered token', { token: tampered }],
      ['foreign key', { token: foreign }],
      ['expired token', { token: expired }],
    ];
    for (const [what, query] of cases) {
      const answer = await upgrade(query);
      expect(answer, what).toMatchObject({
        status: 403,
        body: { error: { code: 'unauthorized' } },
      });
    }
    const expiredAnswer = await upgrade({ token: expired });
    expect(expiredAnswer.body).toMatchObject({ error: { message: 'the token has expired' } });

    // RawClient sees the same refusal.
    await expect(RawClient.connect(relay, tampered)).rejects.toThrow('HTTP 403');
  });

  it('the phoenix client cannot connect without a valid token', async () => {
    const ben = await newUser('Ben');
    const now = Math.floor(Date.now() / 1000);
    const expired = await relayToken(ben.user.id, { iat: now - 600, exp: now - 60 });
    const attempts: Record<string, string>[] = [
      { device_unique_id: 'no-token' },
      { token: 'garbage', device_unique_id: 'bad-token' },
      { token: expired, device_unique_id: 'expired-token' },
    ];
    for (const params of attempts) {
      const socket = new Socket(relay.socketUrl, {
        params,
        transport: WebSocket as unknown as typeof globalThis.WebSocket,
        reconnectAfterMs: () => 50,
      });
      sockets.push(socket);
      let opened = false;
      let errors = 0;
      socket.onOpen(() => {
        opened = true;
      });
      socket.onError(() => {
        errors += 1;
      });
      socket.connect();
      // Two refused attempts: the first one and the client's own retry.
      await until(() => errors >= 2, 5_000, `refusals for ${params.device_unique_id ?? ''}`);
      expect(opened, params.device_unique_id).toBe(false);
      expect(socket.isConnected()).toBe(false);
      socket.disconnect();
    }

    // The control: the same client with the real token opens.
    const good = phoenix(ben);
    let opened = false;
    good.onOpen(() => {
      opened = true;
    });
    await until(() => opened, 5_000, 'the control socket to open');
  });
});
