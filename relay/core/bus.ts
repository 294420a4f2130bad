/**
 * Fan-out between relay nodes. A single node uses the in-process LocalBus; a cluster swaps in
 * a Redis bus with the same contract. The bus is a fast path, never the source of truth:
 * clients detect seq gaps and backfill from the store.
 */
import type { ChatEvent, WireMessage } from '../protocol/events.js';

export type BusEvent =
  | {
      type: 'message';
      message: WireMessage;
      /** The connection that sent it (excluded from receive_message), if on some node. */
      originConnectionId: string | null;
    }
  | {
      /** A committed change (edit, delete) to a chat's message: its own place in the stream. */
      type: 'change';
      event: ChatEvent;
      /** The connection that asked for it, if on some node (it gets the reply and the push). */
      originConnectionId: string | null;
    }
  | { type: 'typing'; chatId: string; userIds: string[] }
  | {
      type: 'membership';
      chatId: string;
      /** Users who became members: their devices are told (chat_added). */
      addedUserIds: string[];
      /** Users who lost access: their open subscriptions to the chat are closed (chat_removed). */
      removedUserIds: string[];
    };

export interface Bus {
  publish(event: BusEvent): void;
  subscribe(handler: (event: BusEvent) => void): () => void;
  close(): Promise<void>;
}

/** Delivers to this process's handlers, synchronously and in publish order. */
export class LocalBus implements Bus {
  readonly #handlers = new Set<(event: BusEvent) => void>();

  publish(event: BusEvent): void {
    for (const handler of this.#handlers) handler(event);
  }

  subscribe(handler: (event: BusEvent) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
