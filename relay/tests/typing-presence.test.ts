/**
 * Typing indicators and Phoenix Presence on chat topics, with the official `phoenix` client
 * (its Presence class included) against real relays.
 */
import { Presence, type Channel, type Socket } from 'phoenix';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatInfo, PresenceMeta, TypingUpdate } from '../protocol/events.js';
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
const SHORT_TYPING_TTL_MS = 300;

/** Default typing TTL (6 s): nothing expires while a test runs. */
let relay: TestRelay;
/** Typing entries expire after SHORT_TYPING_TTL_MS. */
let shortTtl: TestRelay;
let userCount = 0;
const sockets: Socket[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  relay = await startTestRelay({ limits: LIMITS });
  shortTtl = await startTestRelay({
    limits: { ...LIMITS, typingTtlMs: SHORT_TYPING_TTL_MS },
  });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  for (const raw of raws.splice(0)) raw.close();
});
afterAll(async () => {
  for (const running of [relay, shortTtl]) {
    await running.close();
    removeDir(running.dataDir);
  }
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

async function createRoom(owner: Session, on: TestRelay = relay): Promise<string> {
  const res = await api<{ chat: ChatInfo }>(on, owner.token, 'POST', '/api/chats', {
    name: `room-${userCount}`,
    visibility: 'public',
  });
  expect(res.status).toBe(201);
  return res.body.chat.id;
}

async function joined(socket: Socket, chatId: string): Promise<Channel> {
  const channel = socket.channel(`chat:${chatId}`, {});
  expect((await join(channel)).status).toBe('ok');
  return channel;
}

function sorted(ids: string[]): string[] {
  return [...ids].sort();
}

describe('typing', () => {
  it('sends typing_update only when the set of typing users changes', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const cy = await newUser('Cy');
    const chatId = await createRoom(ana);
    const anaChat = await joined(phoenix(ana), chatId);
    const benChat = await joined(phoenix(ben), chatId);
    const cyChat = await joined(phoenix(cy), chatId);
    const seenByCy = collect<TypingUpdate>(cyChat, 'typing_update');
    const seenByAna = collect<TypingUpdate>(anaChat, 'typing_update');
    const sets = (updates: TypingUpdate[]): string[][] => updates.map((u) => sorted(u.user_ids));
    const typing = async (channel: Channel, value: boolean): Promise<void> => {
      expect(await push(channel, 'typing', { typing: value })).toEqual({
        status: 'ok',
        response: {},
      });
    };

    await typing(anaChat, true);
    await until(() => seenByCy.length === 1, 5_000, 'first typing_update');
    expect(seenByCy[0]).toEqual({ chat_id: chatId, user_ids: [ana.user.id] });

    // Ana keeps typing: no news. Ben starting is news, and comes right behind.
    await typing(anaChat, true);
    await typing(anaChat, true);
    await typing(benChat, true);
    await until(() => seenByCy.length === 2, 5_000, 'second typing_update');
    expect(sets(seenByCy)).toEqual([[ana.user.id], sorted([ana.user.id, ben.user.id])]);

    // Ben again (nothing), Ana stops (news), Ana stops again (nothing), Ben sends (news).
    await typing(benChat, true);
    await typing(anaChat, false);
    await typing(anaChat, false);
    const sent = await push(benChat, 'send_message', { content: 'done', mobile_ref_id: 't-1' });
    expect(sent.status).toBe('ok');
    await until(() => seenByCy.length === 4, 5_000, 'the update emptying the set');
    const expected = [[ana.user.id], sorted([ana.user.id, ben.user.id]), [ben.user.id], []];
    expect(sets(seenByCy)).toEqual(expected);

    // Everybody in the chat sees the same updates, the typers included.
    await until(() => seenByAna.length === 4, 5_000, 'updates on ana');
    expect(sets(seenByAna)).toEqual(expected);
    // One more change, to show nothing else was still on its way to Cy.
    await typing(anaChat, true);
    await until(() => seenByCy.length === 5, 5_000, 'the last update');
    expect(sets(seenByCy)).toEqual([...expected, [ana.user.id]]);
  });

  it('tells a joiner who is typing right after the join', async () => {
    const ana = await newUser('Ana');
    const dan = await newUser('Dan');
    const chatId = await createRoom(ana);
    const anaChat = await joined(phoenix(ana), chatId);
    expect((await push(anaChat, 'typing', { typing: true })).status).toBe('ok');

    const danChat = phoenix(dan).channel(`chat:${chatId}`, {});
    const seenByDan = collect<TypingUpdate>(danChat, 'typing_update');
    expect((await join(danChat)).status).toBe('ok');
    await until(() => seenByDan.length === 1, 5_000, 'typing_update after join');
    expect(seenByDan[0]).toEqual({ chat_id: chatId, user_ids: [ana.user.id] });
  });

  it('drops a typer whose socket vanished without typing:false', async () => {
    const ana = await newUser('Ana', shortTtl);
    const cy = await newUser('Cy', shortTtl);
    const chatId = await createRoom(ana, shortTtl);
    const cyChat = await joined(phoenix(cy, 'cy', shortTtl), chatId);
    const seenByCy = collect<TypingUpdate>(cyChat, 'typing_update');

    const vanishing = await RawClient.connect(shortTtl, ana.token, 'vanishing');
    raws.push(vanishing);
    const { joinRef } = await vanishing.join(`chat:${chatId}`);
    const reply = await vanishing.call(joinRef, `chat:${chatId}`, 'typing', { typing: true });
    expect(reply.status).toBe('ok');
    await until(() => seenByCy.length === 1, 5_000, 'ana typing');
    expect(seenByCy[0]?.user_ids).toEqual([ana.user.id]);

    // No close frame, no typing:false: the TCP connection is just cut.
    vanishing.socket.terminate();
    await until(() => seenByCy.length === 2, 5_000, 'ana no longer typing');
    expect(seenByCy[1]).toEqual({ chat_id: chatId, user_ids: [] });
  });

  it('drops a typer who stays connected but stops sending, after typingTtlMs', async () => {
    const ben = await newUser('Ben', shortTtl);
    const cy = await newUser('Cy', shortTtl);
    const chatId = await createRoom(ben, shortTtl);
    const benChat = await joined(phoenix(ben, 'ben', shortTtl), chatId);
    const cyChat = await joined(phoenix(cy, 'cy', shortTtl), chatId);
    const seenByCy = collect<TypingUpdate>(cyChat, 'typing_update');

    expect((await push(benChat, 'typing', { typing: true })).status).toBe('ok');
    await until(() => seenByCy.length === 1, 5_000, 'ben typing');
    expect(seenByCy[0]?.user_ids).toEqual([ben.user.id]);
    await until(() => seenByCy.length === 2, 5_000, 'ben typing to expire');
    expect(seenByCy[1]).toEqual({ chat_id: chatId, user_ids: [] });

    // Ben is still there: typing again is news again.
    expect((await push(benChat, 'typing', { typing: true })).status).toBe('ok');
    await until(() => seenByCy.length === 3, 5_000, 'ben typing again');
    expect(seenByCy[2]?.user_ids).toEqual([ben.user.id]);
  });

  it('refuses a malformed typing payload', async () => {
    const ana = await newUser('Ana');
    const chatId = await createRoom(ana);
    const anaChat = await joined(phoenix(ana), chatId);
    const reply = await push(anaChat, 'typing', { typing: 'yes' });
    expect(reply).toMatchObject({ status: 'error', response: { reason: 'invalid_payload' } });
  });
});

describe('presence', () => {
  interface Listed {
    id: string;
    devices: string[];
  }

  /** A Presence on the channel; `list()` gives who is there, with one device per meta. */
  function track(channel: Channel): { list: () => Listed[]; syncs: () => number } {
    const presence = new Presence(channel);
    let syncs = 0;
    presence.onSync(() => {
      syncs += 1;
    });
    return {
      list: () =>
        presence
          .list((id: string, entry: { metas: PresenceMeta[] }) => ({
            id,
            devices: entry.metas.map((meta) => meta.device_unique_id).sort(),
          }))
          .sort((a, b) => a.id.localeCompare(b.id)),
      syncs: () => syncs,
    };
  }

  function listing(entries: Record<string, string[]>): Listed[] {
    return Object.entries(entries)
      .map(([id, devices]) => ({ id, devices: [...devices].sort() }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  it('lists each user with one meta per device and drops them on leave and disconnect', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const cy = await newUser('Cy');
    const chatId = await createRoom(ana);

    const cyChannel = phoenix(cy, 'cy-desk').channel(`chat:${chatId}`, {});
    const seenByCy = track(cyChannel);
    expect((await join(cyChannel)).status).toBe('ok');
    await until(() => seenByCy.syncs() > 0, 5_000, 'presence_state');
    expect(seenByCy.list()).toEqual(listing({ [cy.user.id]: ['cy-desk'] }));

    await joined(phoenix(ana, 'ana-phone'), chatId);
    const anaLaptop = await joined(phoenix(ana, 'ana-laptop'), chatId);
    const benSocket = phoenix(ben, 'ben-desk');
    await joined(benSocket, chatId);
    const everyone = listing({
      [ana.user.id]: ['ana-laptop', 'ana-phone'],
      [ben.user.id]: ['ben-desk'],
      [cy.user.id]: ['cy-desk'],
    });
    await until(
      () => JSON.stringify(seenByCy.list()) === JSON.stringify(everyone),
      5_000,
      'everyone in presence',
    );

    // The metas are what the relay documents, one per joined device.
    const dan = await newUser('Dan');
    const danChannel = phoenix(dan, 'dan-desk').channel(`chat:${chatId}`, {});
    const danPresence = new Presence(danChannel);
    let anaMetas: PresenceMeta[] = [];
    danPresence.onSync(() => {
      danPresence.list((id: string, entry: { metas: PresenceMeta[] }) => {
        if (id === ana.user.id) anaMetas = entry.metas;
      });
    });
    expect((await join(danChannel)).status).toBe('ok');
    await until(() => anaMetas.length === 2, 5_000, "ana's metas on a late joiner");
    for (const meta of anaMetas) {
      expect(Object.keys(meta).sort()).toEqual(
        ['device_unique_id', 'name', 'online_at', 'phx_ref'].sort(),
      );
      expect(meta.name).toBe(ana.user.name);
      expect(Number.isNaN(Date.parse(meta.online_at))).toBe(false);
    }
    expect(new Set(anaMetas.map((meta) => meta.phx_ref)).size).toBe(2);

    // One of Ana's devices leaves the channel: one meta goes, Ana stays.
    await new Promise<void>((resolve) => {
      anaLaptop.leave().receive('ok', () => resolve());
    });
    const withoutLaptop = listing({
      [ana.user.id]: ['ana-phone'],
      [ben.user.id]: ['ben-desk'],
      [cy.user.id]: ['cy-desk'],
      [dan.user.id]: ['dan-desk'],
    });
    await until(
      () => JSON.stringify(seenByCy.list()) === JSON.stringify(withoutLaptop),
      5_000,
      'the laptop meta to go',
    );

    // Ben disconnects: Ben goes.
    benSocket.disconnect();
    const withoutBen = listing({
      [ana.user.id]: ['ana-phone'],
      [cy.user.id]: ['cy-desk'],
      [dan.user.id]: ['dan-desk'],
    });
    await until(
      () => JSON.stringify(seenByCy.list()) === JSON.stringify(withoutBen),
      5_000,
      'ben to go',
    );
    expect(seenByCy.list()).toEqual(withoutBen);
  });
});
