/**
 * Group commit: writes that arrive in the same turn of the event loop are stored in one
 * transaction (one fsync), then acknowledged. Sends and changes (edits, deletes) share one
 * queue, in arrival order: a batch hands the store each run of consecutive requests of the same
 * kind in turn (appendMessages, changeMessages), so a connection's send, edit, send take seqs in
 * that order. Batches run one at a time, so per-chat seq order, commit order and publish order
 * are the same. The queue is bounded.
 *
 * Nothing is acknowledged before its commit: a caller's promise resolves only with the result
 * the store returned, after that call (the transaction, COMMIT included) finished. Publishing
 * after the commit happens here, once for every kind: `{type: 'message'}` for a stored send,
 * `{type: 'change'}` for an applied change; a duplicate (a retry) publishes nothing.
 */
import { failure, type Failure } from '../protocol/errors.js';
import type { Bus } from './bus.js';
import type { AppendRequest, AppendResult, ChangeRequest, ChangeResult, Store } from './store.js';

type Queued =
  | { kind: 'append'; request: AppendRequest; resolve: (result: AppendResult) => void }
  | { kind: 'change'; request: ChangeRequest; resolve: (result: ChangeResult) => void };

/** What was stored and published, for metrics. */
export type CommittedKind = 'message' | 'change';

export interface MessageWriterOptions {
  store: Store;
  /** Where committed messages and changes are published, in commit order. */
  bus: Bus;
  /** Requests waiting beyond this are refused with `overloaded`. */
  maxQueue: number;
  /** Most requests in one batch (each run of one kind is one store call). */
  maxBatch?: number;
  /** Told of each newly stored message or change, after it was published (metrics). */
  onCommitted?: (kind: CommittedKind) => void;
  /** Told about failures of publishing or of the store itself; the writer keeps going. */
  onError: (error: unknown) => void;
  /**
   * Told about every store call the store refused as a whole (disk full, read-only, database
   * down), with how many requests it held: for metrics and a rate-limited log. The callers are
   * answered with the failure anyway.
   */
  onStorageFailure?: (failure: Failure, messages: number) => void;
  /** Told about every store call the store accepted (writes work, perhaps again). */
  onStorageOk?: () => void;
}

/** Failures that say the database refused the batch, not that one request was wrong. */
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
      onCommitted: () => undefined,
      onStorageFailure: () => undefined,
      onStorageOk: () => undefined,
      ...options,
    };
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Queues a send; resolves after its commit (or at once with `overloaded`). */
  write(request: AppendRequest): Promise<AppendResult> {
    if (this.#full()) return Promise.resolve(failure('overloaded'));
    return new Promise((resolve) => this.#enqueue({ kind: 'append', request, resolve }));
  }

  /** Queues an edit or delete behind the writes before it; resolves after its commit. */
  change(request: ChangeRequest): Promise<ChangeResult> {
    if (this.#full()) return Promise.resolve(failure('overloaded'));
    return new Promise((resolve) => this.#enqueue({ kind: 'change', request, resolve }));
  }

  /** Resolves once every queued request has been answered. */
  drain(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #full(): boolean {
    return this.#queue.length >= this.#options.maxQueue;
  }

  #enqueue(item: Queued): void {
    this.#queue.push(item);
    if (!this.#running) {
      this.#running = true;
      setImmediate(() => void this.#run());
    }
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      for (let start = 0; start < batch.length;) {
        const kind = batch[start]?.kind;
        let end = start + 1;
        while (end < batch.length && batch[end]?.kind === kind) end += 1;
        const run = batch.slice(start, end);
        if (kind === 'append') await this.#appendRun(run.filter(isAppend));
        else await this.#changeRun(run.filter(isChange));
        start = end;
      }
    }
    this.#running = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #appendRun(run: Extract<Queued, { kind: 'append' }>[]): Promise<void> {
    const results = await this.#store(() =>
      this.#options.store.appendMessages(run.map((item) => item.request)),
    );
    this.#report(results, run.length);
    run.forEach((item, index) => {
      const result = results[index] ?? failure('storage_error', 'the message was not stored');
      if (result.ok && !result.duplicate) {
        this.#publish('message', () =>
          this.#options.bus.publish({
            type: 'message',
            message: result.message,
            originConnectionId: item.request.originConnectionId,
          }),
        );
      }
      item.resolve(result);
    });
  }

  async #changeRun(run: Extract<Queued, { kind: 'change' }>[]): Promise<void> {
    const results = await this.#store(() =>
      this.#options.store.changeMessages(run.map((item) => item.request)),
    );
    this.#report(results, run.length);
    run.forEach((item, index) => {
      const result = results[index] ?? failure('storage_error', 'the change was not stored');
      if (result.ok && !result.duplicate) {
        this.#publish('change', () =>
          this.#options.bus.publish({
            type: 'change',
            event: result.event,
            originConnectionId: item.request.originConnectionId,
          }),
        );
      }
      item.resolve(result);
    });
  }

  /** One store call; a throw (a lost connection) answers the whole run with storage_error. */
  async #store<T>(call: () => Promise<T[]>): Promise<T[]> {
    try {
      return await call();
    } catch (error) {
      this.#options.onError(error);
      return [];
    }
  }

  #publish(kind: CommittedKind, publish: () => void): void {
    try {
      publish();
    } catch (error) {
      // Delivery is best effort (clients backfill by seq); the ack must still go out.
      this.#options.onError(error);
    }
    try {
      this.#options.onCommitted(kind);
    } catch (error) {
      this.#options.onError(error);
    }
  }

  #report(results: readonly (AppendResult | ChangeResult)[], size: number): void {
    try {
      this.#reportStorage(results, size);
    } catch (error) {
      this.#options.onError(error);
    }
  }

  /** A store call is refused as a whole when it has no results or only storage failures. */
  #reportStorage(results: readonly (AppendResult | ChangeResult)[], size: number): void {
    if (results.length < size) {
      this.#options.onStorageFailure(failure('storage_error', 'the write was not stored'), size);
      return;
    }
    const first = results[0];
    const refused = results.every((result) => !result.ok && STORAGE_CODES.has(result.code));
    if (refused && first !== undefined && !first.ok) this.#options.onStorageFailure(first, size);
    else this.#options.onStorageOk();
  }
}

function isAppend(item: Queued): item is Extract<Queued, { kind: 'append' }> {
  return item.kind === 'append';
}

function isChange(item: Queued): item is Extract<Queued, { kind: 'change' }> {
  return item.kind === 'change';
}
