/**
 * Group commit: sends that arrive in the same turn of the event loop are stored in one
 * transaction (one fsync), then acknowledged. Batches run one at a time, so per-chat seq order,
 * commit order and broadcast order are the same. The queue is bounded.
 *
 * Nothing is acknowledged before its commit: a sender's promise resolves only with the result
 * `store.appendMessages` returned, after that call (the transaction, COMMIT included) finished.
 */
import { failure, type Failure } from '../protocol/errors.js';
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
  /**
   * Told about every batch the store refused as a whole (disk full, read-only, database down),
   * with how many messages it held: for metrics and a rate-limited log. The senders are
   * answered with the failure anyway.
   */
  onStorageFailure?: (failure: Failure, messages: number) => void;
  /** Told about every batch the store accepted (writes work, perhaps again). */
  onStorageOk?: () => void;
}

/** Failures that say the database refused the batch, not that one message was wrong. */
const STORAGE_CODES: ReadonlySet<string> = new Set([
  'storage_error',
  'storage_full',
  'storage_read_only',
]);

export class MessageWriter {
  readonly #options: Required<MessageWriterOptions>;
  #queue: Queued[] = [];
  #running = false;
  #idle: (() => void)[] = [];

  constructor(options: MessageWriterOptions) {
    this.#options = {
      maxBatch: 512,
      onStorageFailure: () => undefined,
      onStorageOk: () => undefined,
      ...options,
    };
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
      try {
        this.#reportStorage(results, batch.length);
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

  /** A batch is refused as a whole when it has no results or only storage failures. */
  #reportStorage(results: readonly AppendResult[], size: number): void {
    if (results.length < size) {
      this.#options.onStorageFailure(failure('storage_error', 'the message was not stored'), size);
      return;
    }
    const first = results[0];
    const refused = results.every((result) => !result.ok && STORAGE_CODES.has(result.code));
    if (refused && first !== undefined && !first.ok) this.#options.onStorageFailure(first, size);
    else this.#options.onStorageOk();
  }
}
