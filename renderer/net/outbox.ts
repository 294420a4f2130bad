/**
 * What the user did that the relay has not acknowledged yet, in the order they did it, kept in
 * storage so it survives a reload: messages written (sends), and edits and deletes of messages.
 * Bounded: when full, new items are refused (the UI says so) rather than dropping old ones. Each
 * keeps its client-made id (a send's mobile_ref_id, an edit's ref_id), so a resend after a lost
 * ack is applied once by the relay. The send loop is outbox-sender.ts.
 */
import { z } from 'zod';
import type { KeyValueStorage } from './storage.js';

/** A message written here, not yet stored by the relay. */
export interface SendItem {
  /** Absent on items stored before edits existed: those are sends. */
  kind?: 'send';
  chatId: string;
  mobileRefId: string;
  content: string;
  /** ISO time the user wrote it (shown until the relay's timestamp arrives). */
  createdAt: string;
}

/**
 * Which message an edit or delete is for: its id, or the mobile_ref_id of our own send queued
 * ahead of it (replaced by the id when that send is acknowledged).
 */
export type ChangeTarget = { messageId: string } | { mobileRefId: string };

export interface EditItem {
  kind: 'edit';
  chatId: string;
  /** The edit's ref_id: the relay applies an edit retried with the same ref_id once. */
  refId: string;
  target: ChangeTarget;
  content: string;
  createdAt: string;
}

export interface DeleteItem {
  kind: 'delete';
  chatId: string;
  /** Client-made, to find the item; deletes are idempotent on the relay. */
  refId: string;
  target: ChangeTarget;
  createdAt: string;
}

export type OutboxItem = SendItem | EditItem | DeleteItem;

export const OUTBOX_LIMIT = 500;
const KEY = 'parley.outbox';

const target = z.union([
  z.object({ messageId: z.string() }),
  z.object({ mobileRefId: z.string() }),
]);
const storedItem = z.union([
  z.object({
    kind: z.literal('send').optional(),
    chatId: z.string(),
    mobileRefId: z.string(),
    content: z.string(),
    createdAt: z.string(),
  }),
  z.object({
    kind: z.literal('edit'),
    chatId: z.string(),
    refId: z.string(),
    target,
    content: z.string(),
    createdAt: z.string(),
  }),
  z.object({
    kind: z.literal('delete'),
    chatId: z.string(),
    refId: z.string(),
    target,
    createdAt: z.string(),
  }),
]);

/** The item's own client-made id: a send's mobile_ref_id, an edit's or delete's ref_id. */
export function itemKey(item: OutboxItem): string {
  return item.kind === 'edit' || item.kind === 'delete' ? item.refId : item.mobileRefId;
}

export function isSend(item: OutboxItem): item is SendItem {
  return item.kind === undefined || item.kind === 'send';
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

  /** Removes the item with this key (mobile_ref_id or ref_id). */
  remove(key: string): void {
    const next = this.#items.filter((item) => itemKey(item) !== key);
    if (next.length === this.#items.length) return;
    this.#items = next;
    this.#save();
  }

  has(key: string): boolean {
    return this.find(key) !== undefined;
  }

  find(key: string): OutboxItem | undefined {
    return this.#items.find((item) => itemKey(item) === key);
  }

  /** Rewrites items in place (same order); saved once if any changed. */
  update(change: (item: OutboxItem) => OutboxItem): void {
    let changed = false;
    const next = this.#items.map((item) => {
      const updated = change(item);
      changed ||= updated !== item;
      return updated;
    });
    if (!changed) return;
    this.#items = next;
    this.#save();
  }

  clear(): void {
    this.#items = [];
    this.storage.remove(this.#key());
  }

  #key(): string {
    return `${KEY}:${this.scope}`;
  }

  #load(): OutboxItem[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.storage.get(this.#key()) ?? '[]');
    } catch {
      // Corrupt storage: what was queued is lost; nothing was acknowledged, nothing else breaks.
      return [];
    }
    if (!Array.isArray(parsed)) return [];
    const items: OutboxItem[] = [];
    for (const value of parsed) {
      const item = storedItem.safeParse(value);
      if (item.success) items.push(item.data);
    }
    return items.slice(0, this.limit);
  }

  #save(): void {
    this.storage.set(this.#key(), JSON.stringify(this.#items));
  }
}
