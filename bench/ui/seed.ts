/** Fills a Parley relay for the UI scenario: users, public rooms, and many messages per room. */
import WebSocket from 'ws';

export interface Session {
  token: string;
  userId: string;
}

async function call<T>(
  url: string,
  init: { method?: string; token?: string; body?: unknown },
): Promise<T> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function signIn(httpUrl: string, name: string): Promise<Session> {
  const { token, user } = await call<{ token: string; user: { id: string } }>(
    `${httpUrl}/api/session`,
    {
      body: { name, device_unique_id: `${name}-device` },
    },
  );
  return { token, userId: user.id };
}

export async function createRoom(httpUrl: string, owner: Session, name: string): Promise<string> {
  const { chat } = await call<{ chat: { id: string } }>(`${httpUrl}/api/chats`, {
    token: owner.token,
    body: { name, visibility: 'public' },
  });
  return chat.id;
}

export async function joinRoom(httpUrl: string, user: Session, chatId: string): Promise<void> {
  await call(`${httpUrl}/api/chats/${chatId}/join`, { token: user.token, body: {} });
}

/**
 * Sends `count` messages to a chat over one socket, keeping `window` sends in flight (so group
 * commit batches them), and resolves once every one is acknowledged as committed.
 */
export function sendMany(
  socketUrl: string,
  sender: Session,
  chatId: string,
  count: number,
  content: (index: number) => string,
  window = 200,
): Promise<void> {
  const topic = `chat:${chatId}`;
  const ws = new WebSocket(`${socketUrl}?vsn=2.0.0&token=${sender.token}&device_unique_id=seeder`, {
    perMessageDeflate: false,
  });
  return new Promise<void>((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const sendNext = (): void => {
      if (sent >= count) return;
      const index = sent;
      sent += 1;
      ws.send(
        JSON.stringify([
          '1',
          String(index + 2),
          topic,
          'send_message',
          { content: content(index), mobile_ref_id: `s${index}` },
        ]),
      );
    };
    ws.once('error', reject);
    ws.once('close', (code) => {
      if (acked < count)
        reject(new Error(`seeding socket closed with ${code} after ${acked} messages`));
    });
    ws.on('open', () => ws.send(JSON.stringify(['1', '1', topic, 'phx_join', {}])));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as [
        unknown,
        unknown,
        string,
        string,
        { status?: string },
      ];
      if (frame[1] === '1' && frame[3] === 'phx_reply') {
        if (frame[4].status !== 'ok') reject(new Error('seeding join refused'));
        else for (let i = 0; i < window; i += 1) sendNext();
        return;
      }
      if (frame[3] !== 'message_sent') return;
      if (frame[4].status !== 'sent') {
        reject(new Error(`seeding send failed: ${JSON.stringify(frame[4])}`));
        return;
      }
      acked += 1;
      if (acked === count) {
        ws.close();
        resolve();
      } else sendNext();
    });
  });
}
