/**
 * What the user does to messages, turned into outbox items: send (shown at once as pending),
 * retry and discard a failed send, edit and delete. An edit or delete of a message still in the
 * outbox never reaches the network: the queued send is rewritten or dropped. Otherwise it is
 * queued behind everything the user did before it, and sent by outbox-sender.ts.
 */
import type { UserInfo } from '../../relay/protocol/events.js';
import {
  DEFAULT_MAX_MESSAGE_CHARS,
  isBlankMessage,
  messageChars,
  outgoingContent,
} from '../../relay/protocol/message-content.js';
import type { ParleyStore } from '../state/store.js';
import type { UiMessage } from '../state/types.js';
import { isSend, type ChangeTarget, type SendItem } from './outbox.js';
import { sentMessageId, type OutboxSender } from './outbox-sender.js';

export type SendResult =
  | { ok: true; mobileRefId: string }
  | { ok: false; code: 'empty' | 'too_long' | 'outbox_full' | 'no_chat' };

/**
 * `refId`: the queued edit's or delete's ref_id (its outcome, if a refusal, comes to
 * `onChangeFailed` with it); null when it was done locally, on a message never sent.
 */
export type ChangeResult =
  | { ok: true; refId: string | null }
  | { ok: false; code: 'empty' | 'too_long' | 'outbox_full' | 'no_chat' | 'not_found' };

type TextCheck = { ok: true; text: string } | { ok: false; code: 'empty' | 'too_long' };

/** The text as it will be sent, or why the relay would refuse it for good. */
function checkText(content: string): TextCheck {
  const text = outgoingContent(content);
  if (isBlankMessage(text)) return { ok: false, code: 'empty' };
  // The relay would refuse it for good; the composer says so before it gets here.
  if (messageChars(text) > DEFAULT_MAX_MESSAGE_CHARS) return { ok: false, code: 'too_long' };
  return { ok: true, text };
}

export class MessageActions {
  constructor(
    private readonly store: ParleyStore,
    private readonly sender: OutboxSender,
  ) {}

  /** Shows the message at once as pending and queues it; it is sent when the chat is joined. */
  send(chatId: string, content: string): SendResult {
    const checked = checkText(content);
    if (!checked.ok) return checked;
    const state = this.store.getState();
    const outbox = this.sender.outbox;
    if (state.chats[chatId] === undefined || state.me === null || outbox === null)
      return { ok: false, code: 'no_chat' };
    const item: SendItem = {
      chatId,
      mobileRefId: globalThis.crypto.randomUUID(),
      content: checked.text,
      createdAt: new Date().toISOString(),
    };
    if (!outbox.add(item)) return { ok: false, code: 'outbox_full' };
    this.#showPending(item, state.me);
    void this.sender.flush();
    return { ok: true, mobileRefId: item.mobileRefId };
  }

  /** Sends a failed message again (same mobile_ref_id, so it can never be stored twice). */
  retry(chatId: string, mobileRefId: string): boolean {
    const outbox = this.sender.outbox;
    const message = this.#pending(chatId, mobileRefId);
    if (message === undefined || outbox === null) return false;
    if (!outbox.has(mobileRefId)) {
      const added = outbox.add({
        chatId,
        mobileRefId,
        content: message.content,
        createdAt: message.timestamp,
      });
      if (!added) return false;
    }
    this.store.getState().actions.setPendingStatus(chatId, mobileRefId, 'pending');
    this.sender.syncCount();
    void this.sender.flush();
    return true;
  }

  discard(chatId: string, mobileRefId: string): void {
    this.sender.outbox?.remove(mobileRefId);
    this.store.getState().actions.removePending(chatId, mobileRefId);
    this.sender.syncCount();
  }

  /** Edits a sent message (queued), or rewrites one not sent yet (no network). */
  edit(chatId: string, target: ChangeTarget, content: string): ChangeResult {
    const checked = checkText(content);
    if (!checked.ok) return checked;
    const outbox = this.sender.outbox;
    if (this.store.getState().chats[chatId] === undefined || outbox === null)
      return { ok: false, code: 'no_chat' };
    let to = target;
    if ('mobileRefId' in target) {
      const ref = target.mobileRefId;
      const queued = outbox.find(ref);
      if (queued !== undefined && isSend(queued) && !this.sender.inFlight(ref)) {
        outbox.update((item) => (item === queued ? { ...queued, content: checked.text } : item));
        this.#rewritePending(chatId, ref, checked.text);
        return { ok: true, refId: null };
      }
      if (queued === undefined) {
        const pending = this.#pending(chatId, ref);
        if (pending !== undefined) {
          // Refused for good earlier: the new text is what Retry sends.
          this.#rewritePending(chatId, ref, checked.text);
          return { ok: true, refId: null };
        }
        const messageId = sentMessageId(this.store, chatId, ref);
        if (messageId === null) return { ok: false, code: 'not_found' };
        to = { messageId };
      }
      // Otherwise it is being sent right now: the edit follows it, and learns its id.
    }
    const refId = globalThis.crypto.randomUUID();
    const added = outbox.add({
      kind: 'edit',
      chatId,
      refId,
      target: to,
      content: checked.text,
      createdAt: new Date().toISOString(),
    });
    return this.#queued(added, refId);
  }

  /** Deletes a sent message (queued), or drops one not sent yet (no network). */
  delete(chatId: string, target: ChangeTarget): ChangeResult {
    const outbox = this.sender.outbox;
    if (this.store.getState().chats[chatId] === undefined || outbox === null)
      return { ok: false, code: 'no_chat' };
    let to = target;
    if ('mobileRefId' in target) {
      const ref = target.mobileRefId;
      const queued = outbox.find(ref);
      if (queued === undefined && this.#pending(chatId, ref) !== undefined) {
        this.discard(chatId, ref);
        return { ok: true, refId: null };
      }
      if (queued !== undefined && !this.sender.inFlight(ref)) {
        // Edits queued for it go too: there is nothing left to edit.
        outbox.remove(ref);
        for (const item of outbox.items()) {
          if (!isSend(item) && 'mobileRefId' in item.target && item.target.mobileRefId === ref)
            outbox.remove(item.refId);
        }
        this.discard(chatId, ref);
        return { ok: true, refId: null };
      }
      if (queued === undefined) {
        const messageId = sentMessageId(this.store, chatId, ref);
        if (messageId === null) return { ok: false, code: 'not_found' };
        to = { messageId };
      }
    }
    const refId = globalThis.crypto.randomUUID();
    const added = outbox.add({
      kind: 'delete',
      chatId,
      refId,
      target: to,
      createdAt: new Date().toISOString(),
    });
    return this.#queued(added, refId);
  }

  /** Shows the sends left in the outbox (after a restart) as pending. */
  restore(): void {
    const me = this.store.getState().me;
    const outbox = this.sender.outbox;
    if (outbox === null || me === null) return;
    for (const item of outbox.items()) if (isSend(item)) this.#showPending(item, me);
    this.sender.syncCount();
  }

  #queued(added: boolean, refId: string): ChangeResult {
    if (!added) return { ok: false, code: 'outbox_full' };
    this.sender.syncCount();
    void this.sender.flush();
    return { ok: true, refId };
  }

  #pending(chatId: string, mobileRefId: string): UiMessage | undefined {
    return this.store
      .getState()
      .timelines[chatId]?.pending.find((m) => m.mobile_ref_id === mobileRefId);
  }

  /** New text for a pending message, in place (the pending list keeps its order). */
  #rewritePending(chatId: string, mobileRefId: string, content: string): void {
    const { actions, timelines } = this.store.getState();
    const pending = timelines[chatId]?.pending ?? [];
    for (const message of pending) actions.removePending(chatId, message.mobile_ref_id);
    for (const message of pending)
      actions.addPending(
        chatId,
        message.mobile_ref_id === mobileRefId ? { ...message, content } : message,
      );
  }

  #showPending(item: SendItem, me: UserInfo): void {
    this.store.getState().actions.addPending(item.chatId, {
      chat_id: item.chatId,
      message_id: `local:${item.mobileRefId}`,
      seq: Number.MAX_SAFE_INTEGER,
      content: item.content,
      sender_id: me.id,
      sender_name: me.name,
      timestamp: item.createdAt,
      expires_at: null,
      mobile_ref_id: item.mobileRefId,
      edited_at: null,
      deleted_at: null,
      version_seq: Number.MAX_SAFE_INTEGER,
      status: 'pending',
    });
    this.sender.syncCount();
  }
}
