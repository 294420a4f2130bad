/**
 * Group commit: sends that arrive in the same turn of the event loop are stored in one
 * transaction (one fsync), then acknowledged. Batches run one at a time, so per-chat seq order,
 * commit order and broadcast order are the same. The queue is bounded.
 */
import { failure } from './protocol/errors.js';
import type { AppendRequest, AppendResult, Store } from './store.js';

interface Queued {
  request: AppendRequest;
  resolve: (result: AppendResult) => void;
}

export interface MessageWriterOptions {
  store: Store;
  /** Requests waiting beyond this are refused with `overloaded`. */
  maxQueue: number;
  /** Most requests in one transaction. */
  maxBatch?: number;
  /** Called for each newly stored message, in commit order, before its sender is answered. */
  onCommitted: (result: Extract<AppendResult, { ok: true }>, request: AppendRequest) => void;
  /** Told about failures of onCommitted or of the store itself; the writer keeps going. */
  onError: (error: unknown) => void;
}

export class MessageWriter {
  readonly #options: Required<MessageWriterOptions>;
  #queue: Queued[] = [];
  #running = false;
  #idle: (() => void)[] = [];

  constructor(options: MessageWriterOptions) {
    this.#options = { maxBatch: 512, ...options };
  }

  get queued(): number {
    return this.#queue.length;
  }

  write(request: AppendRequest): Promise<AppendResult> {
    if (this.#queue.length >= this.#options.maxQueue) {
      return Promise.resolve(failure('overloaded'));
    }
    return new Promise((resolve) => {
      this.#queue.push({ request, resolve });
      if (!this.#running) {
        this.#running = true;
        setImmediate(() => void this.#run());
      }
    });
  }

  /** Resolves once every queued request has been answered. */
  drain(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      let results: AppendResult[] = [];
      try {
        results = await this.#options.store.appendMessages(batch.map((item) => item.request));
      } catch (error) {
        this.#options.onError(error);
      }
      batch.forEach((item, index) => {
        const result = results[index] ?? failure('storage_error', 'the message was not stored');
        if (result.ok && !result.duplicate) {
          try {
            this.#options.onCommitted(result, item.request);
          } catch (error) {
            // Delivery is best effort (clients backfill by seq); the ack must still go out.
            this.#options.onError(error);
          }
        }
        item.resolve(result);
      });
    }
    this.#running = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
