/**
 * Load-generator clients for the three protocols, over plain `ws`: Parley (Phoenix V2 frames),
 * raw-ws (the bench server's frames) and Socket.IO (engine.io v4 + socket.io v5 packets spoken
 * directly: socket.io-client would cost the generator more than the server costs per delivery).
 * After the join, a frame costs one Buffer search (see marker.ts) unless it is an ack.
 */
import WebSocket, { type RawData } from 'ws';
import type { Protocol } from '../config.js';
import { markerContent, markerOf } from './marker.js';

export interface BenchClient {
  /** Sends bench message `index` to the client's room; `text` is appended to the marker. */
  send(index: number, text?: string): void;
  close(): void;
  /** A bench message arrived. */
  onDelivery: (index: number) => void;
  /** Parley only: the relay answered a send (`message_sent`), committed or not. */
  onAck: (index: number, ok: boolean) => void;
  /** The server closed the connection. */
  onClose: () => void;
}

/** Opens clients of one protocol against one server (or cluster). */
export interface Driver {
  /** Creates what `count` clients in `rooms` rooms need (Parley: users, rooms); returns room ids. */
  prepare(count: number, rooms: number): Promise<string[]>;
  /** Connects client `index` to `node` and joins `room`; resolves once joined. */
  connect(index: number, node: string, room: string): Promise<BenchClient>;
  /** Stops heartbeats. */
  stop(): void;
}

const SOCKET_OPTIONS = {
  perMessageDeflate: false,
  skipUTF8Validation: true,
  handshakeTimeout: 60_000,
};
const noop = (): void => undefined;

class Base {
  onDelivery: (index: number) => void = noop;
  onAck: (index: number, ok: boolean) => void = noop;
  onClose: () => void = noop;
  joined = false;
  constructor(readonly ws: WebSocket) {
    ws.on('error', noop);
    ws.on('close', () => this.onClose());
  }
  close(): void {
    this.ws.terminate();
  }
}

/** Resolves when `ws` opens and `join` resolves; rejects on error, close or timeout. */
function opened<T>(ws: WebSocket, join: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (reason: string): void => {
      ws.terminate();
      reject(new Error(reason));
    };
    ws.once('error', (error) => fail(error.message));
    ws.once('close', (code) => fail(`closed with ${code} before joining`));
    join.then(resolve, (error: unknown) => fail(String(error)));
  });
}

function asBuffer(data: RawData): Buffer {
  return Array.isArray(data)
    ? Buffer.concat(data)
    : Buffer.isBuffer(data)
      ? data
      : Buffer.from(data);
}

// ---------------------------------------------------------------------------------------------
// raw-ws

class RawWsClient extends Base {
  constructor(
    ws: WebSocket,
    readonly room: string,
  ) {
    super(ws);
  }
  send(index: number): void {
    this.ws.send(JSON.stringify(['send', this.room, markerContent(index), `r${index}`]));
  }
}

function rawWsDriver(): Driver {
  return {
    prepare: async (_count, rooms) => Array.from({ length: rooms }, (_, i) => `room-${i}`),
    connect(_index, node, room) {
      const ws = new WebSocket(node, SOCKET_OPTIONS);
      const client = new RawWsClient(ws, room);
      const join = new Promise<BenchClient>((resolve) => {
        ws.on('open', () => ws.send(JSON.stringify(['join', room])));
        ws.on('message', (data) => {
          const buffer = asBuffer(data);
          if (client.joined) {
            const index = markerOf(buffer);
            if (index !== -1) client.onDelivery(index);
          } else if (buffer.toString().startsWith('["joined"')) {
            client.joined = true;
            resolve(client);
          }
        });
      });
      return opened(ws, join);
    },
    stop: noop,
  };
}

// ---------------------------------------------------------------------------------------------
// Socket.IO: engine.io v4 packets ('0' open, '2' ping, '3' pong, '4' message) carrying
// socket.io v5 packets ('0' CONNECT, '2' EVENT, '3' ACK), all as text frames.

class SocketIoClient extends Base {
  constructor(
    ws: WebSocket,
    readonly room: string,
  ) {
    super(ws);
  }
  send(index: number): void {
    this.ws.send(
      `42${JSON.stringify(['send_message', this.room, markerContent(index), `r${index}`])}`,
    );
  }
}

const PING = 0x32; // '2'

function socketIoDriver(): Driver {
  return {
    prepare: async (_count, rooms) => Array.from({ length: rooms }, (_, i) => `room-${i}`),
    connect(_index, node, room) {
      const ws = new WebSocket(`${node}/socket.io/?EIO=4&transport=websocket`, SOCKET_OPTIONS);
      const client = new SocketIoClient(ws, room);
      const join = new Promise<BenchClient>((resolve, reject) => {
        ws.on('message', (data) => {
          const buffer = asBuffer(data);
          if (buffer.length === 1 && buffer[0] === PING) {
            ws.send('3');
            return;
          }
          if (client.joined) {
            const index = markerOf(buffer);
            if (index !== -1) client.onDelivery(index);
            return;
          }
          const text = buffer.toString();
          if (text.startsWith('0{')) ws.send('40');
          else if (text.startsWith('40')) ws.send(`420${JSON.stringify(['join', room])}`);
          else if (text.startsWith('430')) {
            client.joined = true;
            resolve(client);
          } else if (text.startsWith('44')) reject(new Error(`connect refused: ${text}`));
        });
      });
      return opened(ws, join);
    },
    stop: noop,
  };
}

// ---------------------------------------------------------------------------------------------
// Parley: Phoenix V2 frames [join_ref, ref, topic, event, payload].

interface Identity {
  token: string;
  userId: string;
}

export class ParleyClient extends Base {
  /** Refs 1 and 2 are the two joins. */
  #ref = 10;
  /**
   * When set, every frame after the joins goes here instead of the marker search (the edits
   * scenario tells messages, edits, deletes and replies apart itself).
   */
  onFrame: ((frame: Buffer) => void) | null = null;
  constructor(
    ws: WebSocket,
    readonly topic: string,
  ) {
    super(ws);
  }
  nextRef(): string {
    this.#ref += 1;
    return String(this.#ref);
  }
  send(index: number, text = ''): void {
    this.ws.send(
      JSON.stringify([
        '1',
        this.nextRef(),
        this.topic,
        'send_message',
        { content: `${markerContent(index)}${text}`, mobile_ref_id: `r${index}` },
      ]),
    );
  }
  /** Pushes `event` with `payload` on the client's chat topic; returns the push's ref. */
  push(event: string, payload: Record<string, unknown>): string {
    const ref = this.nextRef();
    this.ws.send(JSON.stringify(['1', ref, this.topic, event, payload]));
    return ref;
  }
  heartbeat(): void {
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify([null, this.nextRef(), 'phoenix', 'heartbeat', {}]));
    }
  }
}

const MESSAGE_SENT = Buffer.from('"message_sent"');
/** Joins refused with storage_error that a storm client tries again. */
const JOIN_RETRIES = 30;
const PHX_REPLY = Buffer.from('"phx_reply"');

/** One JSON request to the relay's HTTP API; anything but 2xx throws with the answer. */
async function requestJson<T>(
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  token: string | undefined,
): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export function postJson<T>(url: string, body: unknown, token?: string): Promise<T> {
  return requestJson<T>('POST', url, body, token);
}

export function getJson<T>(url: string, token: string): Promise<T> {
  return requestJson<T>('GET', url, undefined, token);
}

/** Runs `task` for 0..count-1 with at most `width` at a time. */
export async function inParallel(
  count: number,
  width: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

function parleyDriver(httpUrl: string): Driver {
  const identities: Identity[] = [];
  const clients = new Set<ParleyClient>();
  // The phoenix client beats every 30 s; the relay closes silent sockets after 60 s.
  const heartbeats = setInterval(() => {
    for (const client of clients) client.heartbeat();
  }, 25_000);
  heartbeats.unref();
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  return {
    async prepare(count, rooms) {
      await inParallel(count, 16, async (i) => {
        const { token, user } = await postJson<{ token: string; user: { id: string } }>(
          `${httpUrl}/api/session`,
          { name: `b${run}-${i}`, device_unique_id: `d${i}` },
        );
        identities[i] = { token, userId: user.id };
      });
      const owner = identities[0]?.token ?? '';
      const res = await fetch(`${httpUrl}/api/chats`, {
        headers: { authorization: `Bearer ${owner}` },
      });
      const { chats } = (await res.json()) as { chats: { id: string; is_main: boolean }[] };
      const main = chats.find((chat) => chat.is_main)?.id;
      if (main === undefined) throw new Error('the relay has no main room');
      const ids = [main];
      for (let r = 1; r < rooms; r += 1) {
        const { chat } = await postJson<{ chat: { id: string } }>(
          `${httpUrl}/api/chats`,
          { name: `bench-${run}-${r}`, visibility: 'public' },
          owner,
        );
        ids.push(chat.id);
      }
      return ids;
    },
    connect(index, node, room) {
      const identity = identities[index];
      if (identity === undefined) throw new Error(`client ${index} was not prepared`);
      const ws = new WebSocket(
        `${node}/socket/websocket?vsn=2.0.0&token=${identity.token}&device_unique_id=d${index}`,
        SOCKET_OPTIONS,
      );
      const topic = `chat:${room}`;
      const client = new ParleyClient(ws, topic);
      const join = new Promise<BenchClient>((resolve, reject) => {
        // Like the real client (renderer/net/parley-client.ts): the room and the user's own
        // notifications topic, so the relay does the work it does for a real user.
        const joins: Record<string, string> = {
          '1': topic,
          '2': `notifications:${identity.userId}`,
        };
        const sendJoin = (ref: string): void => {
          if (ws.readyState === WebSocket.OPEN)
            ws.send(JSON.stringify([ref, ref, joins[ref], 'phx_join', {}]));
        };
        ws.on('open', () => {
          sendJoin('1');
          sendJoin('2');
        });
        let replies = 0;
        let retries = 0;
        ws.on('message', (data) => {
          const buffer = asBuffer(data);
          if (client.joined) {
            if (client.onFrame !== null) {
              client.onFrame(buffer);
              return;
            }
            const index = markerOf(buffer);
            if (index !== -1) {
              client.onDelivery(index);
            } else if (buffer.indexOf(MESSAGE_SENT) !== -1 && buffer.indexOf(PHX_REPLY) === -1) {
              // Only senders get these; parse them (rare next to deliveries).
              const frame = JSON.parse(buffer.toString()) as [
                unknown,
                unknown,
                string,
                string,
                { status?: string; mobile_ref_id?: string },
              ];
              const ref = frame[4].mobile_ref_id ?? '';
              client.onAck(Number(ref.slice(1)), frame[4].status === 'sent');
            }
            return;
          }
          // Only the two join replies matter here: a presence_state can be hundreds of KB per
          // joiner in a storm, and parsing those would measure the generator, not the relay.
          if (buffer.indexOf(PHX_REPLY) === -1) return;
          const frame = JSON.parse(buffer.toString()) as [
            unknown,
            unknown,
            string,
            string,
            { status?: string; response?: { reason?: string } },
          ];
          const ref = frame[1];
          if ((ref === '1' || ref === '2') && frame[3] === 'phx_reply') {
            const reason = frame[4].response?.reason ?? '?';
            if (frame[4].status !== 'ok' && reason === 'storage_error' && retries < JOIN_RETRIES) {
              // The relay's database was busy (a cluster in a storm): join again after a
              // backoff, as the phoenix client's rejoin timer does.
              retries += 1;
              setTimeout(() => sendJoin(ref), Math.min(5_000, 250 * retries) * Math.random());
            } else if (frame[4].status !== 'ok') {
              reject(new Error(`join refused: ${reason}`));
            } else if ((replies += 1) === 2) {
              client.joined = true;
              clients.add(client);
              resolve(client);
            }
          }
        });
      });
      ws.on('close', () => clients.delete(client));
      return opened(ws, join);
    },
    stop: () => clearInterval(heartbeats),
  };
}

export function createDriver(protocol: Protocol, httpUrl: string | null): Driver {
  switch (protocol) {
    case 'raw-ws':
      return rawWsDriver();
    case 'socket.io':
      return socketIoDriver();
    case 'parley':
      if (httpUrl === null) throw new Error('parley needs its HTTP URL');
      return parleyDriver(httpUrl);
  }
}
