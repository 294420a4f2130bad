/**
 * Seed 002's connection example, run as written with the official `phoenix` client: only the
 * URL, the ids and the token are changed. This is a hard compatibility requirement.
 */
import { Socket } from 'phoenix';
import WS from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type TestRelay,
} from '../testing/relay-harness.js';

describe('seed 002 example against the relay', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay();
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  it('joins, sends, gets message_sent and receive_message, joins notifications and gets pending ones', async () => {
    const ana = await signIn(relay, 'Ana');
    const ben = await signIn(relay, 'Ben');
    const chats = await api<{ chats: { id: string; is_main: boolean }[] }>(
      relay,
      ana.token,
      'GET',
      '/api/chats',
    );
    const general = chats.body.chats.find((chat) => chat.is_main);
    expect(general).toBeDefined();
    // Ben is offline: a message now becomes a pending notification for him.
    const offlineSend = await api(relay, ana.token, 'POST', `/api/chats/${general?.id}/messages`, {
      content: 'while you were away',
      mobile_ref_id: 'away-1',
    });
    expect(offlineSend.status).toBe(201);

    const log: [string, unknown][] = [];
    const console = { log: (label: string, payload?: unknown) => log.push([label, payload]) };

    // ---- the example, verbatim but for URL, ids and token ----
    const jwt_token = ben.token;
    const device_unique_id = 'somerandontoken';

    const socket = new Socket(relay.socketUrl, {
      params: {
        token: jwt_token,
        device_unique_id: device_unique_id,
        preferred_language: 'EN',
      },
      transport: WS as unknown as typeof WebSocket,
    });

    socket.connect();

    const chatID = general?.id ?? '';
    const channel = socket.channel(`chat:${chatID}`, {});

    channel
      .join(5000)
      .receive('ok', (resp) => {
        console.log('Joined successfully', resp);
      })
      .receive('error', (resp) => {
        console.log('Unable to join', resp);
      })
      .receive('timeout', () => {
        console.log('Networking issue. Still waiting...');
      });

    function sendMessage(content: string, mobile_ref_id: string) {
      channel.push('send_message', { content, mobile_ref_id });
    }

    sendMessage("Hey, i'm fine! and you?", '123124');

    channel.on('message_sent', (payload) => {
      console.log('Got message', payload);
    });

    channel.on('receive_message', (payload) => {
      console.log('New message received', payload);
    });

    const notificationID = ben.user.id;
    const notificationChannel = socket.channel(`notifications:${notificationID}`, {});

    notificationChannel
      .join()
      .receive('ok', (resp) => {
        console.log('Joined successfully', resp);
      })
      .receive('error', (resp) => {
        console.log('Unable to join', resp);
      });

    notificationChannel.on('new_notification', (payload) => {
      console.log('New notification received:', payload);
    });

    notificationChannel.on('pending_notification', (payload) => {
      console.log('Pending notification received:', payload);
    });
    // ---- end of the example ----

    // Ana, on another connection, answers in the chat: Ben's example gets receive_message.
    await until(() => log.some(([label]) => label === 'Got message'), 5_000, 'message_sent');
    await api(relay, ana.token, 'POST', `/api/chats/${chatID}/messages`, {
      content: 'fine too',
      mobile_ref_id: 'ana-2',
    });
    await until(
      () => log.some(([label]) => label === 'New message received'),
      5_000,
      'receive_message',
    );
    await until(
      () => log.some(([label]) => label === 'Pending notification received:'),
      5_000,
      'pending_notification',
    );
    socket.disconnect();

    const labels = log.map(([label]) => label);
    expect(labels.filter((label) => label === 'Joined successfully')).toHaveLength(2);
    expect(labels).not.toContain('Unable to join');
    const sent = log.find(([label]) => label === 'Got message')?.[1] as Record<string, unknown>;
    expect(sent).toMatchObject({ mobile_ref_id: '123124', status: 'sent', chat_id: chatID });
    expect(typeof sent.message_id).toBe('string');
    expect(sent.seq).toBe(2);
    const received = log.find(([label]) => label === 'New message received')?.[1];
    expect(received).toMatchObject({
      chat_id: chatID,
      content: 'fine too',
      sender_id: ana.user.id,
      seq: 3,
    });
    const pending = log.find(([label]) => label === 'Pending notification received:')?.[1];
    expect(pending).toMatchObject({
      chat_id: chatID,
      sender_id: ana.user.id,
      content: 'while you were away',
    });
    expect(typeof (pending as { timestamp: unknown }).timestamp).toBe('string');
  });
});
