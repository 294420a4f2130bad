/**
 * kill -9 of the real relay process at random moments during bursts of sends, many rounds on
 * one data folder. What it holds the relay to (the durability promise of PROTOCOL.md):
 * every `message_sent` "sent" is stored exactly once with its seq; seqs per chat stay gap-free;
 * the file passes `PRAGMA integrity_check`; nothing reaches a client before it is committed;
 * a client resuming with `since_seq` gets exactly what it missed, in order; resending the
 * unacknowledged outbox with the same `mobile_ref_id` (as the real client does) never duplicates;
 * the search index keeps one key per stored message and exactly the keys up to its recorded
 * progress indexed, and at the end finds every acknowledged message once, as itself.
 *
 * The kill moments come from a seeded PRNG; the seed is printed. Replay a failure with
 * `PARLEY_CRASH_SEED=<seed> npx vitest run --config vitest.hostile.config.ts relay/tests/crash.hostile.test.ts`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import Database from 'better-sqlite3';
import { Socket } from 'phoenix';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type {
  ChatInfo,
  ChatJoinReply,
  ChatSummary,
  MessageSent,
  WireMessage,
} from '../protocol/events.js';
import { SqliteSearchIndex, indexedText } from '../store/sqlite/sqlite-search-index.js';
import {
  RawClient,
  api,
  join as joinChannel,
  removeDir,
  signIn,
  until,
  type Session,
} from '../testing/relay-harness.js';
import {
  killAllRelayProcesses,
  startRelayProcess,
  type RelayProcess,
} from '../testing/relay-process.js';

/** kill -9 rounds. */
const ROUNDS = 20;
/** New sends per writer per round, pushed at once (after the writer's resends). */
const BURST = 40;
/** Longest random delay between the first push and the kill, in "delay" rounds. */
const MAX_KILL_DELAY_MS = 150;
/**
 * Sends one client keeps unanswered at once. Real clients pace themselves (ParleyClient sends
 * its outbox one message at a time); without a window a large outbox would blow the relay's
 * bound of 256 frames waiting per connection and be closed with 1008, which is not under test.
 */
const SEND_WINDOW = 32;
const SEED = Number(process.env.PARLEY_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, seedable, good enough to pick kill moments reproducibly. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Sent {
  chatId: string;
  content: string;
}

interface Acked {
  chatId: string;
  seq: number;
  messageId: string;
}

interface Writer {
  name: string;
  session: Session;
  chatId: string;
  /** `phoenix`: the official client; `raw`: frames by hand over `ws`. */
  kind: 'raw' | 'phoenix';
  /** Resends its outbox over `POST /api/chats/:id/messages` instead of the socket. */
  resendOverHttp: boolean;
  /** Sent but never acknowledged: ref → content, in send order. */
  outbox: Map<string, string>;
  /** Every message of its chat this client has seen (join replies, broadcasts, own acks). */
  seen: Map<number, string>;
}

/** One round's connection of a writer, whatever the client library. */
interface LiveClient {
  reply: ChatJoinReply;
  pushSend(ref: string, content: string): void;
  acks: MessageSent[];
  received: WireMessage[];
  closed: Promise<void>;
  dispose(): void;
}

const key = (senderId: string, ref: string): string => `${senderId}/${ref}`;

/** Sends in order, at most SEND_WINDOW unanswered; `answered` lets the next one go. */
function sendWindow(send: (ref: string, content: string) => void): {
  enqueue: (ref: string, content: string) => void;
  answered: () => void;
} {
  const queue: [string, string][] = [];
  let inFlight = 0;
  const pump = (): void => {
    while (inFlight < SEND_WINDOW) {
      const next = queue.shift();
      if (next === undefined) return;
      inFlight += 1;
      send(...next);
    }
  };
  return {
    enqueue: (ref, content) => {
      queue.push([ref, content]);
      pump();
    },
    answered: () => {
      inFlight -= 1;
      pump();
    },
  };
}

afterEach(killAllRelayProcesses);

async function connectRaw(
  relay: RelayProcess,
  writer: Writer,
  since: number,
  onAck: () => void,
): Promise<LiveClient> {
  const raw = await RawClient.connect(relay, writer.session.token, writer.name);
  const topic = `chat:${writer.chatId}`;
  const acks: MessageSent[] = [];
  const received: WireMessage[] = [];
  let joinRef: string | null = null;
  const window = sendWindow(
    (ref, content) =>
      void raw.send(joinRef, topic, 'send_message', { content, mobile_ref_id: ref }),
  );
  raw.socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as unknown[];
    if (frame[3] === 'message_sent') {
      acks.push(frame[4] as MessageSent);
      window.answered();
      onAck();
    } else if (frame[3] === 'receive_message') {
      received.push(frame[4] as WireMessage);
    }
  });
  const joined = await raw.join(topic, { since_seq: since });
  expect(joined.status, `${writer.name} join`).toBe('ok');
  joinRef = joined.joinRef;
  return {
    reply: joined.response as unknown as ChatJoinReply,
    pushSend: window.enqueue,
    acks,
    received,
    closed: raw.closed().then(() => undefined),
    dispose: () => raw.close(),
  };
}

async function connectPhoenix(
  relay: RelayProcess,
  writer: Writer,
  since: number,
  onAck: () => void,
): Promise<LiveClient> {
  const socket = new Socket(relay.socketUrl, {
    params: { token: writer.session.token, device_unique_id: writer.name },
    transport: WebSocket as unknown as typeof globalThis.WebSocket,
    // The next relay listens on another port: this socket is disposed of right after the kill.
    reconnectAfterMs: () => 1_000,
    rejoinAfterMs: () => 1_000,
    timeout: 30_000,
  });
  let markClosed = (): void => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  socket.onClose(() => markClosed());
  socket.connect();
  const channel = socket.channel(`chat:${writer.chatId}`, { since_seq: since });
  const acks: MessageSent[] = [];
  const received: WireMessage[] = [];
  const window = sendWindow(
    (ref, content) => void channel.push('send_message', { content, mobile_ref_id: ref }, 30_000),
  );
  channel.on('message_sent', (payload: MessageSent) => {
    acks.push(payload);
    window.answered();
    onAck();
  });
  channel.on('receive_message', (message: WireMessage) => void received.push(message));
  const joined = await joinChannel<ChatJoinReply>(channel, 20_000);
  expect(joined.status, `${writer.name} join`).toBe('ok');
  return {
    reply: joined.response,
    pushSend: window.enqueue,
    acks,
    received,
    closed,
    dispose: () => socket.disconnect(),
  };
}

/** The whole history of a chat, paged over HTTP. */
async function historyAfter(
  relay: { url: string },
  token: string,
  chatId: string,
  afterSeq: number,
): Promise<WireMessage[]> {
  const messages: WireMessage[] = [];
  for (let more = true; more;) {
    const page = await api<{ messages: WireMessage[]; has_more: boolean }>(
      relay,
      token,
      'GET',
      `/api/chats/${chatId}/messages?limit=500&after_seq=${messages.at(-1)?.seq ?? afterSeq}`,
    );
    expect(page.status).toBe(200);
    messages.push(...page.body.messages);
    more = page.body.has_more;
  }
  return messages;
}

/**
 * Opens the file of a dead relay read-only: integrity, and per chat as many messages as
 * `last_seq`, the highest being `last_seq`.
 */
function checkDatabaseFile(dataDir: string): void {
  const db = new Database(joinPath(dataDir, 'parley.db'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const chats = db
      .prepare(
        `SELECT c.id, c.last_seq, count(m.seq) AS stored, coalesce(max(m.seq), 0) AS top
         FROM chats c LEFT JOIN messages m ON m.chat_id = c.id GROUP BY c.id`,
      )
      .all() as { id: string; last_seq: number; stored: number; top: number }[];
    for (const chat of chats) {
      expect({ id: chat.id, stored: chat.stored, top: chat.top }).toEqual({
        id: chat.id,
        stored: chat.last_seq,
        top: chat.last_seq,
      });
    }
    // The search index: one key per message, each for a stored message, and exactly the keys
    // up to the recorded progress indexed (a batch and its progress commit together).
    const keys = db
      .prepare(
        `SELECT count(*) AS keys, count(DISTINCT k.chat_id || ':' || k.seq) AS distinct_keys,
           count(m.seq) AS stored, coalesce(max(k.rowid), 0) AS top
         FROM message_search_keys k LEFT JOIN messages m ON m.chat_id = k.chat_id AND m.seq = k.seq`,
      )
      .get() as { keys: number; distinct_keys: number; stored: number; top: number };
    const messages = db.prepare('SELECT count(*) FROM messages').pluck().get() as number;
    expect(keys).toEqual({
      keys: messages,
      distinct_keys: messages,
      stored: messages,
      top: messages,
    });
    const progress = db
      .prepare('SELECT indexed_upto FROM message_search_progress')
      .pluck()
      .get() as number;
    const indexed = db.prepare('SELECT count(*) FROM message_search').pluck().get() as number;
    expect(indexed).toBe(progress);
    expect(progress).toBeLessThanOrEqual(messages);
  } finally {
    db.close();
  }
}

/**
 * After the last clean stop: indexes whatever is pending, then finds every acknowledged
 * message by its whole text (an exact phrase), exactly once, as the message it is.
 */
function checkSearchIndex(
  dataDir: string,
  sent: Map<string, Sent>,
  acked: Map<string, Acked>,
): void {
  const db = new Database(joinPath(dataDir, 'parley.db'));
  const index = new SqliteSearchIndex(db);
  try {
    index.catchUp(Number.MAX_SAFE_INTEGER);
    const find = db.prepare(
      `SELECT k.chat_id AS chatId, k.seq FROM message_search s
       JOIN message_search_keys k ON k.rowid = s.rowid WHERE message_search MATCH ?`,
    );
    for (const [id, where] of acked) {
      // Every word in order, as indexed under its chat (searchTerms would drop repeated ones).
      const words = indexedText(where.chatId, sent.get(id)?.content ?? '');
      expect(words.length, id).toBeGreaterThan(0);
      expect(find.all(`"${words}"`), id).toEqual([{ chatId: where.chatId, seq: where.seq }]);
    }
  } finally {
    index.close();
    db.close();
  }
}

/** Highest n such that the client has seen every seq 1..n of its chat. */
function contiguous(seen: Map<number, string>): number {
  let n = 0;
  while (seen.has(n + 1)) n += 1;
  return n;
}

const wireView = (m: WireMessage) => ({
  seq: m.seq,
  message_id: m.message_id,
  sender_id: m.sender_id,
  mobile_ref_id: m.mobile_ref_id,
  content: m.content,
});

/** fetch's failure when the relay process is gone: refused, reset or cut mid-answer (undici). */
function relayGone(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  if (error.message === 'terminated') return true;
  const cause: unknown = error.cause;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : '';
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code);
}

describe('crash (hostile, slow)', () => {
  it(
    `keeps every acknowledged message exactly once across ${ROUNDS} random kill -9s`,
    { timeout: 600_000 },
    async () => {
      console.log(
        `crash seed ${SEED} (replay: PARLEY_CRASH_SEED=${SEED} npx vitest run --config vitest.hostile.config.ts relay/tests/crash.hostile.test.ts)`,
      );
      const random = prng(SEED);
      const dataDir = mkdtempSync(joinPath(tmpdir(), 'parley-crash-'));
      // High rate limits: the bursts are what is under test, not the limiter.
      const args = [
        '--data',
        dataDir,
        '--durability',
        'full',
        ...['messagesPerSecond', 'messageBurst', 'framesPerSecond', 'frameBurst'].flatMap(
          (name) => ['--limit', `${name}=100000`],
        ),
      ];
      try {
        let relay = await startRelayProcess(args);
        const [ana, ben, cy, dee] = await Promise.all(
          ['Ana', 'Ben', 'Cy', 'Dee'].map((name) => signIn(relay, name)),
        );
        if (ana === undefined || ben === undefined || cy === undefined || dee === undefined) {
          throw new Error('sign-in failed');
        }
        const chats = await api<{ chats: ChatSummary[] }>(relay, ana.token, 'GET', '/api/chats');
        const mainId = chats.body.chats.find((chat) => chat.is_main)?.id ?? '';
        const side = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/chats', {
          name: 'side',
          visibility: 'public',
        });
        const sideId = side.body.chat.id;
        for (const user of [ben, cy]) {
          await api(relay, user.token, 'POST', `/api/chats/${sideId}/join`);
        }
        const writer = (
          name: string,
          session: Session,
          chatId: string,
          kind: Writer['kind'],
          resendOverHttp = false,
        ): Writer => ({
          name,
          session,
          chatId,
          kind,
          resendOverHttp,
          outbox: new Map(),
          seen: new Map(),
        });
        // Five writers on two chats; Ana writes from two connections, Dee with `phoenix`.
        const writers = [
          writer('ana-main', ana, mainId, 'raw'),
          writer('ben-main', ben, mainId, 'raw'),
          writer('dee-main', dee, mainId, 'phoenix'),
          writer('cy-side', cy, sideId, 'raw', true),
          writer('ana-side', ana, sideId, 'raw'),
        ];
        const sent = new Map<string, Sent>();
        const acked = new Map<string, Acked>();
        /** Per writer, the refs its socket pushed last round, in order (prefix check). */
        let lastPushes = new Map<Writer, string[]>();
        let storedBefore = new Set<string>();

        /** Checks the live relay's history against everything the test knows. */
        const verifyStore = async (): Promise<Map<string, WireMessage>> => {
          const byKey = new Map<string, WireMessage>();
          const histories = new Map<string, WireMessage[]>();
          for (const chatId of [mainId, sideId]) {
            const history = await historyAfter(relay, ana.token, chatId, 0);
            histories.set(chatId, history);
            // Gap-free and strictly increasing: exactly 1..N, N being the chat's last_seq.
            expect(history.map((message) => message.seq)).toEqual(
              history.map((_, index) => index + 1),
            );
            const detail = await api<{ chat: ChatInfo }>(
              relay,
              ana.token,
              'GET',
              `/api/chats/${chatId}`,
            );
            expect(detail.body.chat.last_seq).toBe(history.length);
            for (const message of history) {
              const id = key(message.sender_id, message.mobile_ref_id);
              expect(byKey.has(id), `${id} stored twice`).toBe(false);
              // Only what a client sent, where and as it was sent.
              expect(sent.get(id), `${id} was never sent`).toEqual({
                chatId,
                content: message.content,
              });
              byKey.set(id, message);
            }
          }
          for (const [id, ack] of acked) {
            const stored = byKey.get(id);
            expect(stored, `acknowledged ${id} is missing`).toBeDefined();
            expect({
              chatId: stored?.chat_id,
              seq: stored?.seq,
              messageId: stored?.message_id,
            }).toEqual(ack);
          }
          for (const w of writers) {
            // Persist, then broadcast: whatever any client saw is in the history, unchanged.
            const history = histories.get(w.chatId) ?? [];
            for (const [seq, messageId] of w.seen) {
              expect(history[seq - 1]?.message_id, `${w.name} saw seq ${seq}`).toBe(messageId);
            }
            // A connection's sends are stored in order: of what it pushed (and was not already
            // stored), what survived is a prefix, with increasing seqs.
            const pushed = (lastPushes.get(w) ?? []).filter(
              (ref) => !storedBefore.has(key(w.session.user.id, ref)),
            );
            const stored = pushed.map((ref) => byKey.get(key(w.session.user.id, ref)));
            const survived = stored.findIndex((message) => message === undefined);
            const prefix = survived === -1 ? stored.length : survived;
            expect(
              stored.slice(prefix).every((message) => message === undefined),
              `${w.name}: stored sends are not a prefix of what it pushed`,
            ).toBe(true);
            const seqs = stored.slice(0, prefix).map((message) => message?.seq ?? 0);
            expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          }
          return byKey;
        };

        /** Connects every writer, resuming from what it has seen, and checks the resume. */
        const connectAll = async (
          byKey: Map<string, WireMessage>,
          onAck: () => void,
        ): Promise<LiveClient[]> => {
          const histories = new Map<string, WireMessage[]>();
          for (const message of byKey.values()) {
            const list = histories.get(message.chat_id) ?? [];
            list.push(message);
            histories.set(message.chat_id, list);
          }
          return Promise.all(
            writers.map(async (w) => {
              const since = contiguous(w.seen);
              const client = await (w.kind === 'raw' ? connectRaw : connectPhoenix)(
                relay,
                w,
                since,
                onAck,
              );
              const got = [...client.reply.messages];
              if (client.reply.has_more) {
                got.push(
                  ...(await historyAfter(relay, w.session.token, w.chatId, got.at(-1)?.seq ?? 0)),
                );
              }
              // Exactly what it missed, in order: nothing is sending while clients join.
              const missed = (histories.get(w.chatId) ?? [])
                .filter((message) => message.seq > since)
                .sort((a, b) => a.seq - b.seq);
              expect(got.map(wireView), `${w.name} resumed from ${since}`).toEqual(
                missed.map(wireView),
              );
              expect(client.reply.last_seq).toBe(missed.at(-1)?.seq ?? since);
              for (const message of got) w.seen.set(message.seq, message.message_id);
              return client;
            }),
          );
        };

        /** Records an acknowledgement, checking it against what was stored before the round. */
        const recordAck = (w: Writer, ack: MessageSent): void => {
          expect(ack.status, `${w.name} ${ack.mobile_ref_id}: ${ack.reason ?? ''}`).toBe('sent');
          const id = key(w.session.user.id, ack.mobile_ref_id);
          // A resend of something stored before this round is answered as a duplicate.
          expect(ack.duplicate === true, `${id} duplicate flag`).toBe(storedBefore.has(id));
          const entry = { chatId: ack.chat_id, seq: ack.seq ?? 0, messageId: ack.message_id ?? '' };
          const earlier = acked.get(id);
          if (earlier !== undefined) expect(entry).toEqual(earlier);
          acked.set(id, entry);
          w.outbox.delete(ack.mobile_ref_id);
          w.seen.set(entry.seq, entry.messageId);
        };

        for (let round = 1; round <= ROUNDS; round += 1) {
          const byKey = await verifyStore();
          storedBefore = new Set(byKey.keys());
          let acks = 0;
          let killed = false;
          const victim = relay.child;
          const kill = (): void => {
            if (killed) return;
            killed = true;
            victim.kill('SIGKILL');
          };
          const totalPushes = writers.reduce((sum, w) => sum + w.outbox.size + BURST, 0);
          const byAcks = random() < 0.5;
          // Up to 10% past the total: some rounds are killed only once everything is acknowledged.
          const killAt = 1 + Math.floor(random() * totalPushes * 1.1);
          const killDelayMs = Math.floor(random() * MAX_KILL_DELAY_MS);
          const onAck = (): void => {
            acks += 1;
            if (byAcks && acks >= killAt) kill();
          };
          const clients = await connectAll(byKey, onAck);
          // A connection the relay closed by itself (a limit) would stall the round: fail fast.
          let closedEarly = false;
          for (const client of clients) void client.closed.then(() => (closedEarly ||= !killed));

          const pushes = new Map<Writer, string[]>();
          const httpResends: Promise<void>[] = [];
          writers.forEach((w, index) => {
            const client = clients[index];
            if (client === undefined) return;
            const order: string[] = [];
            const resend = [...w.outbox];
            if (w.resendOverHttp) {
              httpResends.push(
                (async () => {
                  for (const [ref, content] of resend) {
                    const answer = await api<MessageSent>(
                      relay,
                      w.session.token,
                      'POST',
                      `/api/chats/${w.chatId}/messages`,
                      { content, mobile_ref_id: ref },
                    ).catch((error: unknown) => {
                      // Only the relay dying under the request leaves it unacknowledged; any
                      // other failure (a 500 that is not JSON, say) is a bug and fails the test.
                      if (killed && relayGone(error)) return null;
                      throw error;
                    });
                    if (answer === null) return;
                    const id = key(w.session.user.id, ref);
                    expect(answer.status, `${id} over HTTP`).toBe(storedBefore.has(id) ? 200 : 201);
                    recordAck(w, answer.body);
                    onAck();
                  }
                })(),
              );
            }
            for (const [ref, content] of w.resendOverHttp ? [] : resend) {
              order.push(ref);
              client.pushSend(ref, content);
            }
            for (let n = 1; n <= BURST; n += 1) {
              const ref = `r${round}-${w.name}-${n}`;
              const content = `round ${round} ${w.name} #${n}`;
              sent.set(key(w.session.user.id, ref), { chatId: w.chatId, content });
              w.outbox.set(ref, content);
              order.push(ref);
              client.pushSend(ref, content);
            }
            pushes.set(w, order);
          });
          const timer = byAcks ? null : setTimeout(kill, killDelayMs);
          await until(
            () => killed || acks >= totalPushes || closedEarly,
            120_000,
            'the burst to be answered',
          );
          expect(closedEarly, 'a connection was closed before the kill').toBe(false);
          kill();
          if (timer !== null) clearTimeout(timer);

          const exit = await relay.exited;
          expect(exit.signal).toBe('SIGKILL');
          await Promise.all(clients.map((client) => client.closed));
          await Promise.all(httpResends);
          clients.forEach((client, index) => {
            const w = writers[index];
            if (w === undefined) return;
            client.dispose();
            for (const ack of client.acks) recordAck(w, ack);
            for (const message of client.received) w.seen.set(message.seq, message.message_id);
          });
          lastPushes = pushes;
          console.log(
            `round ${round}: killed ${byAcks ? `after ${killAt} acks` : `${killDelayMs} ms in`}; ` +
              `${acks}/${totalPushes} acknowledged, ${[...writers].reduce((s, w) => s + w.outbox.size, 0)} unacknowledged`,
          );
          checkDatabaseFile(dataDir);
          relay = await startRelayProcess(args);
        }

        // A last start without a kill: resume, resend every outbox, and everything is there once.
        const byKey = await verifyStore();
        storedBefore = new Set(byKey.keys());
        let acks = 0;
        const clients = await connectAll(byKey, () => (acks += 1));
        const pending = writers.reduce((sum, w) => sum + w.outbox.size, 0);
        writers.forEach((w, index) => {
          for (const [ref, content] of w.outbox) clients[index]?.pushSend(ref, content);
        });
        await until(() => acks >= pending, 60_000, 'the outboxes to be acknowledged');
        clients.forEach((client, index) => {
          const w = writers[index];
          if (w !== undefined) for (const ack of client.acks) recordAck(w, ack);
        });
        lastPushes = new Map();
        expect(writers.map((w) => w.outbox.size)).toEqual(writers.map(() => 0));
        const final = await verifyStore();
        expect(acked.size).toBe(sent.size);
        expect(final.size).toBe(sent.size);
        for (const client of clients) client.dispose();

        relay.child.kill('SIGTERM');
        expect(await relay.exited).toEqual({ code: 0, signal: null });
        checkDatabaseFile(dataDir);
        checkSearchIndex(dataDir, sent, acked);
      } finally {
        removeDir(dataDir);
      }
    },
  );
});
