/**
 * Attacks on editing and deleting messages (issue 17), over the socket and over HTTP: changing
 * another user's message, a message of a chat one is not a member of, guessing message ids of
 * other chats through one's own chat's topic or route (answered exactly like an id that does not
 * exist: nothing leaks), malformed and huge ids, content over the limit, edit floods, editing a
 * deleted or expired message. Every refusal has its documented code and changes nothing: no seq
 * taken, no text changed, the SQLite file's rows the same before and after.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatInfo, MessageChanged, MessageSent, WireMessage } from '../protocol/events.js';
import {
  RawClient,
  api,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type Session,
  type TestRelay,
} from '../testing/relay-harness.js';
import { sqliteSnapshot } from '../testing/sqlite-snapshot.js';

const MAX_CHARS = 200;

describe('editing and deleting messages (hostile)', () => {
  let relay: TestRelay;
  let count = 0;
  const raws: RawClient[] = [];

  beforeAll(async () => {
    relay = await startTestRelay({
      // The expiry sweep never runs during the test: an expired message stays stored, so the
      // rule (not a missing row) answers for it.
      sweepIntervalMs: 3_600_000,
      limits: {
        sessionAttemptsPerMinute: 10_000,
        maxMessageChars: MAX_CHARS,
        messageBurst: 1_000,
        messagesPerSecond: 1_000,
      },
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
    const client = await RawClient.connect(relay, session.token, `raw-${count}-${raws.length}`);
    raws.push(client);
    return client;
  }

  async function room(
    owner: Session,
    visibility: 'public' | 'private',
    members: Session[] = [],
    extra: { ephemeral_ttl_s?: number } = {},
  ): Promise<string> {
    count += 1;
    const res = await api<{ chat: ChatInfo }>(relay, owner.token, 'POST', '/api/chats', {
      name: `edit-delete ${visibility} ${count}`,
      visibility,
      ...extra,
    });
    expect(res.status).toBe(201);
    for (const member of members) {
      const added = await api(
        relay,
        owner.token,
        'POST',
        `/api/chats/${res.body.chat.id}/members`,
        {
          user_id: member.user.id,
        },
      );
      expect(added.status).toBe(200);
    }
    return res.body.chat.id;
  }

  async function post(sender: Session, chatId: string, content: string): Promise<WireMessage> {
    count += 1;
    const res = await api<MessageSent & { message: WireMessage }>(
      relay,
      sender.token,
      'POST',
      `/api/chats/${chatId}/messages`,
      { content, mobile_ref_id: `ref-${count}` },
    );
    expect(res.status).toBe(201);
    return res.body.message;
  }

  async function http(
    session: Session,
    method: 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
    const res = await fetch(`${relay.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${session.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { error?: { code: string; message: string } },
    };
  }

  const messagePath = (chatId: string, messageId: string): string =>
    `/api/chats/${chatId}/messages/${messageId}`;

  /** The chat's stream head (last_seq) as a member sees it. */
  async function head(member: Session, chatId: string): Promise<number> {
    const res = await api<{ chat: ChatInfo }>(relay, member.token, 'GET', `/api/chats/${chatId}`);
    expect(res.status).toBe(200);
    return res.body.chat.last_seq;
  }

  /** The message as a member reads it now (current state). */
  async function current(member: Session, chatId: string, seq: number): Promise<WireMessage> {
    const res = await api<{ messages: WireMessage[] }>(
      relay,
      member.token,
      'GET',
      `/api/chats/${chatId}/messages?after_seq=${seq - 1}&limit=1`,
    );
    expect(res.status).toBe(200);
    const found = res.body.messages.find((m) => m.seq === seq);
    if (found === undefined) throw new Error(`message ${seq} of ${chatId} is not served`);
    return found;
  }

  it("refuses changes to another user's message with forbidden, over both doors, changing nothing", async () => {
    const victim = await user('Victim');
    const mallory = await user('Mallory');
    const chatId = await room(victim, 'private', [mallory]);
    const target = await post(victim, chatId, 'my own words');
    const before = sqliteSnapshot(relay.dataDir);

    const client = await raw(mallory);
    const topic = `chat:${chatId}`;
    const { joinRef, status } = await client.join(topic);
    expect(status).toBe('ok');
    const socketEdit = await client.call(joinRef, topic, 'edit_message', {
      message_id: target.message_id,
      content: 'words put in her mouth',
      ref_id: 'm1',
    });
    const socketDelete = await client.call(joinRef, topic, 'delete_message', {
      message_id: target.message_id,
    });
    for (const reply of [socketEdit, socketDelete]) {
      expect(reply).toMatchObject({ status: 'error', response: { reason: 'forbidden' } });
    }
    const httpEdit = await http(mallory, 'PATCH', messagePath(chatId, target.message_id), {
      content: 'words put in her mouth',
      ref_id: 'm2',
    });
    const httpDelete = await http(mallory, 'DELETE', messagePath(chatId, target.message_id));
    for (const res of [httpEdit, httpDelete]) {
      expect(res.status).toBe(403);
      expect(res.body.error?.code).toBe('forbidden');
    }
    // Forged fields in the payload change nothing about who asks.
    const forged = await client.call(joinRef, topic, 'edit_message', {
      message_id: target.message_id,
      content: 'as her',
      ref_id: 'm3',
      sender_id: victim.user.id,
      actor_id: victim.user.id,
    });
    expect(forged.status).toBe('error');

    expect(await head(victim, chatId)).toBe(target.seq);
    expect(await current(victim, chatId, target.seq)).toEqual(target);
    expect(sqliteSnapshot(relay.dataDir)).toEqual(before);
    // Nothing was pushed to the chat's subscribers either.
    expect(
      client.frames.filter((f) => f[3] === 'message_edited' || f[3] === 'message_deleted'),
    ).toEqual([]);
  });

  it("refuses chats one is not a member of, and answers another chat's message ids exactly like unknown ones", async () => {
    const owner = await user('Owner');
    const mallory = await user('Mallory');
    const secretRoom = await room(owner, 'private');
    const publicRoom = await room(owner, 'public');
    const secret = await post(owner, secretRoom, 'the plans');
    const open = await post(owner, publicRoom, 'hello all');
    // Mallory's own message in her own room, to make her own room's topic and route real.
    const ownRoom = await room(mallory, 'private');
    const own = await post(mallory, ownRoom, 'mine');
    const before = sqliteSnapshot(relay.dataDir);

    // Not a member: HTTP refuses with not_member, the socket will not even join.
    for (const [chatId, message] of [
      [secretRoom, secret],
      [publicRoom, open],
    ] as const) {
      const edit = await http(mallory, 'PATCH', messagePath(chatId, message.message_id), {
        content: 'x',
        ref_id: 'n1',
      });
      const del = await http(mallory, 'DELETE', messagePath(chatId, message.message_id));
      for (const res of [edit, del]) {
        expect(res.status).toBe(403);
        expect(res.body.error?.code).toBe('not_member');
      }
    }
    const client = await raw(mallory);
    const secretTopic = `chat:${secretRoom}`;
    expect((await client.join(secretTopic)).response).toMatchObject({ reason: 'not_member' });
    // Pushing to a topic without joining it.
    const unjoined = await client.call(null, secretTopic, 'delete_message', {
      message_id: secret.message_id,
    });
    expect(unjoined).toMatchObject({ status: 'error', response: { reason: 'unmatched topic' } });

    // Guessing: the secret message's id through Mallory's own room, socket and HTTP. The answer
    // must be the very same as for an id that exists nowhere.
    const ownTopic = `chat:${ownRoom}`;
    const { joinRef } = await client.join(ownTopic);
    const nowhere = '00000000-0000-4000-8000-000000000000';
    const answers: Record<string, unknown[]> = {};
    for (const [label, id] of [
      ['other chat', secret.message_id],
      ['nowhere', nowhere],
    ] as const) {
      const edit = await client.call(joinRef, ownTopic, 'edit_message', {
        message_id: id,
        content: 'guess',
        ref_id: `g-${label}`,
      });
      const del = await client.call(joinRef, ownTopic, 'delete_message', { message_id: id });
      const httpEdit = await http(mallory, 'PATCH', messagePath(ownRoom, id), {
        content: 'guess',
        ref_id: `h-${label}`,
      });
      const httpDel = await http(mallory, 'DELETE', messagePath(ownRoom, id));
      answers[label] = [edit, del, httpEdit, httpDel];
      for (const reply of [edit, del]) {
        expect(reply, label).toMatchObject({ status: 'error', response: { reason: 'not_found' } });
      }
      for (const res of [httpEdit, httpDel]) {
        expect(res.status, label).toBe(404);
        expect(res.body.error?.code, label).toBe('not_found');
      }
    }
    expect(JSON.stringify(answers['other chat'])).toBe(JSON.stringify(answers.nowhere));
    expect(JSON.stringify(answers)).not.toContain('the plans');

    expect(await head(owner, secretRoom)).toBe(secret.seq);
    expect(await current(owner, secretRoom, secret.seq)).toEqual(secret);
    expect(await head(mallory, ownRoom)).toBe(own.seq);
    expect(sqliteSnapshot(relay.dataDir)).toEqual(before);
  });

  it('refuses malformed, huge and wrongly typed ids and content with documented codes', async () => {
    const ana = await user('Ana');
    const chatId = await room(ana, 'private');
    const target = await post(ana, chatId, 'stay as I am');
    const before = sqliteSnapshot(relay.dataDir);
    const client = await raw(ana);
    const topic = `chat:${chatId}`;
    const { joinRef } = await client.join(topic);

    const cases: [string, string, unknown, string][] = [
      [
        'empty id',
        'edit_message',
        { message_id: '', content: 'x', ref_id: 'r' },
        'invalid_payload',
      ],
      ['65-char id', 'delete_message', { message_id: 'a'.repeat(65) }, 'invalid_payload'],
      ['huge id', 'delete_message', { message_id: 'a'.repeat(30_000) }, 'invalid_payload'],
      ['number id', 'delete_message', { message_id: 12 }, 'invalid_payload'],
      [
        'null id',
        'edit_message',
        { message_id: null, content: 'x', ref_id: 'r' },
        'invalid_payload',
      ],
      ['object id', 'delete_message', { message_id: { $gt: '' } }, 'invalid_payload'],

      [
        'no ref_id',
        'edit_message',
        { message_id: target.message_id, content: 'x' },
        'invalid_payload',
      ],
      [
        'empty ref_id',
        'edit_message',
        { message_id: target.message_id, content: 'x', ref_id: '' },
        'invalid_payload',
      ],
      [
        'long ref_id',
        'edit_message',
        { message_id: target.message_id, content: 'x', ref_id: 'r'.repeat(129) },
        'invalid_payload',
      ],
      [
        'content not a string',
        'edit_message',
        { message_id: target.message_id, content: ['x'], ref_id: 'r' },
        'invalid_payload',
      ],
      [
        'empty content',
        'edit_message',
        { message_id: target.message_id, content: '', ref_id: 'r1' },
        'empty_message',
      ],
      [
        'whitespace content',
        'edit_message',
        { message_id: target.message_id, content: ' \n\t ', ref_id: 'r2' },
        'empty_message',
      ],
      [
        'content over the limit',
        'edit_message',
        { message_id: target.message_id, content: 'x'.repeat(MAX_CHARS + 1), ref_id: 'r3' },
        'message_too_long',
      ],
      // Shaped like an id: just an id that exists nowhere (parameters, never SQL text).
      ['SQL in the id', 'delete_message', { message_id: "x' OR '1'='1" }, 'not_found'],
    ];
    for (const [what, event, payload, code] of cases) {
      const reply = await client.call(joinRef, topic, event, payload).catch((error: unknown) => {
        throw new Error(`${what}: ${String(error)} (closed ${client.closeCode})`);
      });
      expect(reply, what).toMatchObject({ status: 'error', response: { reason: code } });
    }
    // A wildcard-looking id that fits the pattern is just an unknown id.
    const like = await client.call(joinRef, topic, 'delete_message', { message_id: '%' });
    expect(like).toMatchObject({ status: 'error', response: { reason: 'not_found' } });
    // Over HTTP: ids that cannot be ids do not reach a route; bad bodies are refused.
    for (const id of ['a'.repeat(65), "x'%20OR%20'1'='1", '..%2F..%2Fetc', '%00']) {
      const res = await http(ana, 'DELETE', messagePath(chatId, id));
      expect(res.status, id).toBe(404);
      expect(res.body.error?.code, id).toBe('not_found');
    }
    const tooLong = await http(ana, 'PATCH', messagePath(chatId, target.message_id), {
      content: 'x'.repeat(MAX_CHARS + 1),
      ref_id: 'h1',
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error?.code).toBe('message_too_long');

    expect(await head(ana, chatId)).toBe(target.seq);
    expect(await current(ana, chatId, target.seq)).toEqual(target);
    expect(sqliteSnapshot(relay.dataDir)).toEqual(before);
    // The connection survived all of it.
    expect(client.closeCode).toBeNull();
    // A payload that is not an object is a malformed frame: that connection is closed (1007).
    const breaker = await raw(ana);
    const joined = await breaker.join(topic);
    breaker.send(joined.joinRef, topic, 'delete_message', [target.message_id]);
    expect(await breaker.closed()).toBe(1007);
    expect(sqliteSnapshot(relay.dataDir)).toEqual(before);

    // A message_id smuggled into the HTTP body is ignored: the path names the message.
    const other = await post(ana, chatId, 'not this one');
    const smuggled = await http(ana, 'PATCH', messagePath(chatId, target.message_id), {
      content: 'edited by path',
      ref_id: 'h2',
      message_id: other.message_id,
    });
    expect(smuggled.status).toBe(200);
    expect((smuggled.body as unknown as MessageChanged).event.message_id).toBe(target.message_id);
    expect((await current(ana, chatId, other.seq)).content).toBe('not this one');
  });

  it('refuses editing a deleted message and changing an expired one, taking no seq', async () => {
    const ana = await user('Ana');
    const chatId = await room(ana, 'private');
    const target = await post(ana, chatId, 'soon gone');
    const deleted = await http(ana, 'DELETE', messagePath(chatId, target.message_id));
    expect(deleted.status).toBe(200);
    const tombstone = (deleted.body as unknown as MessageChanged).message;
    const vanishing = await room(ana, 'private', [], { ephemeral_ttl_s: 1 });
    const fleeting = await post(ana, vanishing, 'gone in a second');
    await until(() => Date.now() > Date.parse(fleeting.expires_at ?? '') + 50, 5_000, 'expiry');
    const before = sqliteSnapshot(relay.dataDir);

    const client = await raw(ana);
    const topic = `chat:${chatId}`;
    const { joinRef } = await client.join(topic);
    const socketEdit = await client.call(joinRef, topic, 'edit_message', {
      message_id: target.message_id,
      content: 'back from the dead',
      ref_id: 'z1',
    });
    expect(socketEdit).toMatchObject({ status: 'error', response: { reason: 'message_deleted' } });
    const httpEdit = await http(ana, 'PATCH', messagePath(chatId, target.message_id), {
      content: 'back from the dead',
      ref_id: 'z2',
    });
    expect(httpEdit.status).toBe(409);
    expect(httpEdit.body.error?.code).toBe('message_deleted');
    // Deleting it again is an idempotent retry, not a new change.
    const again = await http(ana, 'DELETE', messagePath(chatId, target.message_id));
    expect(again.status).toBe(200);
    expect((again.body as unknown as MessageChanged).duplicate).toBe(true);

    for (const [method, body] of [
      ['PATCH', { content: 'still here?', ref_id: 'x1' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await http(ana, method, messagePath(vanishing, fleeting.message_id), body);
      expect(res.status, method).toBe(410);
      expect(res.body.error?.code, method).toBe('message_expired');
    }

    expect(await head(ana, chatId)).toBe(tombstone.version_seq);
    expect(await current(ana, chatId, target.seq)).toEqual(tombstone);
    expect(await head(ana, vanishing)).toBe(fleeting.seq);
    expect(sqliteSnapshot(relay.dataDir)).toEqual(before);
  });
});

describe('edit floods (hostile)', () => {
  let relay: TestRelay;
  const raws: RawClient[] = [];
  beforeAll(async () => {
    relay = await startTestRelay({
      limits: { sessionAttemptsPerMinute: 10_000, messagesPerSecond: 1, messageBurst: 5 },
    });
  });
  afterEach(() => {
    for (const client of raws.splice(0)) client.close();
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  it('rate-limits edits and deletes with sends, on the socket and over HTTP; refused ones take no seq', async () => {
    const ana = await signIn(relay, 'Ana');
    const created = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/chats', {
      name: 'flooded',
      visibility: 'private',
    });
    const chatId = created.body.chat.id;
    const sent = await api<MessageSent & { message: WireMessage }>(
      relay,
      ana.token,
      'POST',
      `/api/chats/${chatId}/messages`,
      { content: 'target', mobile_ref_id: 'target' },
    );
    expect(sent.status).toBe(201);
    const messageId = sent.body.message.message_id;

    const client = await RawClient.connect(relay, ana.token, 'flooder');
    raws.push(client);
    const topic = `chat:${chatId}`;
    const { joinRef } = await client.join(topic);
    const refs = Array.from({ length: 25 }, (_, i) =>
      client.send(joinRef, topic, 'edit_message', {
        message_id: messageId,
        content: `edit ${i}`,
        ref_id: `flood-${i}`,
      }),
    );
    const replies = await Promise.all(refs.map((ref) => client.reply(ref)));
    const accepted = replies.filter((r) => r.status === 'ok');
    const limited = replies.filter(
      (r) => r.status === 'error' && (r.response as { reason?: string }).reason === 'rate_limited',
    );
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(accepted.length).toBeLessThanOrEqual(7);
    expect(accepted.length + limited.length).toBe(25);

    const flood = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        fetch(`${relay.url}/api/chats/${chatId}/messages/${messageId}`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${ana.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ content: `http ${i}`, ref_id: `http-${i}` }),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as unknown })),
      ),
    );
    const httpOk = flood.filter((res) => res.status === 200).length;
    expect(httpOk).toBeLessThanOrEqual(7);
    expect(flood.filter((res) => res.status === 429)).toHaveLength(15 - httpOk);
    const deletes = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(`${relay.url}/api/chats/${chatId}/messages/${messageId}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${ana.token}` },
        }).then((res) => res.status),
      ),
    );
    expect(deletes.filter((status) => status === 429).length).toBeGreaterThan(0);
    const deletesOk = deletes.filter((status) => status === 200).length;

    // Every seq taken belongs to an accepted change: the target, the accepted edits, at most one
    // delete (the rest duplicates), nothing for a refusal.
    const chat = await api<{ chat: ChatInfo }>(relay, ana.token, 'GET', `/api/chats/${chatId}`);
    expect(chat.body.chat.last_seq).toBe(1 + accepted.length + httpOk + Math.min(1, deletesOk));
    expect(client.closeCode).toBeNull();
  });
});
