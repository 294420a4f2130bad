/**
 * Durability and resume across relay restarts on the same data folder, idempotent resends,
 * resuming the event stream (edits and deletes made while a client was away, in the join reply
 * and beyond it over HTTP), and ephemeral rooms whose messages are deleted after their TTL.
 */
import Database from 'better-sqlite3';
import { join as joinPath } from 'node:path';
import type { Socket } from 'phoenix';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  STREAM_VERSION,
  type ChatEvent,
  type ChatInfo,
  type ChatJoinReply,
  type HistoryPage,
  type MessageChanged,
  type MessageSent,
  type WireMessage,
} from '../protocol/events.js';
import type { RelayLimits } from '../core/options.js';
import { startPostgres, type PostgresServer } from '../testing/services.js';
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

const running: TestRelay[] = [];
const dataDirs = new Set<string>();
const sockets: Socket[] = [];
const raws: RawClient[] = [];

async function start(
  options: {
    dataDir?: string;
    port?: number;
    sweepIntervalMs?: number;
    databaseUrl?: string;
    limits?: Partial<RelayLimits>;
  } = {},
) {
  const relay = await startTestRelay({ ...options, limits: { ...LIMITS, ...options.limits } });
  running.push(relay);
  dataDirs.add(relay.dataDir);
  return relay;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  for (const raw of raws.splice(0)) raw.close();
  for (const relay of running.splice(0)) await relay.close();
  for (const dir of dataDirs) removeDir(dir);
  dataDirs.clear();
});

function phoenix(relay: TestRelay, session: Session, device = 'device-1'): Socket {
  const socket = connectPhoenix(relay, session.token, device);
  sockets.push(socket);
  return socket;
}

async function raw(relay: TestRelay, session: Session, device: string): Promise<RawClient> {
  const client = await RawClient.connect(relay, session.token, device);
  raws.push(client);
  return client;
}

/** Public rooms' names are unique per relay (by name key): each room here gets its own. */
let roomsMade = 0;

async function createRoom(
  relay: TestRelay,
  owner: Session,
  extra: { ephemeral_ttl_s?: number } = {},
): Promise<ChatInfo> {
  roomsMade += 1;
  const res = await api<{ chat: ChatInfo }>(relay, owner.token, 'POST', '/api/chats', {
    name: `resumable ${roomsMade}`,
    visibility: 'public',
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body.chat;
}

async function postMessage(
  relay: TestRelay,
  sender: Session,
  chatId: string,
  content: string,
): Promise<MessageSent> {
  const res = await api<MessageSent>(relay, sender.token, 'POST', `/api/chats/${chatId}/messages`, {
    content,
    mobile_ref_id: `http-${content}`,
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function history(relay: TestRelay, reader: Session, chatId: string): Promise<WireMessage[]> {
  const res = await api<{ messages: WireMessage[] }>(
    relay,
    reader.token,
    'GET',
    `/api/chats/${chatId}/messages?limit=500`,
  );
  expect(res.status).toBe(200);
  return res.body.messages;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

describe('after a restart on the same data folder', () => {
  it('a rejoin with since_seq gets exactly the missed messages, then live ones once', async () => {
    const first = await start();
    const ana = await signIn(first, 'Ana');
    const ben = await signIn(first, 'Ben');
    const room = await createRoom(first, ana);

    const anaChat = phoenix(first, ana).channel(`chat:${room.id}`, {});
    expect((await join(anaChat)).status).toBe('ok');
    const benSocket = phoenix(first, ben);
    const benChat = benSocket.channel(`chat:${room.id}`, {});
    const benReceived = collect<WireMessage>(benChat, 'receive_message');
    expect((await join(benChat)).status).toBe('ok');
    const send = async (content: string): Promise<MessageSent> => {
      const reply = await push<MessageSent>(anaChat, 'send_message', {
        content,
        mobile_ref_id: content,
      });
      expect(reply.status).toBe('ok');
      return reply.response;
    };
    for (const i of range(1, 3)) await send(`m${i}`);
    await until(() => benReceived.length === 3, 5_000, 'the first three on ben');
    const benLastSeq = benReceived.at(-1)?.seq ?? 0;
    expect(benLastSeq).toBe(3);
    benSocket.disconnect();

    const acked: MessageSent[] = [];
    for (const i of range(4, 8)) acked.push(await send(`m${i}`));
    await first.close();

    const second = await start({ dataDir: first.dataDir });
    expect(second.port).not.toBe(0);
    const benAgain = phoenix(second, ben, 'device-2');
    const resumed = benAgain.channel(`chat:${room.id}`, { since_seq: benLastSeq });
    const live = collect<WireMessage>(resumed, 'receive_message');
    const reply = await join<ChatJoinReply>(resumed);
    expect(reply.status).toBe('ok');
    expect(reply.response.has_more).toBe(false);
    expect(reply.response.last_seq).toBe(8);
    expect(reply.response.messages.map((m) => [m.seq, m.content, m.message_id])).toEqual(
      acked.map((sent) => [sent.seq, `m${sent.seq}`, sent.message_id]),
    );

    await postMessage(second, ana, room.id, 'm9');
    await postMessage(second, ana, room.id, 'm10');
    await until(() => live.length === 2, 5_000, 'live messages after the resume');
    expect(live.map((m) => m.seq)).toEqual([9, 10]);
    expect((await history(second, ana, room.id)).map((m) => m.content)).toEqual(
      range(1, 10).map((i) => `m${i}`),
    );
  });

  it('the phoenix client reconnects to the same port and rejoins from the last seq it saw', async () => {
    const first = await start();
    const ana = await signIn(first, 'Ana');
    const ben = await signIn(first, 'Ben');
    const room = await createRoom(first, ana);
    for (const i of range(1, 3)) await postMessage(first, ana, room.id, `m${i}`);

    // What an app does: remember the last seq and resume from it on every (re)join.
    const seen: number[] = [];
    let lastSeq = 0;
    let joins = 0;
    const note = (message: WireMessage): void => {
      seen.push(message.seq);
      lastSeq = Math.max(lastSeq, message.seq);
    };
    const benChat = phoenix(first, ben).channel(`chat:${room.id}`, () => ({ since_seq: lastSeq }));
    benChat.on('receive_message', note);
    benChat.join().receive('ok', (reply: ChatJoinReply) => {
      joins += 1;
      reply.messages.forEach(note);
    });
    await until(() => lastSeq === 3, 5_000, 'the first join');

    await first.close();
    const second = await start({ dataDir: first.dataDir, port: first.port });
    expect(second.port).toBe(first.port);
    // Sent while Ben's client may still be reconnecting: it gets them in the rejoin or live.
    for (const i of range(4, 6)) await postMessage(second, ana, room.id, `m${i}`);
    await until(() => joins >= 2 && lastSeq === 6, 5_000, 'the rejoin');
    await postMessage(second, ana, room.id, 'm7');
    await until(() => lastSeq === 7, 5_000, 'a live message after the rejoin');
    expect(seen).toEqual(range(1, 7));
  });

  it('keeps every acknowledged message, and resending every mobile_ref_id stores each once', async () => {
    const first = await start();
    const ana = await signIn(first, 'Ana');
    const room = await createRoom(first, ana);
    const topic = `chat:${room.id}`;
    const sender = await raw(first, ana, 'sender');
    const { joinRef } = await sender.join(topic);
    const planned = range(1, 40).map((i) => `burst-${i}`);
    const acks = new Map<string, { seq: number; message_id: string }>();
    const refs = new Map<string, string>();

    // Keep five sends in flight and pull the plug after the 20th ack.
    let next = 0;
    let closing: Promise<void> | null = null;
    const sendNext = (): void => {
      const mobileRefId = planned[next];
      if (mobileRefId === undefined || closing !== null) return;
      next += 1;
      refs.set(
        sender.send(joinRef, topic, 'send_message', {
          content: mobileRefId,
          mobile_ref_id: mobileRefId,
        }),
        mobileRefId,
      );
    };
    sender.socket.on('message', (data: Buffer) => {
      const [, ref, , event, payload] = JSON.parse(data.toString()) as [
        string | null,
        string | null,
        string,
        string,
        { status: string; response: MessageSent },
      ];
      const mobileRefId = ref === null ? undefined : refs.get(ref);
      if (event !== 'phx_reply' || mobileRefId === undefined) return;
      if (payload.status !== 'ok') return;
      acks.set(mobileRefId, {
        seq: payload.response.seq ?? -1,
        message_id: payload.response.message_id ?? '',
      });
      if (acks.size === 20) closing = first.close();
      else sendNext();
    });
    for (let i = 0; i < 5; i += 1) sendNext();
    await until(() => closing !== null, 5_000, '20 acks');
    await closing;
    expect(acks.size).toBeGreaterThanOrEqual(20);

    const second = await start({ dataDir: first.dataDir });
    const stored = await history(second, ana, room.id);
    for (const [mobileRefId, ack] of acks) {
      expect(stored.find((m) => m.mobile_ref_id === mobileRefId)).toMatchObject({
        seq: ack.seq,
        message_id: ack.message_id,
        content: mobileRefId,
      });
    }

    // The app resends everything it has no ack for, and (harmlessly) the rest too.
    const resender = phoenix(second, ana, 'resender').channel(topic, {});
    expect((await join(resender)).status).toBe('ok');
    for (const mobileRefId of planned) {
      const reply = await push<MessageSent>(resender, 'send_message', {
        content: mobileRefId,
        mobile_ref_id: mobileRefId,
      });
      expect(reply.status).toBe('ok');
      const ack = acks.get(mobileRefId);
      if (ack !== undefined) {
        expect(reply.response).toMatchObject({ ...ack, duplicate: true });
      }
    }
    const final = await history(second, ana, room.id);
    expect(final.map((m) => m.seq)).toEqual(range(1, planned.length));
    expect(final.map((m) => m.mobile_ref_id).sort()).toEqual([...planned].sort());
  });

  it('a resend whose ack was lost returns the original message and is not delivered again', async () => {
    const first = await start();
    const ana = await signIn(first, 'Ana');
    const ben = await signIn(first, 'Ben');
    const room = await createRoom(first, ana);
    const anaChat = phoenix(first, ana).channel(`chat:${room.id}`, {});
    expect((await join(anaChat)).status).toBe('ok');
    const original = await push<MessageSent>(anaChat, 'send_message', {
      content: 'did this arrive?',
      mobile_ref_id: 'lost-ack-1',
    });
    expect(original.status).toBe('ok');
    await first.close();

    const second = await start({ dataDir: first.dataDir });
    const benChat = phoenix(second, ben).channel(`chat:${room.id}`, { since_seq: 1 });
    const benReceived = collect<WireMessage>(benChat, 'receive_message');
    expect((await join(benChat)).status).toBe('ok');
    const anaAgain = phoenix(second, ana, 'device-2').channel(`chat:${room.id}`, {});
    expect((await join(anaAgain)).status).toBe('ok');
    const resent = await push<MessageSent>(anaAgain, 'send_message', {
      content: 'did this arrive?',
      mobile_ref_id: 'lost-ack-1',
    });
    expect(resent.status).toBe('ok');
    expect(resent.response).toEqual({ ...original.response, duplicate: true });

    await postMessage(second, ana, room.id, 'next');
    await until(() => benReceived.length === 1, 5_000, 'the next message');
    expect(benReceived.map((m) => [m.seq, m.content])).toEqual([[2, 'next']]);
    expect((await history(second, ana, room.id)).map((m) => m.mobile_ref_id)).toEqual([
      'lost-ack-1',
      'http-next',
    ]);
  });
});

/** PATCH or DELETE of a message over HTTP (api() speaks GET and POST only). */
async function changeOverHttp(
  relay: TestRelay,
  session: Session,
  method: 'PATCH' | 'DELETE',
  chatId: string,
  messageId: string,
  body?: { content: string; ref_id: string },
): Promise<{ status: number; body: MessageChanged }> {
  const res = await fetch(`${relay.url}/api/chats/${chatId}/messages/${messageId}`, {
    method,
    headers: {
      authorization: `Bearer ${session.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as MessageChanged };
}

/**
 * What a client holds of a chat: messages by id, changed by events only when an event's seq is
 * greater than the message's version_seq (PROTOCOL.md, "The event stream").
 */
class ChatCopy {
  readonly messages = new Map<string, WireMessage>();
  lastSeq = 0;

  addMessage(message: WireMessage): void {
    const held = this.messages.get(message.message_id);
    if (held === undefined || message.version_seq > held.version_seq) {
      this.messages.set(message.message_id, message);
    }
    this.lastSeq = Math.max(this.lastSeq, message.seq);
  }

  applyEvent(event: ChatEvent): void {
    this.lastSeq = Math.max(this.lastSeq, event.seq);
    const held = this.messages.get(event.message_id);
    if (held === undefined || event.seq <= held.version_seq) return;
    this.messages.set(
      event.message_id,
      event.type === 'message_edited'
        ? { ...held, content: event.content, edited_at: event.edited_at, version_seq: event.seq }
        : { ...held, content: '', deleted_at: event.deleted_at, version_seq: event.seq },
    );
  }

  contents(): [number, string][] {
    return [...this.messages.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((m) => [m.seq, m.deleted_at === null ? m.content : '(deleted)']);
  }
}

let postgres: PostgresServer | null = null;
let databases = 0;
afterAll(async () => {
  await postgres?.remove();
});

/** Relay options for a backend: SQLite (the default), or a fresh PostgreSQL database. */
async function backend(kind: 'sqlite' | 'postgres'): Promise<{ databaseUrl?: string }> {
  if (kind === 'sqlite') return {};
  postgres ??= await startPostgres();
  databases += 1;
  return { databaseUrl: await postgres.createDatabase(`resume_events_${databases}`) };
}

describe.each(['sqlite', 'postgres'] as const)(
  'the event stream: edits and deletes (%s)',
  (kind) => {
    it('a client away while a message was edited and another deleted sees both on resume', async () => {
      const relay = await start(await backend(kind));
      const ana = await signIn(relay, 'Ana');
      const ben = await signIn(relay, 'Ben');
      const room = await createRoom(relay, ana);
      const sent = [];
      for (const text of ['one', 'two', 'three'])
        sent.push(await postMessage(relay, ana, room.id, text));

      const copy = new ChatCopy();
      const benSocket = phoenix(relay, ben);
      const first = await join<ChatJoinReply>(benSocket.channel(`chat:${room.id}`, {}));
      expect(first.status).toBe('ok');
      expect(first.response.stream_version).toBe(STREAM_VERSION);
      expect(first.response.events).toEqual([]);
      first.response.messages.forEach((m) => copy.addMessage(m));
      expect(copy.lastSeq).toBe(3);
      benSocket.disconnect();

      // While Ben is away: "one" is edited (twice), "two" deleted, and a new message posted.
      const [one, two] = sent;
      const edited = await changeOverHttp(relay, ana, 'PATCH', room.id, one?.message_id ?? '', {
        content: 'one, edited',
        ref_id: 'e1',
      });
      expect(edited.status).toBe(200);
      const anaChat = phoenix(relay, ana, 'ana-phone').channel(`chat:${room.id}`, {});
      expect((await join(anaChat)).status).toBe('ok');
      const again = await push<MessageChanged>(anaChat, 'edit_message', {
        message_id: one?.message_id,
        content: 'one, edited again',
        ref_id: 'e2',
      });
      expect(again.status).toBe('ok');
      const deleted = await push<MessageChanged>(anaChat, 'delete_message', {
        message_id: two?.message_id,
      });
      expect(deleted.status).toBe('ok');
      await postMessage(relay, ana, room.id, 'four');

      const resumed = phoenix(relay, ben, 'device-2').channel(`chat:${room.id}`, {
        since_seq: copy.lastSeq,
      });
      const reply = await join<ChatJoinReply>(resumed);
      expect(reply.status).toBe('ok');
      expect(reply.response).toMatchObject({ stream_version: 2, last_seq: 7, has_more: false });
      expect(reply.response.messages.map((m) => [m.seq, m.content])).toEqual([[7, 'four']]);
      expect(reply.response.events.map((e) => [e.seq, e.type, e.message_id])).toEqual([
        [4, 'message_edited', one?.message_id],
        [5, 'message_edited', one?.message_id],
        [6, 'message_deleted', two?.message_id],
      ]);
      reply.response.messages.forEach((m) => copy.addMessage(m));
      reply.response.events.forEach((e) => copy.applyEvent(e));
      expect(copy.contents()).toEqual([
        [1, 'one, edited again'],
        [2, '(deleted)'],
        [3, 'three'],
        [7, 'four'],
      ]);
      // The same state as a fresh reader of the whole stream gets.
      const fresh = new ChatCopy();
      const whole = await join<ChatJoinReply>(
        phoenix(relay, ben, 'device-3').channel(`chat:${room.id}`, { since_seq: 0 }),
      );
      whole.response.messages.forEach((m) => fresh.addMessage(m));
      whole.response.events.forEach((e) => fresh.applyEvent(e));
      expect(fresh.contents()).toEqual(copy.contents());
      // A deleted message keeps no text anywhere, events included.
      expect(JSON.stringify(whole.response)).not.toContain('"two"');
    });

    it('pages events beyond the join reply over HTTP after_seq, from the largest seq received', async () => {
      const relay = await start({ ...(await backend(kind)), limits: { resumeMax: 3 } });
      const ana = await signIn(relay, 'Ana');
      const ben = await signIn(relay, 'Ben');
      const room = await createRoom(relay, ana);
      const sent = [];
      for (const i of range(1, 4)) sent.push(await postMessage(relay, ana, room.id, `m${i}`));
      const copy = new ChatCopy();
      const first = await join<ChatJoinReply>(
        phoenix(relay, ben).channel(`chat:${room.id}`, { since_seq: 0 }),
      );
      expect(first.response.has_more).toBe(true);
      first.response.messages.forEach((m) => copy.addMessage(m));
      expect(copy.lastSeq).toBe(3);

      // Five changes to old messages and one new message: seqs 5..10.
      for (const [index, message] of sent.entries()) {
        const res = await changeOverHttp(relay, ana, 'PATCH', room.id, message.message_id ?? '', {
          content: `m${index + 1} edited`,
          ref_id: `edit-${index}`,
        });
        expect(res.status).toBe(200);
      }
      expect(
        (await changeOverHttp(relay, ana, 'DELETE', room.id, sent[0]?.message_id ?? '')).status,
      ).toBe(200);
      await postMessage(relay, ana, room.id, 'm5');

      const reply = await join<ChatJoinReply>(
        phoenix(relay, ben, 'device-2').channel(`chat:${room.id}`, { since_seq: copy.lastSeq }),
      );
      expect(reply.response).toMatchObject({ last_seq: 10, has_more: true, stream_version: 2 });
      const items = reply.response.messages.length + reply.response.events.length;
      expect(items).toBe(3);
      reply.response.messages.forEach((m) => copy.addMessage(m));
      reply.response.events.forEach((e) => copy.applyEvent(e));
      // Page on over HTTP until has_more is false, each time after the largest seq received.
      let pages = 0;
      for (let more = true; more; pages += 1) {
        expect(pages).toBeLessThan(10);
        const res = await api<HistoryPage>(
          relay,
          ben.token,
          'GET',
          `/api/chats/${room.id}/messages?after_seq=${copy.lastSeq}&limit=2`,
        );
        expect(res.status).toBe(200);
        res.body.messages.forEach((m) => copy.addMessage(m));
        res.body.events.forEach((e) => copy.applyEvent(e));
        more = res.body.has_more;
      }
      expect(copy.lastSeq).toBe(10);
      expect(copy.contents()).toEqual([
        [1, '(deleted)'],
        [2, 'm2 edited'],
        [3, 'm3 edited'],
        [4, 'm4 edited'],
        [10, 'm5'],
      ]);
    });

    it('keeps a connection order of send, edit, send, and answers retries as duplicates', async () => {
      const relay = await start(await backend(kind));
      const ana = await signIn(relay, 'Ana');
      const ben = await signIn(relay, 'Ben');
      const room = await createRoom(relay, ana);
      const target = await postMessage(relay, ana, room.id, 'to be edited');
      const topic = `chat:${room.id}`;
      const watcher = phoenix(relay, ben).channel(topic, {});
      const live: [string, number][] = [];
      watcher.on('receive_message', (m: WireMessage) => {
        live.push(['receive_message', m.seq]);
      });
      for (const name of ['message_edited', 'message_deleted']) {
        watcher.on(name, (e: ChatEvent) => {
          live.push([e.type, e.seq]);
        });
      }
      expect((await join(watcher)).status).toBe('ok');

      // Three frames at once on one connection: stored and numbered in that order.
      const client = await raw(relay, ana, 'ana-raw');
      const { joinRef } = await client.join(topic);
      const refs = [
        client.send(joinRef, topic, 'send_message', { content: 'before', mobile_ref_id: 'b' }),
        client.send(joinRef, topic, 'edit_message', {
          message_id: target.message_id,
          content: 'edited in between',
          ref_id: 'edit-1',
        }),
        client.send(joinRef, topic, 'send_message', { content: 'after', mobile_ref_id: 'a' }),
        client.send(joinRef, topic, 'edit_message', {
          message_id: target.message_id,
          content: 'edited in between',
          ref_id: 'edit-1',
        }),
        client.send(joinRef, topic, 'delete_message', { message_id: target.message_id }),
        client.send(joinRef, topic, 'delete_message', { message_id: target.message_id }),
      ];
      const replies = await Promise.all(refs.map((ref) => client.reply(ref)));
      expect(replies.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
      const seqOf = (response: Record<string, unknown>): unknown =>
        'event' in response ? (response.event as ChatEvent).seq : response.seq;
      expect(replies.map((r) => seqOf(r.response))).toEqual([2, 3, 4, 3, 5, 5]);
      expect(replies.map((r) => r.response.duplicate ?? false)).toEqual([
        false,
        false,
        false,
        true,
        false,
        true,
      ]);
      // Watchers see each change once, in seq order with the messages; retries publish nothing.
      await until(() => live.length >= 4, 5_000, 'the live stream');
      await postMessage(relay, ana, room.id, 'last');
      await until(() => live.length >= 5, 5_000, 'the last message');
      expect(live).toEqual([
        ['receive_message', 2],
        ['message_edited', 3],
        ['receive_message', 4],
        ['message_deleted', 5],
        ['receive_message', 6],
      ]);
      // The asking connection gets the change pushes too (clients dedupe by version_seq).
      await client.waitFor((f) => f[3] === 'message_deleted');
      expect(client.frames.filter((f) => f[3] === 'message_edited')).toHaveLength(1);
    });
  },
);

describe('ephemeral rooms', () => {
  it('deliver live, then their messages leave history and the database', async () => {
    const relay = await start({ sweepIntervalMs: 50 });
    const ana = await signIn(relay, 'Ana');
    const ben = await signIn(relay, 'Ben');
    const room = await createRoom(relay, ana, { ephemeral_ttl_s: 1 });
    expect(room.ephemeral_ttl_s).toBe(1);
    const lasting = await createRoom(relay, ana);

    const benChat = phoenix(relay, ben).channel(`chat:${room.id}`, {});
    const received = collect<WireMessage>(benChat, 'receive_message');
    expect((await join(benChat)).status).toBe('ok');
    const sent = await postMessage(relay, ana, room.id, 'gone soon');
    await postMessage(relay, ana, lasting.id, 'stays');
    await until(() => received.length === 1, 5_000, 'live delivery');
    const message = received[0];
    expect(message).toMatchObject({ content: 'gone soon', message_id: sent.message_id });
    expect(Date.parse(message?.expires_at ?? '') - Date.parse(message?.timestamp ?? '')).toBe(
      1_000,
    );
    expect((await history(relay, ben, room.id)).map((m) => m.content)).toEqual(['gone soon']);

    const db = new Database(joinPath(relay.dataDir, 'parley.db'), {
      readonly: true,
      fileMustExist: true,
    });
    try {
      const count = db.prepare('SELECT count(*) AS n FROM messages WHERE chat_id = ?');
      const rows = (chatId: string): number => (count.get(chatId) as { n: number }).n;
      expect(rows(room.id)).toBe(1);
      // The sweep deletes the row itself, not just hides it.
      await until(() => rows(room.id) === 0, 5_000, 'the sweep to delete the message');
      expect(await history(relay, ben, room.id)).toEqual([]);
      const rejoin = await join<ChatJoinReply>(
        phoenix(relay, ben, 'device-2').channel(`chat:${room.id}`, {}),
      );
      expect(rejoin.response.messages).toEqual([]);
      expect(rows(lasting.id)).toBe(1);
      expect((await history(relay, ana, lasting.id)).map((m) => m.content)).toEqual(['stays']);
    } finally {
      db.close();
    }
  });
});
