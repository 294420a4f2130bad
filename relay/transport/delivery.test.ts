import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  RawClient,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type TestRelay,
} from '../testing/relay-harness.js';

/**
 * delivery.ts keeps, per chat, who may need a new_notification and recomputes it only when this
 * node's connections or subscriptions changed: opening, leaving and reopening the chat, and
 * devices coming and going, must each change who is notified from the very next message.
 */
describe('new_notification candidates follow joins and leaves', () => {
  let relay: TestRelay;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    relay = await startTestRelay({ limits: { sessionAttemptsPerMinute: 1_000 } });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await relay.close();
    removeDir(relay.dataDir);
  });

  it('notifies a member only while the chat is not open on any of their connections', async () => {
    const ana = await signIn(relay, 'Ana');
    const ben = await signIn(relay, 'Ben');
    const cy = await signIn(relay, 'Cy');
    const room = await api<{ chat: { id: string } }>(relay, ana.token, 'POST', '/api/chats', {
      name: 'cache',
      visibility: 'public',
    });
    const chatId = room.body.chat.id;
    for (const member of [ben, cy]) {
      const joined = await api(relay, member.token, 'POST', `/api/chats/${chatId}/join`, {});
      expect(joined.status).toBe(200);
    }
    let sent = 0;
    const post = async (): Promise<number> => {
      sent += 1;
      const res = await api<{ seq: number }>(
        relay,
        ana.token,
        'POST',
        `/api/chats/${chatId}/messages`,
        {
          content: `message ${sent}`,
          mobile_ref_id: `m${sent}`,
        },
      );
      return res.body.seq;
    };
    const notified = (client: RawClient): number[] =>
      client.frames
        .filter((frame) => frame[3] === 'new_notification')
        .map((frame) => (frame[4] as { seq: number }).seq);
    const connect = async (device: string): Promise<RawClient> => {
      const client = await RawClient.connect(relay, ben.token, device);
      clients.push(client);
      return client;
    };

    // Ben has the chat open on his phone: messages arrive as messages, not notifications.
    const phone = await connect('phone');
    expect((await phone.join(`notifications:${ben.user.id}`)).status).toBe('ok');
    const chat = await phone.join(`chat:${chatId}`);
    expect(chat.status).toBe('ok');
    const first = await post();
    await phone.waitFor(
      (frame) => frame[3] === 'receive_message' && (frame[4] as { seq: number }).seq === first,
    );

    // He leaves it: notified from the next message on.
    expect((await phone.call(chat.joinRef, `chat:${chatId}`, 'phx_leave', {})).status).toBe('ok');
    const second = await post();
    await until(() => notified(phone).includes(second), 5_000, 'the notification after leaving');

    // A laptop opens the chat, then goes away: notified again once it is gone.
    const laptop = await connect('laptop');
    expect((await laptop.join(`chat:${chatId}`)).status).toBe('ok');
    const third = await post();
    await laptop.waitFor(
      (frame) => frame[3] === 'receive_message' && (frame[4] as { seq: number }).seq === third,
    );
    laptop.close();
    await laptop.closed();
    const fourth = await post();
    await until(
      () => notified(phone).includes(fourth),
      5_000,
      'the notification after the laptop left',
    );
    expect(notified(phone)).toEqual([second, fourth]);

    // Cy was offline when the candidates were last worked out; she comes online with her inbox.
    const cyClient = await RawClient.connect(relay, cy.token, 'cy-phone');
    clients.push(cyClient);
    expect((await cyClient.join(`notifications:${cy.user.id}`)).status).toBe('ok');
    const fifth = await post();
    await until(() => notified(cyClient).includes(fifth), 5_000, 'the notification for Cy');
  });
});
