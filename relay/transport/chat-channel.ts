/**
 * `chat:<chat_id>`: join (with resume by since_seq), send_message, typing, read, leave,
 * and Phoenix Presence for the devices joined to the chat.
 */
import { failure } from '../protocol/errors.js';
import {
  chatJoinParams,
  readPayload,
  sendMessagePayload,
  typingPayload,
  type ChatJoinReply,
  type MessageSent,
} from '../protocol/events.js';
import { encodeFrame } from '../protocol/frame.js';
import { validate } from '../protocol/validate.js';
import { releaseHeld, type ChannelDeps } from './channel-deps.js';
import { readPage, replyBudget } from '../core/history-page.js';
import type { Subscription } from './hub.js';
import { presenceBatcher } from './presence-batch.js';
import { SplicedFrame } from './prepared-frame.js';
import type { AppendResult } from '../core/store.js';
import { push, replyError, replyOk, type Inbound } from './replies.js';

export type ChatInbound = Inbound & { chatId: string; joinRef: string };

export async function joinChat(
  deps: ChannelDeps,
  inbound: ChatInbound,
  payload: unknown,
): Promise<void> {
  const { connection } = inbound;
  const params = validate(chatJoinParams, payload);
  if (!params.ok) return replyError(inbound, params);
  // Checked before openChat, which makes a visitor of a public room a member: a refused join
  // changes nothing. Re-joining a topic replaces its subscription, so it does not count twice.
  const joined =
    connection.subscriptions.size - (connection.subscriptions.has(inbound.topic) ? 1 : 0);
  if (joined >= deps.limits.maxJoinsPerConnection) {
    connection.strike('too_many_joins');
    return replyError(
      inbound,
      failure(
        'too_many_joins',
        `at most ${deps.limits.maxJoinsPerConnection} topics per connection`,
      ),
    );
  }
  const opened = await deps.service.openChat(inbound.chatId, connection.user);
  if (!opened.ok) return replyError(inbound, opened);
  if (connection.closed) return;
  // Phoenix semantics: a second join of the same topic replaces the first.
  const previous = connection.subscriptions.get(inbound.topic);
  if (previous !== undefined) {
    leaveChat(deps, previous);
    connection.send(encodeFrame(previous.joinRef, null, inbound.topic, 'phx_close', {}));
  }
  // Subscribe before reading history, holding live frames, so nothing falls between the two.
  const subscription: Subscription = {
    topic: inbound.topic,
    joinRef: inbound.joinRef,
    connection,
    held: [],
  };
  connection.subscriptions.set(inbound.topic, subscription);
  deps.hub.subscribe(subscription);
  // The user may have left (over HTTP, another node) between openChat and the subscribe, after
  // that leave closed their subscriptions: a leave that commits after this check finds this
  // subscription and closes it; one committed before it is seen here. The same read gives the
  // chat as of now (its last_seq), after the subscribe: anything committed later is held.
  const access = await deps.store.getChatAccess(inbound.chatId, connection.user.id);
  if (access === null || access.membership === null) {
    leaveChat(deps, subscription);
    if (connection.closed) return;
    return replyError(inbound, failure('not_member', 'you left this chat'));
  }

  const sinceSeq = params.data.since_seq;
  // Bounded by bytes as well as by count, and by what this connection still has waiting
  // (replyBudget), so a client that reads is never cut off by its own joins. A reply may carry
  // no message at all: `has_more` then sends the client to HTTP for them.
  const { messages, hasMore } = await readPage(deps.store, {
    chatId: inbound.chatId,
    end: sinceSeq === undefined ? 'newest' : 'oldest',
    cursor: sinceSeq ?? null,
    limit: sinceSeq === undefined ? deps.limits.joinHistory : deps.limits.resumeMax,
    maxBytes: replyBudget(deps.limits, connection.bufferedAmount),
    atLeastOne: false,
    now: new Date(),
  });
  const chat = access.chat;
  if (connection.closed || connection.subscriptions.get(inbound.topic) !== subscription) {
    deps.hub.unsubscribe(subscription);
    return;
  }
  const lastSent = messages.at(-1)?.seq ?? 0;
  const reply: ChatJoinReply = {
    chat,
    messages,
    last_seq: Math.max(chat.last_seq, lastSent),
    has_more: hasMore,
    read_seq: opened.readSeq,
  };
  replyOk(inbound, reply);
  // Held live frames the reply already covers are dropped. After a capped resume the client
  // pages up to `last_seq` over HTTP, so only frames past it are still needed.
  const covered =
    hasMore && sinceSeq !== undefined ? reply.last_seq : Math.max(lastSent, sinceSeq ?? 0);
  releaseHeld(subscription, covered);

  const meta = {
    phx_ref: `${connection.id}:${inbound.joinRef}`,
    device_unique_id: connection.deviceId,
    name: connection.user.name,
    online_at: connection.connectedAt.toISOString(),
  };
  const diff = deps.presence.track(inbound.topic, connection.user.id, meta);
  // Encoded once and shared by the joiners of one presence window (presence-batch.ts): the
  // same bytes are written to each, between its own frame header and join_ref.
  const state = presenceBatcher(deps.hub, deps.presence).stateBytes(inbound.topic);
  connection.send(
    new SplicedFrame(
      `[${JSON.stringify(inbound.joinRef)},null,${JSON.stringify(inbound.topic)},"presence_state",`,
      state,
      ']',
    ),
  );
  // Batched per topic (presence-batch.ts): a storm of joins costs one diff per window.
  presenceBatcher(deps.hub, deps.presence).add(inbound.topic, diff);
  const typing = deps.typing.typingIn(inbound.chatId);
  if (typing.length > 0)
    push(inbound, 'typing_update', { chat_id: inbound.chatId, user_ids: typing });
}

/** Ends one chat subscription: unsubscribes, withdraws presence and typing. */
export function leaveChat(deps: ChannelDeps, subscription: Subscription): void {
  const { connection, topic } = subscription;
  if (connection.subscriptions.get(topic) === subscription) connection.subscriptions.delete(topic);
  deps.hub.unsubscribe(subscription);
  const chatId = topic.slice('chat:'.length);
  deps.typing.dropConnection(connection.id, chatId);
  const diff = deps.presence.untrack(
    topic,
    connection.user.id,
    `${connection.id}:${subscription.joinRef}`,
  );
  if (diff !== null) presenceBatcher(deps.hub, deps.presence).add(topic, diff);
}

function messageSentError(
  chatId: string,
  mobileRefId: string,
  error: { code: string; message: string },
): MessageSent {
  return {
    mobile_ref_id: mobileRefId,
    status: 'error',
    chat_id: chatId,
    message_id: null,
    seq: null,
    timestamp: null,
    reason: error.code,
    message: error.message,
  };
}

export async function sendMessage(
  deps: ChannelDeps,
  inbound: ChatInbound,
  payload: unknown,
): Promise<void> {
  const { connection } = inbound;
  const parsed = validate(sendMessagePayload, payload);
  if (!parsed.ok) {
    const error = parsed;
    replyError(inbound, error);
    const ref = (payload as { mobile_ref_id?: unknown }).mobile_ref_id;
    if (typeof ref === 'string' && ref.length <= 128) {
      push(inbound, 'message_sent', messageSentError(inbound.chatId, ref, error));
    }
    return;
  }
  const { content, mobile_ref_id: mobileRefId } = parsed.data;
  if (!connection.messages.take()) {
    connection.strike('send_message');
    const error = failure('rate_limited', 'too many messages; slow down and resend');
    replyError(inbound, error);
    push(inbound, 'message_sent', messageSentError(inbound.chatId, mobileRefId, error));
    return;
  }
  deps.typing.set({
    chatId: inbound.chatId,
    userId: connection.user.id,
    connectionId: connection.id,
    typing: false,
  });
  const { stored } = await deps.service.enqueueSend({
    chatId: inbound.chatId,
    sender: connection.user,
    content,
    mobileRefId,
    originConnectionId: connection.id,
  });
  // The connection goes on with its next frame while this one commits (group commit).
  void stored.then((result) => answerSend(inbound, mobileRefId, result));
}

function answerSend(inbound: ChatInbound, mobileRefId: string, result: AppendResult): void {
  if (!result.ok) {
    // Logged where they happen, at most once per interval: storage failures by the writer
    // (StorageFailureLog), a full write queue by ChatService.
    replyError(inbound, result);
    push(inbound, 'message_sent', messageSentError(inbound.chatId, mobileRefId, result));
    return;
  }
  const { message, duplicate } = result;
  const sent: MessageSent = {
    mobile_ref_id: mobileRefId,
    status: 'sent',
    chat_id: message.chat_id,
    message_id: message.message_id,
    seq: message.seq,
    timestamp: message.timestamp,
    ...(duplicate ? { duplicate: true } : {}),
  };
  replyOk(inbound, sent);
  push(inbound, 'message_sent', sent);
}

export function setTyping(deps: ChannelDeps, inbound: ChatInbound, payload: unknown): void {
  const parsed = validate(typingPayload, payload);
  if (!parsed.ok) return replyError(inbound, parsed);
  if (!inbound.connection.typing.take()) {
    inbound.connection.strike('typing');
    return replyError(inbound, failure('rate_limited', 'too many typing events'));
  }
  deps.typing.set({
    chatId: inbound.chatId,
    userId: inbound.connection.user.id,
    connectionId: inbound.connection.id,
    typing: parsed.data.typing,
  });
  replyOk(inbound);
}

export async function markRead(
  deps: ChannelDeps,
  inbound: ChatInbound,
  payload: unknown,
): Promise<void> {
  const parsed = validate(readPayload, payload);
  if (!parsed.ok) return replyError(inbound, parsed);
  const result = await deps.service.markRead(
    inbound.connection.user,
    inbound.chatId,
    parsed.data.seq,
  );
  if (!result.ok) return replyError(inbound, result);
  replyOk(inbound, { read_seq: result.read_seq });
}
