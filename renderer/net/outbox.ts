/**
 * Messages written but not yet acknowledged, in the order they were written, kept in storage so
 * they survive a reload. Bounded: when full, new messages are refused (the composer says so)
 * rather than dropping old ones. Each keeps its mobile_ref_id, so a resend after a lost ack is
 * stored once by the relay.
 */
import type { KeyValueStorage } from './storage.js';

export interface OutboxItem {
  chatId: string;
  mobileRefId: string;
  content: string;
  /** ISO time the user wrote it (shown until the relay's timestamp arrives). */
  createdAt: string;
}

export const OUTBOX_LIMIT = 500;
const KEY = 'parley.outbox';

function isItem(value: unknown): value is OutboxItem {
  const v = value as Partial<OutboxItem> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.chatId === 'string' &&
    typeof v.mobileRefId === 'string' &&
    typeof v.content === 'string' &&
    typeof v.createdAt === 'string'
  );
}

export class Outbox {
  #items: OutboxItem[];

  constructor(
    private readonly storage: KeyValueStorage,
    private readonly scope: string,
    readonly limit: number = OUTBOX_LIMIT,
  ) {
    this.#items = this.#load();
  }

  get size(): number {
    return this.#items.length;
  }

  items(): readonly OutboxItem[] {
    return this.#items;
  }

  /** Adds at the end; false when the outbox is full. */
  add(item: OutboxItem): boolean {
    if (this.#items.length >= this.limit) return false;
    this.#items = [...this.#items, item];
    this.#save();
    return true;
  }

  remove(mobileRefId: string): void {
    const next = this.#items.filter((item) => item.mobileRefId !== mobileRefId);
    if (next.length === this.#items.length) return;
    this.#items = next;
    this.#save();
  }

  has(mobileRefId: string): boolean {
    return this.#items.some((item) => item.mobileRefId === mobileRefId);
  }

  clear(): void {
    this.#items = [];
    this.storage.remove(this.#key());
  }

  #key(): string {
    return `${KEY}:${this.scope}`;
  }

  #load(): OutboxItem[] {
    try {
      const parsed: unknown = JSON.parse(this.storage.get(this.#key()) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter(isItem).slice(0, this.limit) : [];
    } catch {
      return [];
    }
  }

  #save(): void {
    this.storage.set(this.#key(), JSON.stringify(this.#items));
  }
}
