/**
 * Authorization attacks that relay/tests/privacy.hostile.test.ts does not cover: sending as someone
 * else, reading a chat one left (HTTP history, socket joins with and without since_seq), a
 * leaver's already-open subscription, bad tokens on every HTTP route, forged tokens in company
 * (jwt) mode (alg=none, HS/RS confusion, foreign keys), and passcode guessing against the
 * per-address sign-in limit with its escalating lockout. Every attempt is refused with its
 * documented error and changes nothing stored (the SQLite file is compared before and after).
 *
 * What "left" means: after `POST /api/chats/:id/leave` the user is no longer a member. A private
 * room then refuses them everywhere until a member adds them again. A public room admits them
 * again only by opening it (socket join or `POST /join`, which makes them a member, as any
 * newcomer); reading its history or details without that is refused with `not_member`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatInfo, MessageSent, WireMessage } from '../protocol/events.js';
import {
  RawClient,
  api,
  createRoom,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type Session,
  type TestRelay,
} from '../testing/relay-harness.js';
import { signInFrom, type SignInAnswer } from '../testing/sign-in-from.js';
import { sqliteSnapshot } from '../testing/sqlite-snapshot.js';

const JWT_SECRET = 'authz-test-secret-0123456789abcdef-xyz';

function part(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('relay-issued tokens', () => {
  let relay: TestRelay;
  let count = 0;
  const raws: RawClient[] = [];

  beforeAll(async () => {
    relay = await startTestRelay({
      jwtSecret: JWT_SECRET,
      limits: { sessionAttemptsPerMinute: 10_000 },
    });
  });
  afterEach(() => {
    for (const client of raws.splice(0)) client.close();
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  function user(base: string): Promise<Session> {
    count += 1;
    return signIn(relay, `${base}${count}`);
  }

  async function raw(session: Session): Promise<RawClient> {
    const client = await RawClient.connect(relay, session.token, `raw-${raws.length}`);
    raws.push(client);
    return client;
  }

  function room(owner: Session, visibility: 'public' | 'private'): Promise<string> {
    return createRoom(relay, owner.token, `authz ${visibility} ${count}`, visibility);
  }

  async function post(sender: Session, chatId: string, content: string): Promise<void> {
    const res = await api(relay, sender.token, 'POST', `/api/chats/${chatId}/messages`, {
      content,
      mobile_ref_id: `${content}-${chatId}`,
    });
    expect(res.status).toBe(201);
  }

  async function history(reader: Session, chatId: string): Promise<WireMessage[]> {
    const res = await api<{ messages: WireMessage[] }>(
      relay,
      reader.token,
      'GET',
      `/api/chats/${chatId}/messages?limit=500`,
    );
    expect(res.status).toBe(200);
    return res.body.messages;
  }

  const stored = (): unknown => sqliteSnapshot(relay.dataDir);

  it('stores the token user as the sender, whatever the payload claims', async () => {
    const mallory = await user('Mallory');
    const victim = await user('Victim');
    const roomId = await room(mallory, 'private');
    await api(relay, mallory.token, 'POST', `/api/chats/${roomId}/members`, {
      user_id: victim.user.id,
    });
    const victimClient = await raw(victim);
    expect((await victimClient.join(`chat:${roomId}`)).status).toBe('ok');
    const forged = {
      user_id: victim.user.id,
      sender_id: victim.user.id,
      sender_name: victim.user.name,
      sender: { id: victim.user.id, name: victim.user.name },
      message_id: 'forged-id',
      seq: 99,
      timestamp: '2000-01-01T00:00:00.000Z',
      chat_id: 'someone-else',
    };

    const client = await raw(mallory);
    const { joinRef } = await client.join(`chat:${roomId}`);
    const socketSend = await client.call(joinRef, `chat:${roomId}`, 'send_message', {
      ...forged,
      content: 'over the socket',
      mobile_ref_id: 'forged-socket',
    });
    expect(socketSend.status).toBe('ok');
    const httpSend = await api<MessageSent>(
      relay,
      mallory.token,
      'POST',
      `/api/chats/${roomId}/messages`,
      { ...forged, content: 'over http', mobile_ref_id: 'forged-http' },
    );
    expect(httpSend.status).toBe(201);
    expect(httpSend.body).toMatchObject({ chat_id: roomId, seq: 2 });

    const expected = [
      [1, 'over the socket', mallory.user.id, mallory.user.name],
      [2, 'over http', mallory.user.id, mallory.user.name],
    ];
    const seen = (messages: WireMessage[]): unknown[] =>
      messages.map((m) => [m.seq, m.content, m.sender_id, m.sender_name]);
    expect(seen(await history(victim, roomId))).toEqual(expected);
    await until(
      () => victimClient.events('receive_message').length === 2,
      5_000,
      'the victim to receive both',
    );
    expect(seen(victimClient.events<WireMessage>('receive_message'))).toEqual(expected);
    const ids = (await history(victim, roomId)).map((m) => m.message_id);
    expect(ids).not.toContain('forged-id');
  });

  it("cannot acknowledge away another user's pending notifications", async () => {
    const mallory = await user('Mallory');
    const victim = await user('Victim');
    const roomId = await room(mallory, 'private');
    await api(relay, mallory.token, 'POST', `/api/chats/${roomId}/members`, {
      user_id: victim.user.id,
    });
    await post(mallory, roomId, 'for the victim');
    const client = await raw(mallory);
    const inbox = await client.join(`notifications:${mallory.user.id}`);
    const acked = await client.call(
      inbox.joinRef,
      `notifications:${mallory.user.id}`,
      'ack_notifications',
      { ids: Array.from({ length: 100 }, (_, i) => i + 1) },
    );
    expect(acked).toEqual({ status: 'ok', response: { acked: 0 } });
    const victimClient = await raw(victim);
    await victimClient.join(`notifications:${victim.user.id}`);
    const [batch] = await until(
      () => victimClient.events('pending_notifications').length === 1,
      5_000,
      'pending notifications',
    ).then(() =>
      victimClient.events<{ notifications: { content: string }[] }>('pending_notifications'),
    );
    expect(batch?.notifications.map((n) => n.content)).toEqual(['for the victim']);
  });

  it('a private room one left refuses history, details, joins with or without since_seq, sends and reads', async () => {
    const owner = await user('Owner');
    const leaver = await user('Leaver');
    const roomId = await room(owner, 'private');
    await api(relay, owner.token, 'POST', `/api/chats/${roomId}/members`, {
      user_id: leaver.user.id,
    });
    await post(owner, roomId, 'before leaving');
    expect((await history(leaver, roomId)).map((m) => m.content)).toEqual(['before leaving']);
    expect((await api(relay, leaver.token, 'POST', `/api/chats/${roomId}/leave`)).status).toBe(200);
    await post(owner, roomId, 'after leaving');
    const before = stored();

    const refusedHttp: [string, 'GET' | 'POST', string, unknown][] = [
      ['history', 'GET', `/api/chats/${roomId}/messages`, undefined],
      ['history after_seq', 'GET', `/api/chats/${roomId}/messages?after_seq=0`, undefined],
      ['history before_seq', 'GET', `/api/chats/${roomId}/messages?before_seq=3`, undefined],
      ['details', 'GET', `/api/chats/${roomId}`, undefined],
      ['join', 'POST', `/api/chats/${roomId}/join`, undefined],
      ['read', 'POST', `/api/chats/${roomId}/read`, { seq: 2 }],
      ['leave again', 'POST', `/api/chats/${roomId}/leave`, undefined],
      ['send', 'POST', `/api/chats/${roomId}/messages`, { content: 'x', mobile_ref_id: 'x' }],
      ['add self', 'POST', `/api/chats/${roomId}/members`, { user_id: leaver.user.id }],
      ['search in the room', 'GET', `/api/search?q=leaving&chat_id=${roomId}`, undefined],
    ];
    for (const [what, method, path, body] of refusedHttp) {
      const res = await api(relay, leaver.token, method, path, body);
      expect(res, what).toMatchObject({ status: 403, body: { error: { code: 'not_member' } } });
    }
    const client = await raw(leaver);
    for (const payload of [{}, { since_seq: 0 }, { since_seq: 1 }]) {
      const joined = await client.join(`chat:${roomId}`, payload);
      expect(joined, JSON.stringify(payload)).toMatchObject({
        status: 'error',
        response: { reason: 'not_member' },
      });
    }
    const chats = await api<{ chats: ChatInfo[] }>(relay, leaver.token, 'GET', '/api/chats');
    expect(chats.body.chats.map((chat) => chat.id)).not.toContain(roomId);
    const found = await api(relay, leaver.token, 'GET', '/api/search?q=leaving');
    expect(found).toMatchObject({ status: 200, body: { messages: [], next: null } });
    expect(JSON.stringify(client.frames)).not.toContain('after leaving');
    expect(stored()).toEqual(before);
  });

  it('a public room one left refuses history and details until one opens it again', async () => {
    const owner = await user('Owner');
    const leaver = await user('Leaver');
    const roomId = await room(owner, 'public');
    expect((await api(relay, leaver.token, 'POST', `/api/chats/${roomId}/join`)).status).toBe(200);
    await post(owner, roomId, 'before leaving');
    expect((await api(relay, leaver.token, 'POST', `/api/chats/${roomId}/leave`)).status).toBe(200);
    await post(owner, roomId, 'after leaving');
    const before = stored();

    for (const path of [
      `/api/chats/${roomId}/messages`,
      `/api/chats/${roomId}/messages?after_seq=0`,
      `/api/chats/${roomId}`,
    ]) {
      const res = await api(relay, leaver.token, 'GET', path);
      expect(res, path).toMatchObject({ status: 403, body: { error: { code: 'not_member' } } });
    }
    const read = await api(relay, leaver.token, 'POST', `/api/chats/${roomId}/read`, { seq: 2 });
    expect(read.status).toBe(403);
    const send = await api(relay, leaver.token, 'POST', `/api/chats/${roomId}/messages`, {
      content: 'without rejoining',
      mobile_ref_id: 'no-rejoin',
    });
    expect(send).toMatchObject({ status: 403, body: { error: { code: 'not_member' } } });
    // The refusals changed nothing: still not a member.
    expect(stored()).toEqual(before);

    // Opening it again is joining it again, as for any newcomer; history comes with membership.
    const client = await raw(leaver);
    const rejoined = await client.join(`chat:${roomId}`, { since_seq: 0 });
    expect(rejoined.status).toBe('ok');
    expect((rejoined.response.messages as WireMessage[]).map((m) => m.content)).toEqual([
      'before leaving',
      'after leaving',
    ]);
    expect((await history(leaver, roomId)).length).toBe(2);
  });

  it("a leaver's open subscriptions are closed with phx_close and receive nothing more", async () => {
    for (const visibility of ['private', 'public'] as const) {
      const owner = await user('Owner');
      const leaver = await user('Leaver');
      const roomId = await room(owner, visibility);
      await api(relay, owner.token, 'POST', `/api/chats/${roomId}/members`, {
        user_id: leaver.user.id,
      });
      const topic = `chat:${roomId}`;
      const device = await raw(leaver);
      const joined = await device.join(topic);
      expect(joined.status).toBe('ok');
      const inbox = await device.join(`notifications:${leaver.user.id}`);
      expect(inbox.status).toBe('ok');
      const marker = await room(owner, 'private');
      await api(relay, owner.token, 'POST', `/api/chats/${marker}/members`, {
        user_id: leaver.user.id,
      });
      expect((await device.join(`chat:${marker}`)).status).toBe('ok');
      await post(owner, roomId, 'while a member');
      await device.waitFor((f) => f[3] === 'receive_message');

      // Leaving from another device (HTTP) closes this device's subscription.
      expect((await api(relay, leaver.token, 'POST', `/api/chats/${roomId}/leave`)).status).toBe(
        200,
      );
      const closed = await device.waitFor((f) => f[3] === 'phx_close' && f[2] === topic);
      expect(closed).toEqual([joined.joinRef, null, topic, 'phx_close', {}]);

      await post(owner, roomId, 'after the leave');
      await post(owner, roomId, 'after the leave, again');
      // Then a message this device may see: deliveries keep their order, so once it is in, the
      // others would be too.
      await post(owner, marker, `marker ${visibility}`);
      await device.waitFor(
        (f) =>
          f[3] === 'receive_message' && (f[4] as WireMessage).content === `marker ${visibility}`,
      );
      const text = JSON.stringify(device.frames);
      expect(text, visibility).not.toContain('after the leave');
      expect(device.events('new_notification'), visibility).toEqual([]);
      // The old join_ref no longer sends.
      const refused = await device.call(joined.joinRef, topic, 'send_message', {
        content: 'ghost',
        mobile_ref_id: 'ghost',
      });
      expect(refused.response.reason).toBe('unmatched topic');
      expect(device.closeCode).toBeNull();
    }
  });

  it('refuses expired, tampered, foreign and malformed tokens on every HTTP route, changing nothing', async () => {
    const owner = await user('Owner');
    const target = await user('Target');
    const roomId = await room(owner, 'public');
    await post(owner, roomId, 'hello');
    const now = Math.floor(Date.now() / 1000);
    const sign = (
      secret: string,
      claims: { sub: string; iat: number; exp: number },
      alg: 'HS256' | 'HS384' = 'HS256',
    ): Promise<string> =>
      new SignJWT({ name: 'x', dev: 'x' })
        .setProtectedHeader({ alg, typ: 'JWT' })
        .setSubject(claims.sub)
        .setIssuer('parley-relay')
        .setIssuedAt(claims.iat)
        .setExpirationTime(claims.exp)
        .sign(new TextEncoder().encode(secret));
    const [header = '', payload = '', signature = ''] = target.token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
    const bad: Record<string, string> = {
      expired: await sign(JWT_SECRET, { sub: target.user.id, iat: now - 7_200, exp: now - 60 }),
      'not yet valid (iat in the future is fine, nbf is not)': await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(target.user.id)
        .setIssuer('parley-relay')
        .setNotBefore(now + 3_600)
        .setExpirationTime(now + 7_200)
        .sign(new TextEncoder().encode(JWT_SECRET)),
      'tampered subject': [header, part({ ...claims, sub: owner.user.id }), signature].join('.'),
      'tampered expiry': [header, part({ ...claims, exp: now + 10 ** 9 }), signature].join('.'),
      'signature removed': [header, payload, ''].join('.'),
      'alg none': [part({ alg: 'none', typ: 'JWT' }), payload, ''].join('.'),
      'alg none, signature kept': [part({ alg: 'none', typ: 'JWT' }), payload, signature].join('.'),
      'HS384 with the right secret': await sign(
        JWT_SECRET,
        { sub: target.user.id, iat: now, exp: now + 600 },
        'HS384',
      ),
      'another secret': await sign('x'.repeat(40), {
        sub: target.user.id,
        iat: now,
        exp: now + 600,
      }),
      'no issuer': await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(target.user.id)
        .setExpirationTime(now + 600)
        .sign(new TextEncoder().encode(JWT_SECRET)),
      'unknown user': await sign(JWT_SECRET, { sub: 'ghost', iat: now, exp: now + 600 }),
      garbage: 'eyJ.eyJ.sig',
    };
    const routes: ['GET' | 'POST', string, unknown][] = [
      ['GET', '/api/me', undefined],
      ['GET', '/api/users', undefined],
      ['GET', '/api/chats', undefined],
      ['GET', '/api/chats?scope=public', undefined],
      ['POST', '/api/chats', { name: 'forged', visibility: 'public' }],
      ['GET', `/api/chats/${roomId}`, undefined],
      ['POST', `/api/chats/${roomId}/join`, undefined],
      ['POST', `/api/chats/${roomId}/leave`, undefined],
      ['POST', `/api/chats/${roomId}/members`, { user_id: target.user.id }],
      ['POST', '/api/dms', { user_id: owner.user.id }],
      ['GET', `/api/chats/${roomId}/messages`, undefined],
      ['POST', `/api/chats/${roomId}/messages`, { content: 'forged', mobile_ref_id: 'forged' }],
      ['POST', `/api/chats/${roomId}/read`, { seq: 1 }],
      ['GET', '/api/search?q=hello', undefined],
      ['GET', '/api/recovery-code', undefined],
      ['POST', '/api/recovery-code', undefined],
      ['POST', '/api/link-codes', undefined],
    ];
    const before = stored();
    for (const [what, token] of Object.entries(bad)) {
      for (const [method, path, body] of routes) {
        const res = await api(relay, token, method, path, body);
        expect(res, `${what}: ${method} ${path}`).toMatchObject({
          status: 401,
          body: { error: { code: 'unauthorized' } },
        });
      }
    }
    // An expired token of one's own still proves the name at sign-in (documented); a forged one
    // for someone else's name does not.
    const takeover = await api(relay, null, 'POST', '/api/session', {
      name: owner.user.name,
      device_unique_id: 'thief',
    });
    expect(takeover.status).toBe(409);
    for (const token of [bad['tampered subject'] ?? '', bad['alg none'] ?? '']) {
      const res = await fetch(`${relay.url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ name: owner.user.name, device_unique_id: 'thief' }),
      });
      expect(res.status).toBe(409);
    }
    expect(stored()).toEqual(before);
  });
});

describe('company mode (jwt): forged tokens', () => {
  const ISSUER = 'https://idp.authz.test';
  const AUDIENCE = 'parley';

  it('accepts only tokens signed by the identity provider key with its algorithm family', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const publicKeyPem = await exportSPKI(publicKey);
    const relay = await startTestRelay({
      auth: { mode: 'jwt', publicKeyPem, issuer: ISSUER, audience: AUDIENCE },
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: 'emp-1', name: 'Employee', iss: ISSUER, aud: AUDIENCE, exp: now + 600 };
      const good = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
      expect((await api(relay, good, 'GET', '/api/me')).status).toBe(200);
      const before = sqliteSnapshot(relay.dataDir);

      const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const forged: Record<string, string> = {
        'alg none': [part({ alg: 'none', typ: 'JWT' }), part({ ...claims, sub: 'emp-2' }), ''].join(
          '.',
        ),
        // The classic confusion: HMAC keyed with the public key's PEM text (or its DER bytes).
        'HS256 keyed with the public PEM': await new SignJWT({ ...claims, sub: 'emp-2' })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(publicKeyPem)),
        'HS256 keyed with the public DER': await new SignJWT({ ...claims, sub: 'emp-2' })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(
            new Uint8Array(
              Buffer.from(publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'),
            ),
          ),
        'RS256 by another key': await new SignJWT({ ...claims, sub: 'emp-2' })
          .setProtectedHeader({ alg: 'RS256' })
          .sign(other.privateKey),
        'wrong issuer': await new SignJWT({ ...claims, sub: 'emp-2', iss: 'https://evil.test' })
          .setProtectedHeader({ alg: 'RS256' })
          .sign(privateKey),
        'wrong audience': await new SignJWT({ ...claims, sub: 'emp-2', aud: 'other-app' })
          .setProtectedHeader({ alg: 'RS256' })
          .sign(privateKey),
        expired: await new SignJWT({ ...claims, sub: 'emp-2', exp: now - 60 })
          .setProtectedHeader({ alg: 'RS256' })
          .sign(privateKey),
        'tampered subject': (() => {
          const [h = '', , s = ''] = good.split('.');
          return [h, part({ ...claims, sub: 'emp-2' }), s].join('.');
        })(),
      };
      for (const [what, token] of Object.entries(forged)) {
        const res = await api(relay, token, 'GET', '/api/me');
        expect(res, what).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
        await expect(RawClient.connect(relay, token), what).rejects.toThrow('HTTP 403');
      }
      // No user emp-2 was created by any of them.
      expect(sqliteSnapshot(relay.dataDir)).toEqual(before);
    } finally {
      await relay.close();
      removeDir(relay.dataDir);
    }
  });

  it('with an HS256 secret, refuses alg none and asymmetric signatures', async () => {
    const secret = 'company-idp-secret-0123456789abcdef-000';
    const relay = await startTestRelay({
      auth: { mode: 'jwt', secret, issuer: ISSUER, audience: AUDIENCE },
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: 'emp-1', iss: ISSUER, aud: AUDIENCE, exp: now + 600 };
      const good = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(secret));
      expect((await api(relay, good, 'GET', '/api/me')).status).toBe(200);
      const { privateKey } = await generateKeyPair('ES256');
      for (const token of [
        [part({ alg: 'none' }), part({ ...claims, sub: 'emp-2' }), ''].join('.'),
        await new SignJWT({ ...claims, sub: 'emp-2' })
          .setProtectedHeader({ alg: 'ES256' })
          .sign(privateKey),
        await new SignJWT({ ...claims, sub: 'emp-2' })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(`${secret}x`)),
      ]) {
        expect((await api(relay, token, 'GET', '/api/me')).status).toBe(401);
      }
      const users = await api<{ users: { id: string }[] }>(relay, good, 'GET', '/api/users');
      expect(users.body.users.map((u) => u.id)).toEqual(['emp-1']);
    } finally {
      await relay.close();
      removeDir(relay.dataDir);
    }
  });
});

describe('passcode guessing', () => {
  const PASSCODE = 'open-sesame-42';
  const ATTEMPTS = 3;
  const LOCKOUT_MS = 1_000;
  let relay: TestRelay;

  beforeAll(async () => {
    relay = await startTestRelay({
      passcode: PASSCODE,
      // The per-address guard alone: the relay-wide and per-network passcode budgets have their
      // own test (passcode-spray.hostile.test.ts); these addresses share one /24.
      limits: {
        sessionAttemptsPerMinute: ATTEMPTS,
        sessionLockoutMs: LOCKOUT_MS,
        passcodeFailuresPerHour: 1_000,
        passcodeFailuresPerNetworkPerHour: 1_000,
      },
    });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  const guess = (address: string, passcode: string, name = 'Guesser'): Promise<SignInAnswer> =>
    signInFrom(relay, address, { name, device_unique_id: 'd', passcode });

  /**
   * Waits out a lockout by polling with `attempt` (refused polls do not extend it) and returns
   * the first answer that is not 429. A wait for a condition, not a timing assertion.
   */
  async function waitOut(
    attempt: () => Promise<SignInAnswer>,
    maxLockoutMs: number,
  ): Promise<SignInAnswer> {
    const deadline = Date.now() + maxLockoutMs + 10_000;
    for (;;) {
      const answer = await attempt();
      if (answer.status !== 429) return answer;
      if (Date.now() > deadline) throw new Error('the lockout did not lift');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function userNames(): Promise<string[]> {
    const db = sqliteSnapshot(relay.dataDir);
    return (db.users as { name: string }[]).map((u) => u.name).sort();
  }

  it('locks an address out after its attempts, refuses even the right passcode, spares others, lifts, and escalates', async () => {
    const A = '127.0.0.1';
    for (let n = 0; n < ATTEMPTS; n += 1) {
      expect(await guess(A, `wrong-${n}`)).toMatchObject({ status: 401, code: 'bad_passcode' });
    }
    const locked = await guess(A, PASSCODE, 'RightButLocked');
    expect(locked).toMatchObject({ status: 429, code: 'rate_limited', retryAfter: '1' });
    // While locked out: the right passcode, a forged X-Forwarded-For, a different name: all refused.
    expect((await guess(A, PASSCODE, 'RightButLocked')).status).toBe(429);
    const spoofed = await signInFrom(
      relay,
      A,
      { name: 'Spoofer', device_unique_id: 'd', passcode: PASSCODE },
      {
        headers: {
          'x-forwarded-for': '198.51.100.7',
          'x-real-ip': '198.51.100.8',
          forwarded: 'for=1.2.3.4',
        },
      },
    );
    expect(spoofed.status).toBe(429);
    expect(await userNames()).toEqual([]);

    // Another address is not affected.
    expect(await guess('127.0.0.2', PASSCODE, 'Neighbour')).toMatchObject({ status: 201 });

    // The lockout lifts; the right passcode then works.
    const lifted = await waitOut(() => guess(A, PASSCODE, 'Patient'), LOCKOUT_MS);
    expect(lifted).toMatchObject({ status: 201 });
    expect(await userNames()).toEqual(['Neighbour', 'Patient']);

    // A success starts the lockout level over: the next lockout is a first one again.
    const C = '127.0.0.3';
    for (let n = 0; n < ATTEMPTS; n += 1) expect((await guess(C, `w${n}`)).status).toBe(401);
    expect((await guess(C, 'w')).retryAfter).toBe('1');
    expect((await waitOut(() => guess(C, PASSCODE, 'Returning'), LOCKOUT_MS)).status).toBe(201);
    for (let n = 1; n < ATTEMPTS; n += 1) expect((await guess(C, `x${n}`)).status).toBe(401);
    expect((await guess(C, 'x')).retryAfter).toBe('1');

    // A guesser that keeps going is locked out twice as long each time. The probe that gets
    // through after a lockout is the first attempt of a fresh window (an invalid name: it
    // creates nothing and is no success).
    const D = '127.0.0.4';
    for (let n = 0; n < ATTEMPTS; n += 1) expect((await guess(D, `d${n}`)).status).toBe(401);
    expect((await guess(D, 'd')).retryAfter).toBe('1');
    for (const level of [2, 3]) {
      const probe = await waitOut(
        () => signInFrom(relay, D, { name: '', device_unique_id: 'd' }),
        2 ** (level - 2) * LOCKOUT_MS,
      );
      expect(probe).toMatchObject({ status: 400, code: 'invalid_name' });
      for (let n = 1; n < ATTEMPTS; n += 1)
        expect((await guess(D, `e${level}${n}`)).status).toBe(401);
      const refused = await guess(D, PASSCODE, 'NeverLetIn');
      expect(refused, `lockout ${level}`).toMatchObject({
        status: 429,
        code: 'rate_limited',
        retryAfter: String(2 ** (level - 1)),
      });
    }
    expect(await userNames()).toEqual(['Neighbour', 'Patient', 'Returning']);
  }, 60_000);
});
