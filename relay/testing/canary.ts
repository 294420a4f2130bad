/**
 * Shared by the hostile suites: a "canary" (two users chatting through the official `phoenix`
 * client in their own private room) that must keep chatting and lose nothing while an attacker
 * pokes the relay (also chatting in the background while a flood runs), and a real pino logger whose lines are kept so a test can assert the relay
 * logged no error.
 */
import type { Channel, Socket } from 'phoenix';
import { pino, type Logger } from 'pino';
import { expect } from 'vitest';
import type { ChatInfo, MessageSent, WireMessage } from '../protocol/events.js';
import { chatTopic } from '../protocol/topics.js';
import {
  api,
  collect,
  connectPhoenix,
  join,
  push,
  signIn,
  until,
  type Session,
} from './relay-harness.js';

/** What the canary needs of a relay: in this process (TestRelay) or a CLI child (RelayProcess). */
export interface CanaryRelay {
  url: string;
  socketUrl: string;
}

export interface CanaryOptions {
  /** For relays that require a passcode at sign-in. */
  passcode?: string;
  /** How long each join, send and delivery may take (generous under a flood); 5 s by default. */
  timeoutMs?: number;
}

/** Pause between background messages: well under messagesPerSecond, so the canary never trips a limit. */
const CHAT_PAUSE_MS = 100;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real pino logger whose JSON lines are kept for assertions. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { logger, lines };
}

/** Lines at error level or above: a frame handler that threw, an upgrade that failed. */
export function errorsIn(lines: LogLine[]): LogLine[] {
  return lines.filter((line) => line.level >= 50);
}

/** Two users chatting in their own private room through the official `phoenix` client. */
export class Canary {
  readonly #sent: string[] = [];
  readonly #received: WireMessage[];
  readonly #acks: MessageSent[];
  /** Send → ack reply, in ms, of every check so far. */
  readonly #ackMs: number[] = [];
  readonly #timeoutMs: number;
  #loop: Promise<void> | null = null;
  #chatting = false;

  private constructor(
    readonly relay: CanaryRelay,
    readonly sender: Session,
    readonly reader: Session,
    readonly roomId: string,
    readonly sockets: Socket[],
    readonly outbound: Channel,
    inbound: Channel,
    timeoutMs: number,
  ) {
    this.#timeoutMs = timeoutMs;
    this.#received = collect<WireMessage>(inbound, 'receive_message');
    this.#acks = collect<MessageSent>(outbound, 'message_sent');
  }

  static async start(
    relay: CanaryRelay,
    { passcode, timeoutMs = 5_000 }: CanaryOptions = {},
  ): Promise<Canary> {
    const extra = passcode === undefined ? {} : { passcode };
    const sender = await signIn(relay, 'CanarySender', extra);
    const reader = await signIn(relay, 'CanaryReader', extra);
    const room = await api<{ chat: ChatInfo }>(relay, sender.token, 'POST', '/api/chats', {
      name: 'canary',
      visibility: 'private',
    });
    const roomId = room.body.chat.id;
    await api(relay, sender.token, 'POST', `/api/chats/${roomId}/members`, {
      user_id: reader.user.id,
    });
    const senderSocket = connectPhoenix(relay, sender.token, 'canary-sender');
    const readerSocket = connectPhoenix(relay, reader.token, 'canary-reader');
    const outbound = senderSocket.channel(chatTopic(roomId), {});
    const inbound = readerSocket.channel(chatTopic(roomId), {});
    const canary = new Canary(
      relay,
      sender,
      reader,
      roomId,
      [senderSocket, readerSocket],
      outbound,
      inbound,
      timeoutMs,
    );
    expect((await join(outbound, timeoutMs)).status).toBe('ok');
    expect((await join(inbound, timeoutMs)).status).toBe('ok');
    return canary;
  }

  /** How many messages the canary has sent so far. */
  get sentCount(): number {
    return this.#sent.length;
  }

  /** Send → ack times (ms) of the checks from `from` (a sentCount taken earlier) on. */
  ackLatenciesMs(from = 0): number[] {
    return this.#ackMs.slice(from);
  }

  /** One message from sender to reader, acknowledged and delivered. */
  async check(): Promise<void> {
    const n = this.#sent.length + 1;
    const content = `canary message ${n}`;
    this.#sent.push(content);
    const started = performance.now();
    const reply = await push<MessageSent>(
      this.outbound,
      'send_message',
      { content, mobile_ref_id: `canary-${n}` },
      this.#timeoutMs,
    );
    this.#ackMs.push(performance.now() - started);
    expect(reply.status, `canary send: ${JSON.stringify(reply.response)}`).toBe('ok');
    expect(reply.response.seq).toBe(n);
    await until(
      () => this.#received.some((message) => message.content === content),
      this.#timeoutMs,
      `canary message ${n} to arrive`,
    );
  }

  /** Keeps chatting (one message at a time, at the canary's own pace) until stopChatting(). */
  startChatting(): void {
    this.#chatting = true;
    this.#loop = (async () => {
      while (this.#chatting) {
        await this.check();
        await new Promise((resolve) => setTimeout(resolve, CHAT_PAUSE_MS));
      }
    })();
  }

  /** Stops the loop (rethrowing what it hit) and checks once more after the flood. */
  async stopChatting(): Promise<void> {
    this.#chatting = false;
    await this.#loop;
    this.#loop = null;
    await this.check();
  }

  /** Everything sent arrived once, in order, with seqs 1..n, and is stored exactly so. */
  async verify(): Promise<void> {
    const expected = this.#sent.map((content, index) => [index + 1, content]);
    expect(this.#received.map((message) => [message.seq, message.content])).toEqual(expected);
    expect(
      this.#acks.filter((ack) => ack.status === 'sent').map((ack) => ack.mobile_ref_id),
    ).toEqual(this.#sent.map((_, index) => `canary-${index + 1}`));
    const stored: WireMessage[] = [];
    for (let more = true; more;) {
      const page = await api<{ messages: WireMessage[]; has_more: boolean }>(
        this.relay,
        this.reader.token,
        'GET',
        `/api/chats/${this.roomId}/messages?limit=500&after_seq=${stored.at(-1)?.seq ?? 0}`,
      );
      stored.push(...page.body.messages);
      more = page.body.has_more;
    }
    expect(stored.map((message) => [message.seq, message.content])).toEqual(expected);
  }

  stop(): void {
    for (const socket of this.sockets) socket.disconnect();
  }
}
