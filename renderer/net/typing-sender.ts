/** Typing indicators we send: `typing: true` at most every 3 s while composing, false after 4 s idle. */
import type { Channel } from 'phoenix';

const TYPING_RENEW_MS = 3_000;
const TYPING_IDLE_MS = 4_000;

export class TypingSender {
  readonly #typing = new Map<string, { sentAt: number; idle: ReturnType<typeof setTimeout> }>();

  constructor(
    /** The chat's channel when joined, else null. */
    private readonly channel: (chatId: string) => Channel | null,
    private readonly pushTimeoutMs: number,
  ) {}

  /** Call on every change of the composer. */
  composing(chatId: string): void {
    const channel = this.channel(chatId);
    if (channel === null) return;
    const now = Date.now();
    const entry = this.#typing.get(chatId);
    if (entry !== undefined) clearTimeout(entry.idle);
    const sentAt =
      entry === undefined || now - entry.sentAt >= TYPING_RENEW_MS ? now : entry.sentAt;
    if (sentAt === now) channel.push('typing', { typing: true }, this.pushTimeoutMs);
    this.#typing.set(chatId, {
      sentAt,
      idle: setTimeout(() => this.stop(chatId), TYPING_IDLE_MS),
    });
  }

  stop(chatId: string): void {
    const entry = this.#typing.get(chatId);
    if (entry === undefined) return;
    clearTimeout(entry.idle);
    this.#typing.delete(chatId);
    this.channel(chatId)?.push('typing', { typing: false }, this.pushTimeoutMs);
  }

  /** Forgets every timer (teardown); nothing is sent. */
  clear(): void {
    for (const entry of this.#typing.values()) clearTimeout(entry.idle);
    this.#typing.clear();
  }
}
