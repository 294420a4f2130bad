/**
 * The outbox's send loop: one item at a time, in the order the user acted, to chats whose
 * channel is joined; a transient refusal or a timeout retries the same item (same
 * mobile_ref_id / ref_id, so the relay applies it once) after a backoff. Sends become messages,
 * edits and deletes become change events, both handed to ChatSync. A refusal that retrying
 * cannot fix drops the item and says why: a send is marked failed in the timeline, an edit or a
 * delete is reported to `onChangeFailed`.
 */
import type { Channel } from 'phoenix';
import type { ChatEvent, MessageSent } from '../../relay/protocol/events.js';
import { PERMANENT_SEND_ERRORS } from '../../relay/protocol/message-content.js';
import {
  errorReplySchema,
  messageChangedSchema,
  messageSentSchema,
} from '../../relay/protocol/wire-schemas.js';
import type { ParleyStore } from '../state/store.js';
import type { ChatSync } from './chat-sync.js';
import {
  itemKey,
  isSend,
  type ChangeTarget,
  type DeleteItem,
  type EditItem,
  type Outbox,
  type OutboxItem,
  type SendItem,
} from './outbox.js';
import { fromWire } from './wire.js';

/**
 * Refusals of an edit or delete that retrying can never turn into success. `unknown_event`: a
 * relay older than the event stream (stream_version 1); retrying would hold up every send
 * queued behind the change.
 */
export const PERMANENT_CHANGE_ERRORS: ReadonlySet<string> = new Set([
  ...PERMANENT_SEND_ERRORS,
  'forbidden',
  'message_deleted',
  'message_expired',
  'unknown_event',
]);

/** An edit or delete the relay refused for good (the outbox dropped it). */
export interface ChangeFailure {
  chatId: string;
  kind: 'edit' | 'delete';
  refId: string;
  target: ChangeTarget;
  /** The relay's error code (relay/protocol/errors.ts), or `not_found` for a lost target. */
  code: string;
  message: string;
}

export interface OutboxSenderOptions {
  store: ParleyStore;
  sync: ChatSync;
  pushTimeoutMs: number;
  backoff: (attempt: number) => number;
  /** The chat's channel when joined, else null (its items wait). */
  channel: (chatId: string) => Channel | null;
  onChangeFailed: (failure: ChangeFailure) => void;
}

type Outcome = 'done' | 'retry';

export class OutboxSender {
  #outbox: Outbox | null = null;
  #flushing = false;
  #inFlight: string | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #retryAttempt = 0;

  constructor(private readonly o: OutboxSenderOptions) {}

  get outbox(): Outbox | null {
    return this.#outbox;
  }

  use(outbox: Outbox | null): void {
    this.stop();
    this.#outbox = outbox;
  }

  /** Whether the item with this key is being pushed right now (its answer is awaited). */
  inFlight(key: string): boolean {
    return this.#inFlight === key;
  }

  stop(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#flushing = false;
    this.#inFlight = null;
  }

  syncCount(): void {
    this.o.store.getState().actions.setOutboxCount(this.#outbox?.size ?? 0);
  }

  /** Sends the outbox in order, one item at a time, to chats whose channel is joined. */
  async flush(): Promise<void> {
    const outbox = this.#outbox;
    if (this.#flushing || outbox === null) return;
    this.#flushing = true;
    try {
      for (;;) {
        if (this.#outbox !== outbox) return;
        const item = outbox.items().find((i) => this.o.channel(i.chatId) !== null);
        const channel = item === undefined ? null : this.o.channel(item.chatId);
        if (item === undefined || channel === null) return;
        this.#inFlight = itemKey(item);
        const outcome = await this.#push(channel, item);
        this.#inFlight = null;
        if (outcome === 'retry') {
          this.#scheduleRetry();
          return;
        }
        this.#retryAttempt = 0;
      }
    } finally {
      if (this.#outbox === outbox) this.#flushing = false;
    }
  }

  #push(channel: Channel, item: OutboxItem): Promise<Outcome> {
    if (isSend(item)) return this.#pushSend(channel, item);
    const messageId = this.#resolve(item.chatId, item.target);
    if (messageId === null) {
      this.#failChange(item, 'not_found', 'the message to change was never stored');
      return Promise.resolve('done');
    }
    return item.kind === 'edit'
      ? this.#pushChange(channel, item, 'edit_message', {
          message_id: messageId,
          content: item.content,
          ref_id: item.refId,
        })
      : this.#pushChange(channel, item, 'delete_message', { message_id: messageId });
  }

  #pushSend(channel: Channel, item: SendItem): Promise<Outcome> {
    const payload = { content: item.content, mobile_ref_id: item.mobileRefId };
    return new Promise((resolve) => {
      channel
        .push('send_message', payload, this.o.pushTimeoutMs)
        .receive('ok', (reply: unknown) => {
          const sent = fromWire(messageSentSchema, reply, 'send_message reply');
          this.#outbox?.remove(item.mobileRefId);
          if (sent !== null) this.#confirmSend(item, sent);
          this.o.store.getState().actions.removePending(item.chatId, item.mobileRefId);
          this.syncCount();
          resolve('done');
        })
        .receive('error', (reply: unknown) => {
          // A refusal that a resend cannot fix marks the message failed (the UI offers Edit and
          // Delete); anything else is retried with backoff, same mobile_ref_id.
          const error = fromWire(errorReplySchema, reply, 'send_message error') ?? {};
          const code = error.reason ?? '';
          if (!PERMANENT_SEND_ERRORS.has(code)) return resolve('retry');
          this.#outbox?.remove(item.mobileRefId);
          this.o.store
            .getState()
            .actions.setPendingStatus(item.chatId, item.mobileRefId, 'failed', {
              code,
              message: error.message ?? code,
            });
          this.syncCount();
          resolve('done');
        })
        .receive('timeout', () => resolve('retry'));
    });
  }

  /** The stored message joins the timeline; changes queued behind it learn its id. */
  #confirmSend(item: SendItem, sent: MessageSent): void {
    const { store } = this.o;
    const me = store.getState().me;
    if (sent.seq === null || sent.message_id === null || me === null) return;
    const messageId = sent.message_id;
    this.#outbox?.update((queued) =>
      !isSend(queued) &&
      'mobileRefId' in queued.target &&
      queued.target.mobileRefId === item.mobileRefId
        ? { ...queued, target: { messageId } }
        : queued,
    );
    const ttl = store.getState().chats[item.chatId]?.ephemeral_ttl_s;
    const timestamp = sent.timestamp ?? item.createdAt;
    this.o.sync.message(item.chatId, {
      chat_id: item.chatId,
      message_id: messageId,
      seq: sent.seq,
      content: item.content,
      sender_id: me.id,
      sender_name: me.name,
      timestamp,
      expires_at:
        ttl == null || sent.timestamp === null
          ? null
          : new Date(Date.parse(timestamp) + ttl * 1000).toISOString(),
      mobile_ref_id: item.mobileRefId,
      edited_at: null,
      deleted_at: null,
      version_seq: sent.seq,
    });
  }

  #pushChange(
    channel: Channel,
    item: EditItem | DeleteItem,
    event: 'edit_message' | 'delete_message',
    payload: object,
  ): Promise<Outcome> {
    return new Promise((resolve) => {
      channel
        .push(event, payload, this.o.pushTimeoutMs)
        .receive('ok', (reply: unknown) => {
          this.#outbox?.remove(item.refId);
          this.syncCount();
          // Applied by the relay either way; an answer we cannot read is left to the broadcast.
          const changed = fromWire(messageChangedSchema, reply, `${event} reply`);
          if (changed !== null) this.#applied(item.chatId, changed.event);
          resolve('done');
        })
        .receive('error', (reply: unknown) => {
          const error = fromWire(errorReplySchema, reply, `${event} error`) ?? {};
          const code = error.reason ?? '';
          if (!PERMANENT_CHANGE_ERRORS.has(code)) return resolve('retry');
          this.#failChange(item, code, error.message ?? code);
          resolve('done');
        })
        .receive('timeout', () => resolve('retry'));
    });
  }

  #applied(chatId: string, event: ChatEvent): void {
    this.o.sync.events(chatId, [event]);
  }

  #failChange(item: EditItem | DeleteItem, code: string, message: string): void {
    this.#outbox?.remove(item.refId);
    this.syncCount();
    console.warn(`parley: the relay refused to ${item.kind} a message: ${code}`);
    this.o.onChangeFailed({
      chatId: item.chatId,
      kind: item.kind,
      refId: item.refId,
      target: item.target,
      code,
      message,
    });
  }

  /** The message id a change is for: given, or that of our own send now in the timeline. */
  #resolve(chatId: string, target: ChangeTarget): string | null {
    if ('messageId' in target) return target.messageId;
    return sentMessageId(this.o.store, chatId, target.mobileRefId);
  }

  #scheduleRetry(): void {
    if (this.#retryTimer !== null) return;
    this.#retryAttempt += 1;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = null;
        void this.flush();
      },
      Math.max(200, this.o.backoff(this.#retryAttempt)),
    );
  }
}

/** The id of our own message with this mobile_ref_id, if the timeline holds it. */
export function sentMessageId(
  store: ParleyStore,
  chatId: string,
  mobileRefId: string,
): string | null {
  const state = store.getState();
  const message = state.timelines[chatId]?.messages.find(
    (m) => m.mobile_ref_id === mobileRefId && m.sender_id === state.me?.id,
  );
  return message?.message_id ?? null;
}
