/**
 * Every route of relay/http/http-api.ts against a real relay (real SQLite, real HTTP), in host mode
 * (relay-issued sessions, passcode, sign-in rate limit) and in company mode (HS256 secret,
 * RS256 and EdDSA public keys, a JWKS URL served by a local HTTP server).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import {
  SignJWT,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWTPayload,
  type KeyObject,
} from 'jose';
import type { Channel } from 'phoenix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChatInfo,
  ChatSummary,
  HistoryPage,
  MessageChanged,
  MessageSent,
  WireMessage,
} from '../protocol/events.js';
import {
  RawClient,
  api,
  collect,
  connectPhoenix,
  join,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type Session,
  type TestRelay,
} from '../testing/relay-harness.js';
import { RELAY_VERSION } from '../core/version.js';

interface ErrorBody {
  error: { code: string; message: string };
}

const JWT_SECRET = 'http-api-test-secret-0123456789abcdef';
const MAX_BODY = 4_096;
const MAX_CHARS = 500;

/** A request with full control over headers and body, for what `api()` would never send. */
async function rawRequest(
  relay: { url: string },
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | ReadableStream<Uint8Array> } = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`${relay.url}${path}`, {
    method,
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
}

/** PATCH / DELETE of a message (api() speaks GET and POST only). */
async function change<T = MessageChanged>(
  relay: { url: string },
  token: string,
  method: 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await rawRequest(relay, method, path, {
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: res.body as T };
}

function errorCode(body: unknown): string | undefined {
  return (body as Partial<ErrorBody>).error?.code;
}

async function signToken(
  claims: JWTPayload,
  key: Uint8Array | CryptoKey | KeyObject,
  header: { alg: string; kid?: string },
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ ...header, typ: 'JWT' }).sign(key);
}

const nowS = (): number => Math.floor(Date.now() / 1000);

describe('HTTP API, relay-issued sessions', () => {
  let relay: TestRelay;
  let counter = 0;
  /** A fresh, unique display name per call (the relay is shared by the tests). */
  const fresh = (base: string): string => `${base}-${(counter += 1)}`;

  beforeAll(async () => {
    relay = await startTestRelay({
      jwtSecret: JWT_SECRET,
      limits: {
        maxHttpBodyBytes: MAX_BODY,
        maxMessageChars: MAX_CHARS,
        sessionAttemptsPerMinute: 10_000,
        messageBurst: 1_000,
      },
    });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  async function chatsOf(session: Session, scope = ''): Promise<ChatSummary[]> {
    const res = await api<{ chats: ChatSummary[] }>(
      relay,
      session.token,
      'GET',
      `/api/chats${scope}`,
    );
    expect(res.status).toBe(200);
    return res.body.chats;
  }

  async function createRoom(
    owner: Session,
    visibility: 'public' | 'private',
    extra: { ephemeral_ttl_s?: number } = {},
  ): Promise<ChatInfo> {
    const res = await api<{ chat: ChatInfo }>(relay, owner.token, 'POST', '/api/chats', {
      name: fresh(`${visibility}-room`),
      visibility,
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body.chat;
  }

  async function post(session: Session, chatId: string, content: string, ref: string) {
    return api<MessageSent & { message: WireMessage; duplicate?: boolean }>(
      relay,
      session.token,
      'POST',
      `/api/chats/${chatId}/messages`,
      { content, mobile_ref_id: ref },
    );
  }

  async function userCount(session: Session): Promise<number> {
    const res = await api<{ users: unknown[] }>(relay, session.token, 'GET', '/api/users');
    return res.body.users.length;
  }

  describe('POST /api/session', () => {
    it('creates a user, returns a working token and puts the user in the main room', async () => {
      const name = fresh('Ana');
      const res = await api<Session>(relay, null, 'POST', '/api/session', {
        name,
        device_unique_id: 'laptop',
      });
      expect(res.status).toBe(201);
      expect(res.body.user.name).toBe(name);
      expect(res.body.token.split('.')).toHaveLength(3);
      const me = await api(relay, res.body.token, 'GET', '/api/me');
      expect(me).toEqual({ status: 200, body: { id: res.body.user.id, name } });
      const chats = await chatsOf(res.body);
      expect(chats.filter((chat) => chat.is_main).map((chat) => chat.name)).toEqual(['general']);
    });

    it('refuses an existing name, in any case, without that user token (409 name_taken)', async () => {
      const name = fresh('Dora');
      const dora = await signIn(relay, name, { device: 'phone' });
      const other = await signIn(relay, fresh('Eve'));
      const before = await userCount(dora);
      // Fullwidth letters and digits are the same name after NFKC normalisation.
      const fullwidth = [...name]
        .map((char) => String.fromCharCode(char.charCodeAt(0) + 0xfee0))
        .join('');
      for (const attempt of [name, name.toLowerCase(), `  ${name.toUpperCase()}  `, fullwidth]) {
        const anonymous = await api(relay, null, 'POST', '/api/session', {
          name: attempt,
          device_unique_id: 'tablet',
        });
        expect(anonymous.status).toBe(409);
        expect(errorCode(anonymous.body)).toBe('name_taken');
        // Another user's valid token does not unlock the name either.
        const impostor = await api(relay, other.token, 'POST', '/api/session', {
          name: attempt,
          device_unique_id: 'tablet',
        });
        expect(impostor.status).toBe(409);
        expect(errorCode(impostor.body)).toBe('name_taken');
      }
      expect(await userCount(dora)).toBe(before);
    });

    it('gives a new device of the same user a new token when it shows that user token', async () => {
      const name = fresh('Finn');
      const finn = await signIn(relay, name, { device: 'phone' });
      const second = await api<Session>(relay, finn.token, 'POST', '/api/session', {
        name: name.toUpperCase(),
        device_unique_id: 'desktop',
      });
      expect(second.status).toBe(201);
      expect(second.body.user).toEqual(finn.user);
      expect(second.body.token).not.toBe(finn.token);
      const me = await api(relay, second.body.token, 'GET', '/api/me');
      expect(me.body).toEqual(finn.user);
    });

    it('accepts an expired token of that user as proof of the name, never as access', async () => {
      const name = fresh('Gia');
      const gia = await signIn(relay, name);
      const key = new TextEncoder().encode(JWT_SECRET);
      const claims = { name, dev: 'old', sub: gia.user.id, iss: 'parley-relay' };
      const expired = await signToken({ ...claims, iat: nowS() - 7200, exp: nowS() - 3600 }, key, {
        alg: 'HS256',
      });
      expect((await api(relay, expired, 'GET', '/api/me')).status).toBe(401);
      const again = await api<Session>(relay, expired, 'POST', '/api/session', {
        name,
        device_unique_id: 'old',
      });
      expect(again.status).toBe(201);
      expect(again.body.user).toEqual(gia.user);
      // A token with another key, expired or not, proves nothing.
      const foreign = await signToken(
        { ...claims, exp: nowS() - 3600 },
        new TextEncoder().encode('another-secret-0123456789abcdefghij'),
        { alg: 'HS256' },
      );
      const refused = await api(relay, foreign, 'POST', '/api/session', {
        name,
        device_unique_id: 'x',
      });
      expect(refused.status).toBe(409);
    });

    it('rejects invalid names with 400 invalid_name and creates nobody', async () => {
      const witness = await signIn(relay, fresh('Witness'));
      const before = await userCount(witness);
      for (const name of ['', '   ', 'x'.repeat(65), 'bell\u0007', 'new\nline', '\u200e']) {
        const res = await api(relay, null, 'POST', '/api/session', {
          name,
          device_unique_id: 'd',
        });
        expect(res.status, JSON.stringify(name)).toBe(400);
        expect(errorCode(res.body), JSON.stringify(name)).toBe('invalid_name');
      }
      // 64 characters is the limit, not over it.
      const longest = await api(relay, null, 'POST', '/api/session', {
        name: `${fresh('L')}-`.padEnd(64, 'x'),
        device_unique_id: 'd',
      });
      expect(longest.status).toBe(201);
      for (const body of [{ name: 42, device_unique_id: 'd' }, { name: 'NoDevice' }, []]) {
        const res = await api(relay, null, 'POST', '/api/session', body);
        expect(res.status).toBe(400);
        expect(errorCode(res.body)).toBe('invalid_payload');
      }
      expect(await userCount(witness)).toBe(before + 1);
    });
  });

  it('GET /api/me and /api/users answer with ids and names only', async () => {
    const gus = await signIn(relay, fresh('Gus'));
    const hal = await signIn(relay, fresh('Hal'));
    expect((await api(relay, gus.token, 'GET', '/api/me')).body).toEqual(gus.user);
    const users = await api<{ users: Record<string, unknown>[] }>(
      relay,
      hal.token,
      'GET',
      '/api/users',
    );
    expect(users.status).toBe(200);
    expect(users.body.users).toContainEqual(gus.user);
    expect(users.body.users).toContainEqual(hal.user);
    for (const user of users.body.users) expect(Object.keys(user).sort()).toEqual(['id', 'name']);
  });

  it('GET /api/chats reports unread_count, read_seq and last_message per chat', async () => {
    const ana = await signIn(relay, fresh('Ana'));
    const ben = await signIn(relay, fresh('Ben'));
    const room = await createRoom(ana, 'public');
    expect((await api(relay, ben.token, 'POST', `/api/chats/${room.id}/join`)).status).toBe(200);
    for (const n of [1, 2, 3])
      expect((await post(ana, room.id, `m${n}`, `u${n}`)).status).toBe(201);

    const bens = (await chatsOf(ben)).find((chat) => chat.id === room.id);
    expect(bens).toMatchObject({ last_seq: 3, read_seq: 0, unread_count: 3 });
    expect(bens?.last_message).toMatchObject({ seq: 3, content: 'm3', sender_id: ana.user.id });
    // One's own messages are read.
    const anas = (await chatsOf(ana)).find((chat) => chat.id === room.id);
    expect(anas).toMatchObject({ read_seq: 3, unread_count: 0 });

    const read = await api(relay, ben.token, 'POST', `/api/chats/${room.id}/read`, { seq: 2 });
    expect(read).toEqual({ status: 200, body: { read_seq: 2 } });
    expect((await chatsOf(ben)).find((chat) => chat.id === room.id)).toMatchObject({
      read_seq: 2,
      unread_count: 1,
    });
    // Never backwards, never past last_seq.
    const back = await api(relay, ben.token, 'POST', `/api/chats/${room.id}/read`, { seq: 1 });
    expect(back.body).toEqual({ read_seq: 2 });
    const past = await api(relay, ben.token, 'POST', `/api/chats/${room.id}/read`, { seq: 99 });
    expect(past.body).toEqual({ read_seq: 3 });
    expect((await chatsOf(ben)).find((chat) => chat.id === room.id)?.unread_count).toBe(0);

    for (const body of [{ seq: -1 }, { seq: 'x' }, { seq: 1.5 }, {}]) {
      const bad = await api(relay, ben.token, 'POST', `/api/chats/${room.id}/read`, body);
      expect(bad.status).toBe(400);
      expect(errorCode(bad.body)).toBe('invalid_payload');
    }
    const outsider = await signIn(relay, fresh('Out'));
    const denied = await api(relay, outsider.token, 'POST', `/api/chats/${room.id}/read`, {
      seq: 1,
    });
    expect(denied.status).toBe(403);
    expect(errorCode(denied.body)).toBe('not_member');
  });

  it('GET /api/chats?scope=public lists public rooms only, joined or not', async () => {
    const ana = await signIn(relay, fresh('Ana'));
    const ben = await signIn(relay, fresh('Ben'));
    const open = await createRoom(ana, 'public');
    const closed = await createRoom(ana, 'private');
    const dm = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/dms', {
      user_id: ben.user.id,
    });
    const listed = await chatsOf(ben, '?scope=public');
    const ids = listed.map((chat) => chat.id);
    expect(ids).toContain(open.id);
    expect(ids).not.toContain(closed.id);
    expect(ids).not.toContain(dm.body.chat.id);
    expect(listed.every((chat) => chat.kind === 'room' && chat.visibility === 'public')).toBe(true);
    // Listing does not join.
    expect((await chatsOf(ben)).map((chat) => chat.id)).not.toContain(open.id);
  });

  describe('POST /api/chats', () => {
    it('creates public, private and ephemeral rooms with the creator as member', async () => {
      const ana = await signIn(relay, fresh('Ana'));
      for (const [visibility, ttl] of [
        ['public', null],
        ['private', null],
        ['private', 60],
      ] as const) {
        const chat = await createRoom(
          ana,
          visibility,
          ttl === null ? {} : { ephemeral_ttl_s: ttl },
        );
        expect(chat).toMatchObject({
          kind: 'room',
          visibility,
          ephemeral_ttl_s: ttl,
          is_main: false,
          dm_user_ids: [],
          last_seq: 0,
        });
        const detail = await api<{ chat: ChatInfo; members: { id: string }[] }>(
          relay,
          ana.token,
          'GET',
          `/api/chats/${chat.id}`,
        );
        expect(detail.status).toBe(200);
        expect(detail.body.members).toEqual([ana.user]);
      }
      const ephemeral = (await chatsOf(ana)).filter((chat) => chat.ephemeral_ttl_s === 60);
      expect(ephemeral).toHaveLength(1);
      const sent = await post(ana, ephemeral[0]?.id ?? '', 'vanishing', 'e1');
      expect(sent.status).toBe(201);
      const expires = Date.parse(sent.body.message.expires_at ?? '');
      expect(expires - Date.parse(sent.body.message.timestamp)).toBe(60_000);
    });

    it('rejects invalid bodies with 400 invalid_payload and creates nothing', async () => {
      const ana = await signIn(relay, fresh('Ana'));
      const publicBefore = (await chatsOf(ana, '?scope=public')).length;
      const mineBefore = (await chatsOf(ana)).length;
      const bodies: unknown[] = [
        {},
        { visibility: 'public' },
        { name: '', visibility: 'public' },
        { name: '    ', visibility: 'public' },
        { name: 'x'.repeat(81), visibility: 'public' },
        { name: 'ok', visibility: 'secret' },
        { name: 'ok', visibility: 'public', ephemeral_ttl_s: 0 },
        { name: 'ok', visibility: 'public', ephemeral_ttl_s: 1.5 },
        { name: 'ok', visibility: 'public', ephemeral_ttl_s: '60' },
        { name: 'ok', visibility: 'public', ephemeral_ttl_s: 30 * 24 * 3600 + 1 },
        { name: 7, visibility: 'public' },
        ['ok', 'public'],
        'ok',
        null,
      ];
      for (const body of bodies) {
        const res = await api(relay, ana.token, 'POST', '/api/chats', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(errorCode(res.body), JSON.stringify(body)).toBe('invalid_payload');
      }
      expect((await chatsOf(ana, '?scope=public')).length).toBe(publicBefore);
      expect((await chatsOf(ana)).length).toBe(mineBefore);
    });
  });

  it('GET /api/chats/:id answers members only', async () => {
    const ana = await signIn(relay, fresh('Ana'));
    const ben = await signIn(relay, fresh('Ben'));
    const open = await createRoom(ana, 'public');
    const closed = await createRoom(ana, 'private');
    const mine = await api<{ chat: ChatInfo; members: unknown[] }>(
      relay,
      ana.token,
      'GET',
      `/api/chats/${open.id}`,
    );
    expect(mine.status).toBe(200);
    expect(mine.body.chat).toEqual(open);
    for (const chat of [open, closed]) {
      const res = await api(relay, ben.token, 'GET', `/api/chats/${chat.id}`);
      expect(res.status).toBe(403);
      expect(errorCode(res.body)).toBe('not_member');
    }
    // Looking did not join the public room.
    expect((await chatsOf(ben)).map((chat) => chat.id)).not.toContain(open.id);
    const unknown = await api(relay, ana.token, 'GET', '/api/chats/no-such-chat');
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown.body)).toBe('not_found');
    const badId = await api(relay, ana.token, 'GET', '/api/chats/bad.id');
    expect(badId.status).toBe(404);
  });

  it('POST join, leave and members follow the room rules', async () => {
    const ana = await signIn(relay, fresh('Ana'));
    const ben = await signIn(relay, fresh('Ben'));
    const carl = await signIn(relay, fresh('Carl'));
    const open = await createRoom(ana, 'public');
    const closed = await createRoom(ana, 'private');

    const joined = await api<{ chat: ChatInfo }>(
      relay,
      ben.token,
      'POST',
      `/api/chats/${open.id}/join`,
    );
    expect(joined.status).toBe(200);
    expect(joined.body.chat.id).toBe(open.id);
    expect((await api(relay, ben.token, 'GET', `/api/chats/${open.id}`)).status).toBe(200);
    const left = await api(relay, ben.token, 'POST', `/api/chats/${open.id}/leave`);
    expect(left).toEqual({ status: 200, body: { ok: true } });
    expect((await api(relay, ben.token, 'GET', `/api/chats/${open.id}`)).status).toBe(403);
    const leftAgain = await api(relay, ben.token, 'POST', `/api/chats/${open.id}/leave`);
    expect(leftAgain.status).toBe(403);
    expect(errorCode(leftAgain.body)).toBe('not_member');

    const privateJoin = await api(relay, ben.token, 'POST', `/api/chats/${closed.id}/join`);
    expect(privateJoin.status).toBe(403);
    expect(errorCode(privateJoin.body)).toBe('not_member');
    const unknownJoin = await api(relay, ben.token, 'POST', '/api/chats/nowhere/join');
    expect(unknownJoin.status).toBe(404);

    // Carl is not a member: he cannot invite himself or anyone.
    const byOutsider = await api(relay, carl.token, 'POST', `/api/chats/${closed.id}/members`, {
      user_id: carl.user.id,
    });
    expect(byOutsider.status).toBe(403);
    expect(errorCode(byOutsider.body)).toBe('not_member');
    const added = await api(relay, ana.token, 'POST', `/api/chats/${closed.id}/members`, {
      user_id: ben.user.id,
    });
    expect(added.status).toBe(200);
    const detail = await api<{ members: { id: string }[] }>(
      relay,
      ben.token,
      'GET',
      `/api/chats/${closed.id}`,
    );
    expect(detail.body.members.map((member) => member.id).sort()).toEqual(
      [ana.user.id, ben.user.id].sort(),
    );
    // Any member may add: Ben adds Carl.
    const byMember = await api(relay, ben.token, 'POST', `/api/chats/${closed.id}/members`, {
      user_id: carl.user.id,
    });
    expect(byMember.status).toBe(200);
    const unknownUser = await api(relay, ana.token, 'POST', `/api/chats/${closed.id}/members`, {
      user_id: 'nobody',
    });
    expect(unknownUser.status).toBe(404);
    const badBody = await api(relay, ana.token, 'POST', `/api/chats/${closed.id}/members`, {});
    expect(badBody.status).toBe(400);
    expect(errorCode(badBody.body)).toBe('invalid_payload');

    const dm = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/dms', {
      user_id: ben.user.id,
    });
    const dmAdd = await api(relay, ana.token, 'POST', `/api/chats/${dm.body.chat.id}/members`, {
      user_id: carl.user.id,
    });
    expect(dmAdd.status).toBe(400);
    expect(errorCode(dmAdd.body)).toBe('invalid_payload');
    const dmLeave = await api(relay, ana.token, 'POST', `/api/chats/${dm.body.chat.id}/leave`);
    expect(dmLeave.status).toBe(400);
    expect(errorCode(dmLeave.body)).toBe('invalid_payload');
    expect((await api(relay, carl.token, 'GET', `/api/chats/${dm.body.chat.id}`)).status).toBe(403);
  });

  it('POST /api/dms gets or creates the one DM between two users', async () => {
    const ana = await signIn(relay, fresh('Ana'));
    const ben = await signIn(relay, fresh('Ben'));
    const first = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/dms', {
      user_id: ben.user.id,
    });
    expect(first.status).toBe(200);
    expect(first.body.chat).toMatchObject({ kind: 'dm', visibility: 'private', is_main: false });
    expect([...first.body.chat.dm_user_ids].sort()).toEqual([ana.user.id, ben.user.id].sort());
    const again = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/dms', {
      user_id: ben.user.id,
    });
    const reverse = await api<{ chat: ChatInfo }>(relay, ben.token, 'POST', '/api/dms', {
      user_id: ana.user.id,
    });
    expect(again.body.chat.id).toBe(first.body.chat.id);
    expect(reverse.body.chat.id).toBe(first.body.chat.id);
    expect((await chatsOf(ben)).filter((chat) => chat.kind === 'dm')).toHaveLength(1);

    const self = await api(relay, ana.token, 'POST', '/api/dms', { user_id: ana.user.id });
    expect(self.status).toBe(400);
    expect(errorCode(self.body)).toBe('dm_with_self');
    const unknown = await api(relay, ana.token, 'POST', '/api/dms', { user_id: 'nobody' });
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown.body)).toBe('not_found');
    for (const body of [{}, { user_id: '' }, { user_id: 5 }]) {
      const bad = await api(relay, ana.token, 'POST', '/api/dms', body);
      expect(bad.status).toBe(400);
      expect(errorCode(bad.body)).toBe('invalid_payload');
    }
    expect((await chatsOf(ana)).filter((chat) => chat.kind === 'dm')).toHaveLength(1);
  });

  it('GET messages pages with before_seq, after_seq, limit and has_more', async () => {
    const ana = await signIn(relay, fresh('Ana'));
    const room = await createRoom(ana, 'private');
    for (let n = 1; n <= 10; n += 1) {
      expect((await post(ana, room.id, `message ${n}`, `p${n}`)).status).toBe(201);
    }
    const page = async (query: string) => {
      const res = await api<{ messages: WireMessage[]; has_more: boolean }>(
        relay,
        ana.token,
        'GET',
        `/api/chats/${room.id}/messages${query}`,
      );
      expect(res.status, query).toBe(200);
      return { seqs: res.body.messages.map((m) => m.seq), hasMore: res.body.has_more };
    };
    expect(await page('')).toEqual({ seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], hasMore: false });
    expect(await page('?limit=3')).toEqual({ seqs: [8, 9, 10], hasMore: true });
    expect(await page('?before_seq=8&limit=3')).toEqual({ seqs: [5, 6, 7], hasMore: true });
    expect(await page('?before_seq=4&limit=3')).toEqual({ seqs: [1, 2, 3], hasMore: false });
    expect(await page('?before_seq=1')).toEqual({ seqs: [], hasMore: false });
    expect(await page('?after_seq=0&limit=4')).toEqual({ seqs: [1, 2, 3, 4], hasMore: true });
    expect(await page('?after_seq=7&limit=2')).toEqual({ seqs: [8, 9], hasMore: true });
    expect(await page('?after_seq=8&limit=2')).toEqual({ seqs: [9, 10], hasMore: false });
    expect(await page('?after_seq=10')).toEqual({ seqs: [], hasMore: false });
    for (const query of ['', '?before_seq=5', '?after_seq=3']) {
      const res = await api<HistoryPage>(
        relay,
        ana.token,
        'GET',
        `/api/chats/${room.id}/messages${query}`,
      );
      expect(res.body.events, query).toEqual([]);
    }

    const full = await api<{ messages: WireMessage[] }>(
      relay,
      ana.token,
      'GET',
      `/api/chats/${room.id}/messages?after_seq=9`,
    );
    expect(full.body.messages).toEqual([
      expect.objectContaining({
        chat_id: room.id,
        seq: 10,
        content: 'message 10',
        sender_id: ana.user.id,
        sender_name: ana.user.name,
        mobile_ref_id: 'p10',
        expires_at: null,
      }),
    ]);

    for (const query of [
      '?limit=0',
      '?limit=501',
      '?limit=abc',
      '?before_seq=0',
      '?after_seq=-1',
    ]) {
      const res = await api(relay, ana.token, 'GET', `/api/chats/${room.id}/messages${query}`);
      expect(res.status, query).toBe(400);
      expect(errorCode(res.body), query).toBe('invalid_payload');
    }
    const outsider = await signIn(relay, fresh('Out'));
    const denied = await api(relay, outsider.token, 'GET', `/api/chats/${room.id}/messages`);
    expect(denied.status).toBe(403);
    expect(errorCode(denied.body)).toBe('not_member');
  });

  it('GET /api/search finds words in the chats of the caller only, newest first, page by page', async () => {
    const [ana, ben] = [await signIn(relay, fresh('Ana')), await signIn(relay, fresh('Ben'))];
    const open = await createRoom(ana, 'public');
    const closed = await createRoom(ana, 'private');
    expect((await api(relay, ben.token, 'POST', `/api/chats/${open.id}/join`)).status).toBe(200);
    // A word no other test posts, so the shared relay's other messages cannot match.
    const word = `kumquat${counter}`;
    for (let n = 1; n <= 5; n += 1)
      expect((await post(ana, open.id, `${word} open ${n}`, `s${n}`)).status).toBe(201);
    expect((await post(ana, closed.id, `${word.toUpperCase()} closed`, 's6')).status).toBe(201);

    type Page = { messages: WireMessage[]; next: string | null };
    const search = async (session: Session, query: string) => {
      const res = await api<Page>(relay, session.token, 'GET', `/api/search?${query}`);
      expect(res.status, query).toBe(200);
      return { contents: res.body.messages.map((m) => m.content), next: res.body.next };
    };
    const q = `q=${encodeURIComponent(`${word.slice(0, -1)} OPEN`)}`;
    const first = await search(ana, `${q}&limit=3`);
    expect(first.contents).toEqual([`${word} open 5`, `${word} open 4`, `${word} open 3`]);
    expect(first.next).not.toBeNull();
    const second = await search(ana, `${q}&limit=3&before=${first.next ?? ''}`);
    expect(second).toEqual({ contents: [`${word} open 2`, `${word} open 1`], next: null });

    // Database query syntax is only words here: FTS5's OR and NEAR, quotes, stars, parentheses.
    expect((await search(ana, `q=${encodeURIComponent(`"${word}" OR NEAR(*`)}`)).contents).toEqual(
      [],
    );
    expect((await search(ana, `q=${word}&limit=1`)).contents).toEqual([
      `${word.toUpperCase()} closed`,
    ]);
    expect((await search(ben, `q=${word}`)).contents).toHaveLength(5);
    expect((await search(ben, `q=${word}+closed`)).contents).toEqual([]);
    expect((await search(ana, `q=${word}&chat_id=${open.id}`)).contents).toHaveLength(5);
    const [hit] = (
      await api<Page>(relay, ana.token, 'GET', `/api/search?q=${word}&chat_id=${closed.id}`)
    ).body.messages;
    expect(hit).toMatchObject({ chat_id: closed.id, seq: 1, sender_name: ana.user.name });

    const denied = await api(relay, ben.token, 'GET', `/api/search?q=${word}&chat_id=${closed.id}`);
    expect(denied.status).toBe(403);
    expect(errorCode(denied.body)).toBe('not_member');
    expect((await api(relay, ben.token, 'POST', `/api/chats/${open.id}/leave`)).status).toBe(200);
    expect((await search(ben, `q=${word}`)).contents).toEqual([]);

    for (const query of [
      '',
      'q=',
      'q=%22%20*%20(%20)%20-%20%5E',
      `q=${'a'.repeat(257)}`,
      `q=${word}&limit=0`,
      `q=${word}&limit=51`,
      `q=${word}&before=abc`,
      `q=${word}&before=%27%3B%20DROP`,
      `q=${word}&chat_id=`,
    ]) {
      const res = await api(relay, ana.token, 'GET', `/api/search?${query}`);
      expect(res.status, query).toBe(400);
      expect(errorCode(res.body), query).toBe('invalid_payload');
    }
    expect((await api(relay, '', 'GET', `/api/search?q=${word}`)).status).toBe(401);
  });

  describe('POST /api/chats/:id/messages', () => {
    let ana: Session;
    let ben: Session;
    let room: ChatInfo;
    beforeAll(async () => {
      ana = await signIn(relay, fresh('Ana'));
      ben = await signIn(relay, fresh('Ben'));
      room = await createRoom(ana, 'public');
      await api(relay, ben.token, 'POST', `/api/chats/${room.id}/join`);
    });

    it('stores once: 201 the first time, 200 with duplicate:true for a repeated mobile_ref_id, and socket clients receive it once', async () => {
      const socket = connectPhoenix(relay, ben.token);
      try {
        const channel: Channel = socket.channel(`chat:${room.id}`, {});
        const received = collect<WireMessage>(channel, 'receive_message');
        expect((await join(channel)).status).toBe('ok');

        const first = await post(ana, room.id, 'hello over http', 'http-1');
        expect(first.status).toBe(201);
        expect(first.body).toMatchObject({
          mobile_ref_id: 'http-1',
          status: 'sent',
          chat_id: room.id,
          seq: 1,
        });
        expect(first.body.duplicate).toBeUndefined();
        expect(first.body.message).toMatchObject({
          message_id: first.body.message_id,
          seq: 1,
          content: 'hello over http',
          sender_id: ana.user.id,
          timestamp: first.body.timestamp,
        });

        const again = await post(ana, room.id, 'hello over http (resent)', 'http-1');
        expect(again.status).toBe(200);
        expect(again.body).toMatchObject({
          duplicate: true,
          message_id: first.body.message_id,
          seq: 1,
          timestamp: first.body.timestamp,
        });
        expect(again.body.message.content).toBe('hello over http');

        // Another user may use the same mobile_ref_id: it is per sender.
        const bens = await post(ben, room.id, 'same ref, other sender', 'http-1');
        expect(bens.status).toBe(201);
        expect(bens.body.seq).toBe(2);

        await until(() => received.length >= 2, 5_000, 'two receive_message');
        expect(received.map((m) => [m.seq, m.content])).toEqual([
          [1, 'hello over http'],
          [2, 'same ref, other sender'],
        ]);
        // The duplicate is never broadcast: a later message arrives right after the first two.
        expect((await post(ana, room.id, 'third', 'http-2')).body.seq).toBe(3);
        await until(() => received.length >= 3, 5_000, 'third receive_message');
        expect(received.map((m) => m.seq)).toEqual([1, 2, 3]);
      } finally {
        socket.disconnect();
      }
    });

    it('refuses bad sends with the same codes as the socket and stores nothing', async () => {
      const lastSeq = async (): Promise<number> =>
        (await api<{ chat: ChatInfo }>(relay, ana.token, 'GET', `/api/chats/${room.id}`)).body.chat
          .last_seq;
      const before = await lastSeq();
      const cases: [unknown, number, string][] = [
        [{ content: '', mobile_ref_id: 'e1' }, 400, 'empty_message'],
        [{ content: ' \n\t ', mobile_ref_id: 'e2' }, 400, 'empty_message'],
        [{ content: 'x'.repeat(MAX_CHARS + 1), mobile_ref_id: 'e3' }, 400, 'message_too_long'],
        [{ content: 'no ref' }, 400, 'invalid_payload'],
        [{ content: 'empty ref', mobile_ref_id: '' }, 400, 'invalid_payload'],
        [{ content: 5, mobile_ref_id: 'e4' }, 400, 'invalid_payload'],
        [{ content: 'long ref', mobile_ref_id: 'r'.repeat(129) }, 400, 'invalid_payload'],
      ];
      for (const [body, status, code] of cases) {
        const res = await api(relay, ana.token, 'POST', `/api/chats/${room.id}/messages`, body);
        expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
        expect(errorCode(res.body)).toBe(code);
      }
      // Exactly maxMessageChars is fine.
      const longest = await post(ana, room.id, 'y'.repeat(MAX_CHARS), 'e-max');
      expect(longest.status).toBe(201);
      expect(await lastSeq()).toBe(before + 1);

      const closed = await createRoom(ana, 'private');
      const outsider = await post(ben, closed.id, 'let me in', 'o1');
      expect(outsider.status).toBe(403);
      expect(errorCode(outsider.body)).toBe('not_member');
      const unknown = await post(ana, 'no-such-chat', 'hello?', 'u1');
      expect(unknown.status).toBe(404);
      expect(errorCode(unknown.body)).toBe('not_found');
      const history = await api<{ messages: WireMessage[] }>(
        relay,
        ana.token,
        'GET',
        `/api/chats/${closed.id}/messages`,
      );
      expect(history.body.messages).toEqual([]);
    });
  });

  describe('PATCH and DELETE /api/chats/:id/messages/:message_id', () => {
    let ana: Session;
    let ben: Session;
    let room: ChatInfo;
    beforeAll(async () => {
      ana = await signIn(relay, fresh('Ana'));
      ben = await signIn(relay, fresh('Ben'));
      room = await createRoom(ana, 'public');
      await api(relay, ben.token, 'POST', `/api/chats/${room.id}/join`);
    });

    const lastSeq = async (chatId: string): Promise<number> =>
      (await api<{ chat: ChatInfo }>(relay, ana.token, 'GET', `/api/chats/${chatId}`)).body.chat
        .last_seq;
    const path = (chatId: string, messageId: string): string =>
      `/api/chats/${chatId}/messages/${messageId}`;
    async function posted(session: Session, chatId: string, content: string): Promise<WireMessage> {
      const res = await post(session, chatId, content, `ref-${fresh('m')}`);
      expect(res.status).toBe(201);
      return res.body.message;
    }
    async function historyAfter(chatId: string, afterSeq: number): Promise<HistoryPage> {
      const res = await api<HistoryPage>(
        relay,
        ana.token,
        'GET',
        `/api/chats/${chatId}/messages?after_seq=${afterSeq}`,
      );
      expect(res.status).toBe(200);
      return res.body;
    }

    it('edits: 200 MessageChanged with the next seq, once per ref_id, served in the stream', async () => {
      const original = await posted(ana, room.id, 'frist post');
      const edited = await change(relay, ana.token, 'PATCH', path(room.id, original.message_id), {
        content: 'first post',
        ref_id: 'fix-typo',
      });
      expect(edited.status).toBe(200);
      const seq = original.seq + 1;
      expect(edited.body.duplicate).toBe(false);
      expect(edited.body.event).toMatchObject({
        type: 'message_edited',
        chat_id: room.id,
        seq,
        message_id: original.message_id,
        message_seq: original.seq,
        sender_id: ana.user.id,
        content: 'first post',
      });
      expect(edited.body.message).toMatchObject({
        message_id: original.message_id,
        seq: original.seq,
        content: 'first post',
        version_seq: seq,
        deleted_at: null,
        mobile_ref_id: original.mobile_ref_id,
      });
      expect(edited.body.message.edited_at).toEqual(expect.any(String));
      expect(await lastSeq(room.id)).toBe(seq);

      // A retry with the same ref_id (whatever its content) is the first result, no new seq.
      const retried = await change(relay, ana.token, 'PATCH', path(room.id, original.message_id), {
        content: 'first post',
        ref_id: 'fix-typo',
      });
      expect(retried.status).toBe(200);
      expect(retried.body).toEqual({ ...edited.body, duplicate: true });
      expect(await lastSeq(room.id)).toBe(seq);

      // Unchanged content with a new ref_id is still an event (simple and predictable).
      const same = await change(relay, ana.token, 'PATCH', path(room.id, original.message_id), {
        content: 'first post',
        ref_id: 'again',
      });
      expect(same.status).toBe(200);
      expect(same.body.event.seq).toBe(seq + 1);

      // The stream after the message: its edits, and the message in its current state.
      const page = await historyAfter(room.id, original.seq - 1);
      expect(page.messages.map((m) => [m.seq, m.content, m.version_seq])).toEqual([
        [original.seq, 'first post', seq + 1],
      ]);
      expect(page.events.map((e) => [e.type, e.seq])).toEqual([
        ['message_edited', seq],
        ['message_edited', seq + 1],
      ]);
      // Only the events after an older since: a client that has the message gets the changes.
      const later = await historyAfter(room.id, original.seq);
      expect(later.messages).toEqual([]);
      expect(later.events.map((e) => e.seq)).toEqual([seq, seq + 1]);
      // Backward pages are current state only.
      const newest = await api<HistoryPage>(
        relay,
        ana.token,
        'GET',
        `/api/chats/${room.id}/messages`,
      );
      expect(newest.body.events).toEqual([]);
      expect(newest.body.messages.find((m) => m.seq === original.seq)?.content).toBe('first post');
    });

    it('deletes: 200 with a tombstone, a repeat is a duplicate, an edit after it is 409', async () => {
      const original = await posted(ana, room.id, 'regrettable');
      const deleted = await change(relay, ana.token, 'DELETE', path(room.id, original.message_id));
      expect(deleted.status).toBe(200);
      const seq = original.seq + 1;
      expect(deleted.body.duplicate).toBe(false);
      expect(deleted.body.event).toMatchObject({
        type: 'message_deleted',
        chat_id: room.id,
        seq,
        message_id: original.message_id,
        message_seq: original.seq,
        sender_id: ana.user.id,
        deleted_by: ana.user.id,
      });
      expect(deleted.body.message).toMatchObject({
        message_id: original.message_id,
        content: '',
        version_seq: seq,
      });
      expect(deleted.body.message.deleted_at).toEqual(expect.any(String));

      const again = await change(relay, ana.token, 'DELETE', path(room.id, original.message_id));
      expect(again.status).toBe(200);
      expect(again.body.duplicate).toBe(true);
      expect(again.body.event.seq).toBe(seq);
      expect(await lastSeq(room.id)).toBe(seq);

      const edit = await change(relay, ana.token, 'PATCH', path(room.id, original.message_id), {
        content: 'back again',
        ref_id: 'too-late',
      });
      expect(edit.status).toBe(409);
      expect(errorCode(edit.body)).toBe('message_deleted');
      expect(await lastSeq(room.id)).toBe(seq);

      const page = await historyAfter(room.id, original.seq - 1);
      expect(page.messages.map((m) => [m.content, m.deleted_at !== null])).toEqual([['', true]]);
      expect(page.events.map((e) => e.type)).toEqual(['message_deleted']);
    });

    it('answers each refusal with its code and status, and changes nothing', async () => {
      const anas = await posted(ana, room.id, 'ana wrote this');
      const closed = await createRoom(ana, 'private');
      const secret = await posted(ana, closed.id, 'in the private room');
      const before = await lastSeq(room.id);
      const beforeClosed = await lastSeq(closed.id);
      const edit = (content: string) => ({ content, ref_id: fresh('ref') });
      const cases: [string, Session, 'PATCH' | 'DELETE', string, unknown, number, string][] = [
        [
          'other user edits',
          ben,
          'PATCH',
          path(room.id, anas.message_id),
          edit('mine now'),
          403,
          'forbidden',
        ],
        [
          'other user deletes',
          ben,
          'DELETE',
          path(room.id, anas.message_id),
          undefined,
          403,
          'forbidden',
        ],
        [
          'unknown message',
          ana,
          'PATCH',
          path(room.id, 'no-such-message'),
          edit('x'),
          404,
          'not_found',
        ],
        [
          'unknown message (delete)',
          ana,
          'DELETE',
          path(room.id, 'no-such-message'),
          undefined,
          404,
          'not_found',
        ],
        // A message of another chat through this chat's route: not found, never told apart.
        [
          'message of another chat',
          ana,
          'PATCH',
          path(room.id, secret.message_id),
          edit('x'),
          404,
          'not_found',
        ],
        [
          'message of another chat (delete)',
          ana,
          'DELETE',
          path(room.id, secret.message_id),
          undefined,
          404,
          'not_found',
        ],
        [
          'non-member',
          ben,
          'PATCH',
          path(closed.id, secret.message_id),
          edit('x'),
          403,
          'not_member',
        ],
        [
          'non-member (delete)',
          ben,
          'DELETE',
          path(closed.id, secret.message_id),
          undefined,
          403,
          'not_member',
        ],
        [
          'unknown chat',
          ana,
          'DELETE',
          path('no-such-chat', anas.message_id),
          undefined,
          404,
          'not_found',
        ],
        ['empty', ana, 'PATCH', path(room.id, anas.message_id), edit(' \n '), 400, 'empty_message'],
        [
          'too long',
          ana,
          'PATCH',
          path(room.id, anas.message_id),
          edit('x'.repeat(MAX_CHARS + 1)),
          400,
          'message_too_long',
        ],
        [
          'no ref_id',
          ana,
          'PATCH',
          path(room.id, anas.message_id),
          { content: 'x' },
          400,
          'invalid_payload',
        ],
        [
          'extra-long ref_id',
          ana,
          'PATCH',
          path(room.id, anas.message_id),
          { content: 'x', ref_id: 'r'.repeat(129) },
          400,
          'invalid_payload',
        ],
        [
          'content not a string',
          ana,
          'PATCH',
          path(room.id, anas.message_id),
          { content: 5, ref_id: 'r' },
          400,
          'invalid_payload',
        ],
      ];
      for (const [what, who, method, target, body, status, code] of cases) {
        const res = await change(relay, who.token, method, target, body);
        expect(res.status, what).toBe(status);
        expect(errorCode(res.body), what).toBe(code);
      }
      expect(await lastSeq(room.id)).toBe(before);
      expect(await lastSeq(closed.id)).toBe(beforeClosed);
      const stream = await historyAfter(room.id, anas.seq - 1);
      expect(stream.messages.map((m) => [m.content, m.version_seq])).toEqual([
        ['ana wrote this', anas.seq],
      ]);
      expect(stream.events).toEqual([]);
      const secretNow = await historyAfter(closed.id, 0);
      expect(secretNow.messages.map((m) => m.content)).toEqual(['in the private room']);

      // Malformed or huge ids do not reach a route at all.
      for (const id of ['a'.repeat(65), 'bad%20id', 'x.y']) {
        const res = await change(relay, ana.token, 'DELETE', path(room.id, id));
        expect(res.status, id).toBe(404);
        expect(errorCode(res.body), id).toBe('not_found');
      }
      // Bodies beyond maxHttpBodyBytes: 413, like every write route.
      const big = await change(relay, ana.token, 'PATCH', path(room.id, anas.message_id), {
        content: 'x'.repeat(MAX_BODY),
        ref_id: 'big',
      });
      expect(big.status).toBe(413);
      expect(errorCode(big.body)).toBe('body_too_large');
      expect(await lastSeq(room.id)).toBe(before);
    });

    it('answers 401 without a token, and 405 for other methods on a message', async () => {
      const anas = await posted(ana, room.id, 'token please');
      for (const method of ['PATCH', 'DELETE'] as const) {
        const res = await rawRequest(relay, method, path(room.id, anas.message_id), {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content: 'x', ref_id: 'r' }),
        });
        expect(res.status, method).toBe(401);
        expect(errorCode(res.body)).toBe('unauthorized');
      }
      const get = await rawRequest(relay, 'GET', path(room.id, anas.message_id), {
        headers: { authorization: `Bearer ${ana.token}` },
      });
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('PATCH, DELETE, OPTIONS');
      const preflight = await rawRequest(relay, 'OPTIONS', path(room.id, anas.message_id));
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-methods')).toMatch(/PATCH.*DELETE/);
    });
  });

  describe('authentication', () => {
    let ana: Session;
    let room: ChatInfo;
    beforeAll(async () => {
      ana = await signIn(relay, fresh('Ana'));
      room = await createRoom(ana, 'public');
    });

    const protectedRoutes = (chatId: string): [string, 'GET' | 'POST', unknown][] => [
      ['/api/me', 'GET', undefined],
      ['/api/users', 'GET', undefined],
      ['/api/chats', 'GET', undefined],
      ['/api/chats?scope=public', 'GET', undefined],
      ['/api/chats', 'POST', { name: 'r', visibility: 'public' }],
      [`/api/chats/${chatId}`, 'GET', undefined],
      [`/api/chats/${chatId}/join`, 'POST', undefined],
      [`/api/chats/${chatId}/leave`, 'POST', undefined],
      [`/api/chats/${chatId}/members`, 'POST', { user_id: 'x' }],
      ['/api/dms', 'POST', { user_id: 'x' }],
      [`/api/chats/${chatId}/messages`, 'GET', undefined],
      [`/api/chats/${chatId}/messages`, 'POST', { content: 'x', mobile_ref_id: 'x' }],
      [`/api/chats/${chatId}/read`, 'POST', { seq: 1 }],
    ];

    it('answers 401 unauthorized on every protected route without a token', async () => {
      for (const [path, method, body] of protectedRoutes(room.id)) {
        const res = await api(relay, null, method, path, body);
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(errorCode(res.body)).toBe('unauthorized');
      }
      expect((await api(relay, ana.token, 'GET', `/api/chats/${room.id}`)).status).toBe(200);
    });

    it('answers 401 for invalid, tampered, wrong-key, expired and unknown-user tokens', async () => {
      const key = new TextEncoder().encode(JWT_SECRET);
      const claims = { name: ana.user.name, dev: 'd', sub: ana.user.id, iss: 'parley-relay' };
      const [head = '', body = '', signature = ''] = ana.token.split('.');
      const forged = Buffer.from(
        JSON.stringify({
          ...JSON.parse(Buffer.from(body, 'base64url').toString()),
          sub: 'someone-else',
        }),
      ).toString('base64url');
      const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
      const tokens: Record<string, string> = {
        garbage: 'not-a-token',
        'tampered payload': `${head}.${forged}.${signature}`,
        'tampered signature': `${head}.${body}.${flipped}`,
        'wrong key': await signToken(
          { ...claims, exp: nowS() + 60 },
          new TextEncoder().encode('another-secret-0123456789abcdefghij'),
          { alg: 'HS256' },
        ),
        expired: await signToken({ ...claims, iat: nowS() - 7200, exp: nowS() - 3600 }, key, {
          alg: 'HS256',
        }),
        'wrong issuer': await signToken({ ...claims, iss: 'elsewhere', exp: nowS() + 60 }, key, {
          alg: 'HS256',
        }),
        'unknown user': await signToken({ ...claims, sub: 'ghost', exp: nowS() + 60 }, key, {
          alg: 'HS256',
        }),
        'unsigned (alg none)': `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${body}.`,
      };
      // The forging key is right: the same claims with a valid expiry are accepted.
      const control = await signToken({ ...claims, exp: nowS() + 60 }, key, { alg: 'HS256' });
      expect((await api(relay, control, 'GET', '/api/me')).body).toEqual(ana.user);

      for (const [label, token] of Object.entries(tokens)) {
        const res = await api(relay, token, 'GET', '/api/me');
        expect(res.status, label).toBe(401);
        expect(errorCode(res.body), label).toBe('unauthorized');
      }
      const expired = await api<ErrorBody>(relay, tokens.expired ?? '', 'GET', '/api/me');
      expect(expired.body.error.message).toMatch(/expired/);
      const basic = await rawRequest(relay, 'GET', '/api/me', {
        headers: { authorization: `Basic ${ana.token}` },
      });
      expect(basic.status).toBe(401);
      // A rejected token never reaches the socket either.
      await expect(RawClient.connect(relay, tokens['wrong key'] ?? '')).rejects.toThrow(/403/);
    });
  });

  describe('routing and bodies', () => {
    let ana: Session;
    beforeAll(async () => {
      ana = await signIn(relay, fresh('Ana'));
    });

    it('answers 404 for unknown routes and 405 for the wrong method', async () => {
      for (const path of ['/api/nope', '/api', '/', '/api/chats/x/y', '/api/me/']) {
        const res = await rawRequest(relay, 'GET', path, {
          headers: { authorization: `Bearer ${ana.token}` },
        });
        expect(res.status, path).toBe(404);
        expect(errorCode(res.body)).toBe('not_found');
      }
      for (const [method, path] of [
        ['GET', '/api/session'],
        ['POST', '/api/me'],
        ['GET', '/api/dms'],
        ['DELETE', '/api/chats'],
        ['PUT', '/api/chats/abc/read'],
        ['POST', '/healthz'],
      ] as const) {
        const res = await rawRequest(relay, method, path, {
          headers: { authorization: `Bearer ${ana.token}` },
        });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(errorCode(res.body)).toBe('method_not_allowed');
        expect(res.headers.get('allow'), `${method} ${path}`).toMatch(/^(GET|POST)\b.*OPTIONS$/);
      }
      expect((await rawRequest(relay, 'POST', '/api/me')).headers.get('allow')).toBe(
        'GET, HEAD, OPTIONS',
      );
      // HEAD is GET without the body.
      const get = await rawRequest(relay, 'GET', '/api/me', {
        headers: { authorization: `Bearer ${ana.token}` },
      });
      const head = await rawRequest(relay, 'HEAD', '/api/me', {
        headers: { authorization: `Bearer ${ana.token}` },
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
      expect(head.body).toBeNull();
      const preflight = await rawRequest(relay, 'OPTIONS', '/api/chats');
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    });

    it('refuses bodies over maxHttpBodyBytes with 413, declared or streamed', async () => {
      const big = JSON.stringify({ name: 'x'.repeat(MAX_BODY), visibility: 'public' });
      const before = (await api<{ chats: unknown[] }>(relay, ana.token, 'GET', '/api/chats')).body
        .chats.length;
      const declared = await rawRequest(relay, 'POST', '/api/chats', {
        headers: { authorization: `Bearer ${ana.token}`, 'content-type': 'application/json' },
        body: big,
      });
      expect(declared.status).toBe(413);
      expect(errorCode(declared.body)).toBe('body_too_large');
      expect(declared.headers.get('connection')).toBe('close');

      // Without Content-Length (chunked), the relay stops reading at the limit.
      const chunk = new TextEncoder().encode(big.slice(0, 1_024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= MAX_BODY * 4) return controller.close();
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const streamed = await rawRequest(relay, 'POST', '/api/chats', {
        headers: { authorization: `Bearer ${ana.token}`, 'content-type': 'application/json' },
        body: stream,
      });
      expect(streamed.status).toBe(413);
      expect(errorCode(streamed.body)).toBe('body_too_large');

      // Just under the limit is read.
      const fits = JSON.stringify({ name: 'fits', visibility: 'public', pad: 'p'.repeat(3_000) });
      expect(Buffer.byteLength(fits)).toBeLessThan(MAX_BODY);
      const ok = await rawRequest(relay, 'POST', '/api/chats', {
        headers: { authorization: `Bearer ${ana.token}`, 'content-type': 'application/json' },
        body: fits,
      });
      expect(ok.status).toBe(201);
      const after = (await api<{ chats: unknown[] }>(relay, ana.token, 'GET', '/api/chats')).body
        .chats.length;
      expect(after).toBe(before + 1);
    });

    it('refuses other content types with 415 and broken JSON with 400', async () => {
      const before = (await api<{ chats: unknown[] }>(relay, ana.token, 'GET', '/api/chats')).body
        .chats.length;
      const body = JSON.stringify({ name: 'typed', visibility: 'public' });
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
        const res = await rawRequest(relay, 'POST', '/api/chats', {
          headers: { authorization: `Bearer ${ana.token}`, 'content-type': type },
          body,
        });
        expect(res.status, type).toBe(415);
        expect(errorCode(res.body)).toBe('unsupported_media_type');
      }
      for (const broken of ['{', '{"name": "x",}', 'nul', '\u0000']) {
        const res = await rawRequest(relay, 'POST', '/api/chats', {
          headers: {
            authorization: `Bearer ${ana.token}`,
            'content-type': 'application/json; charset=utf-8',
          },
          body: broken,
        });
        expect(res.status, broken).toBe(400);
        expect(errorCode(res.body)).toBe('invalid_payload');
      }
      const after = (await api<{ chats: unknown[] }>(relay, ana.token, 'GET', '/api/chats')).body
        .chats.length;
      expect(after).toBe(before);
    });

    it('GET /healthz and /readyz answer without a token', async () => {
      const health = await rawRequest(relay, 'GET', '/healthz');
      expect(health).toMatchObject({ status: 200, body: { ok: true, version: RELAY_VERSION } });
      expect(health.headers.get('content-type')).toMatch(/^application\/json/);
      expect((await rawRequest(relay, 'GET', '/readyz')).body).toEqual({ ok: true });
    });
  });
});

describe('HTTP API beside the web client', () => {
  const INDEX = '<!doctype html><title>Parley</title>';
  let web: string;
  let relay: TestRelay;
  beforeAll(async () => {
    web = mkdtempSync(joinPath(tmpdir(), 'parley-web-'));
    writeFileSync(joinPath(web, 'index.html'), INDEX);
    relay = await startTestRelay({ webDir: web });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
    removeDir(web);
  });

  it('answers every unknown path under /api/ with a JSON 404 for every method, never the page', async () => {
    // Regression: these got index.html with 200 (the web client's fallback for its own routes).
    const paths = [
      '/api/nonexistent',
      '/api',
      '/api/',
      '/api//me',
      '/api/me/',
      '/api/chats/x/y/z',
      '/api/nonexistent.js',
      '/api/index.html',
      '/%61pi/nonexistent',
    ];
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        const res = await rawRequest(relay, method, path);
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.headers.get('content-type'), `${method} ${path}`).toBe(
          'application/json; charset=utf-8',
        );
        expect(errorCode(res.body), `${method} ${path}`).toBe('not_found');
      }
      const head = await rawRequest(relay, 'HEAD', path);
      expect(head.status, `HEAD ${path}`).toBe(404);
      expect(head.headers.get('content-type'), `HEAD ${path}`).toBe(
        'application/json; charset=utf-8',
      );
      expect(head.body, `HEAD ${path}`).toBeNull();
    }
    // Known routes keep their answers, and the page is still served for the client's routes.
    expect((await rawRequest(relay, 'POST', '/api/me')).status).toBe(405);
    expect((await rawRequest(relay, 'GET', '/api/me')).status).toBe(401);
    for (const path of ['/', '/chats/general', '/apiary']) {
      const page = await fetch(`${relay.url}${path}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(await page.text(), path).toBe(INDEX);
    }
  });
});

describe('HTTP API, relay passcode', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay({ passcode: 'open sesame' });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  it('answers 401 bad_passcode without the right passcode and 201 with it', async () => {
    for (const passcode of [undefined, '', 'open sesam', 'OPEN SESAME', 'open sesame!']) {
      const res = await api(relay, null, 'POST', '/api/session', {
        name: 'Ivy',
        device_unique_id: 'd',
        ...(passcode === undefined ? {} : { passcode }),
      });
      expect(res.status, String(passcode)).toBe(401);
      expect(errorCode(res.body)).toBe('bad_passcode');
    }
    const ok = await signIn(relay, 'Ivy', { passcode: 'open sesame' });
    expect(ok.user.name).toBe('Ivy');
    // The refused attempts created nobody: Ivy is the only user.
    const users = await api<{ users: unknown[] }>(relay, ok.token, 'GET', '/api/users');
    expect(users.body.users).toEqual([ok.user]);
    // A second device of Ivy needs the passcode too.
    const noCode = await api(relay, ok.token, 'POST', '/api/session', {
      name: 'Ivy',
      device_unique_id: 'd2',
    });
    expect(noCode.status).toBe(401);
  });
});

describe('HTTP API, sign-in rate limit', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay({ limits: { sessionAttemptsPerMinute: 3 } });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  it('answers 429 rate_limited after sessionAttemptsPerMinute attempts from one address', async () => {
    const first = await signIn(relay, 'Jo');
    for (const name of ['', 'Jo']) {
      const failed = await api(relay, null, 'POST', '/api/session', {
        name,
        device_unique_id: 'd',
      });
      expect(failed.status).toBeGreaterThanOrEqual(400);
      expect(failed.status).toBeLessThan(429);
    }
    const limited = await api(relay, null, 'POST', '/api/session', {
      name: 'Kim',
      device_unique_id: 'd',
    });
    expect(limited.status).toBe(429);
    expect(errorCode(limited.body)).toBe('rate_limited');
    const users = await api<{ users: unknown[] }>(relay, first.token, 'GET', '/api/users');
    expect(users.body.users).toEqual([first.user]);
    // Other routes are not affected.
    expect((await api(relay, first.token, 'GET', '/api/me')).status).toBe(200);
  });
});

describe('HTTP API, search rate limit', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay({ limits: { searchesPerMinute: 3 } });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  it('answers 429 rate_limited after searchesPerMinute searches by one user', async () => {
    const ana = await signIn(relay, 'Ana');
    const statuses: number[] = [];
    for (let n = 0; n < 5; n += 1)
      statuses.push((await api(relay, ana.token, 'GET', '/api/search?q=hello')).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const ben = await signIn(relay, 'Ben');
    expect((await api(relay, ben.token, 'GET', '/api/search?q=hello')).status).toBe(200);
  });
});

describe('HTTP API, company mode (jwt)', () => {
  const ISSUER = 'https://idp.example.test';
  const AUDIENCE = 'parley';

  /** Checks a company-mode relay: users come from `sub`/`name` and land in the main room. */
  async function expectCompanyRelay(
    relay: TestRelay,
    sign: (claims: JWTPayload) => Promise<string>,
    forgeries: Record<string, string>,
  ): Promise<void> {
    const base = { iss: ISSUER, aud: AUDIENCE, exp: nowS() + 600 };
    const erin = await sign({ ...base, sub: 'emp-erin', name: 'Erin' });
    const me = await api(relay, erin, 'GET', '/api/me');
    expect(me).toEqual({ status: 200, body: { id: 'emp-erin', name: 'Erin' } });
    const chats = await api<{ chats: ChatSummary[] }>(relay, erin, 'GET', '/api/chats');
    expect(chats.body.chats.filter((chat) => chat.is_main).map((chat) => chat.name)).toEqual([
      'general',
    ]);

    // Names are not unique in company mode; `sub` is the identity. No name: the sub is the name.
    const otherErin = await sign({ ...base, sub: 'emp-erin-2', name: 'erin' });
    expect((await api(relay, otherErin, 'GET', '/api/me')).body).toEqual({
      id: 'emp-erin-2',
      name: 'erin',
    });
    const nameless = await sign({ ...base, sub: 'emp-x' });
    expect((await api(relay, nameless, 'GET', '/api/me')).body).toEqual({
      id: 'emp-x',
      name: 'emp-x',
    });
    // A renamed user keeps their id.
    const renamed = await sign({ ...base, sub: 'emp-erin', name: 'Erin B.' });
    expect((await api(relay, renamed, 'GET', '/api/me')).body).toEqual({
      id: 'emp-erin',
      name: 'Erin B.',
    });

    // The same token opens a socket and the main room.
    const main = chats.body.chats.find((chat) => chat.is_main);
    const client = await RawClient.connect(relay, renamed);
    try {
      const joined = await client.join(`chat:${main?.id ?? ''}`);
      expect(joined.status).toBe('ok');
    } finally {
      client.close();
    }

    const session = await api(relay, erin, 'POST', '/api/session', {
      name: 'Someone',
      device_unique_id: 'd',
    });
    expect(session.status).toBe(404);
    expect(errorCode(session.body)).toBe('sessions_disabled');

    const refused: Record<string, string> = {
      ...forgeries,
      'wrong issuer': await sign({ ...base, iss: 'https://evil.example', sub: 'emp-y' }),
      'no issuer': await sign({ aud: AUDIENCE, exp: base.exp, sub: 'emp-y' }),
      'wrong audience': await sign({ ...base, aud: 'other-app', sub: 'emp-y' }),
      expired: await sign({ ...base, exp: nowS() - 60, sub: 'emp-y' }),
      'no subject': await sign({ ...base, name: 'Nobody' }),
    };
    for (const [label, token] of Object.entries(refused)) {
      const res = await api(relay, token, 'GET', '/api/me');
      expect(res.status, label).toBe(401);
      expect(errorCode(res.body), label).toBe('unauthorized');
    }
    // None of the refused tokens created a user.
    const users = await api<{ users: { id: string }[] }>(relay, erin, 'GET', '/api/users');
    expect(users.body.users.map((user) => user.id).sort()).toEqual([
      'emp-erin',
      'emp-erin-2',
      'emp-x',
    ]);
  }

  async function withRelay(
    auth: { secret?: string; publicKeyPem?: string; jwksUrl?: string },
    run: (relay: TestRelay) => Promise<void>,
  ): Promise<void> {
    const relay = await startTestRelay({
      auth: { mode: 'jwt', issuer: ISSUER, audience: AUDIENCE, ...auth },
    });
    try {
      await run(relay);
    } finally {
      await relay.close();
      removeDir(relay.dataDir);
    }
  }

  it('verifies HS256 tokens with a shared secret', async () => {
    const secret = 'company-hs256-secret-0123456789abcdef';
    const key = new TextEncoder().encode(secret);
    await withRelay({ secret }, async (relay) => {
      await expectCompanyRelay(relay, (claims) => signToken(claims, key, { alg: 'HS256' }), {
        'other secret': await signToken(
          { iss: ISSUER, aud: AUDIENCE, sub: 'emp-y', exp: nowS() + 600 },
          new TextEncoder().encode('some-other-secret-0123456789abcdef'),
          { alg: 'HS256' },
        ),
      });
    });
  });

  for (const alg of ['RS256', 'EdDSA'] as const) {
    it(`verifies ${alg} tokens with a PEM public key`, async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg);
      const other = await generateKeyPair(alg);
      const pem = await exportSPKI(publicKey);
      const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'emp-y', exp: nowS() + 600 };
      await withRelay({ publicKeyPem: pem }, async (relay) => {
        await expectCompanyRelay(relay, (c) => signToken(c, privateKey, { alg }), {
          'other key': await signToken(claims, other.privateKey, { alg }),
          // Algorithm confusion: the public key used as an HMAC secret must not verify.
          'HS256 with the public key as secret': await signToken(
            claims,
            new TextEncoder().encode(pem),
            { alg: 'HS256' },
          ),
        });
      });
    });
  }

  describe('with a JWKS URL', () => {
    let jwks: Server;
    let jwksUrl: string;
    let fetches = 0;
    let privateKey: CryptoKey;
    let otherKey: CryptoKey;

    beforeAll(async () => {
      const pair = await generateKeyPair('ES256');
      privateKey = pair.privateKey;
      otherKey = (await generateKeyPair('ES256')).privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
      jwks = createServer((req, res) => {
        fetches += 1;
        if (req.url !== '/.well-known/jwks.json') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
      jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => jwks.close(() => resolve()));
    });

    it('verifies tokens with keys fetched from the identity provider', async () => {
      const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'emp-y', exp: nowS() + 600 };
      await withRelay({ jwksUrl }, async (relay) => {
        await expectCompanyRelay(
          relay,
          (c) => signToken(c, privateKey, { alg: 'ES256', kid: 'key-1' }),
          {
            'key not in the set': await signToken(claims, otherKey, {
              alg: 'ES256',
              kid: 'key-1',
            }),
            'unknown kid': await signToken(claims, otherKey, { alg: 'ES256', kid: 'key-2' }),
          },
        );
      });
      expect(fetches).toBeGreaterThan(0);
    });
  });
});
