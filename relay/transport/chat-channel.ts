/**
 * `chat:<chat_id>`: join (with resume by since_seq), send_message, edit_message,
 * delete_message, typing, read, leave, and Phoenix Presence for the devices joined to the chat.
 * The channel routes: who may do what is ChatService's decision (and the store's, inside the
 * transaction where it must be atomic), never checked here.
 */
import { failure } from '../protocol/errors.js';
import {
  EVENTS,
  chatJoinParams,
  deleteMessagePayload,
  editMessagePayload,
  readPayload,
  sendMessagePayload,
  typingPayload,
  type MessageChanged,
  type MessageSent,
} from '../protocol/events.js';
import { encodeFrame } from '../protocol/frame.js';
import { parseTopic } from '../protocol/topics.js';
import { validate } from '../protocol/validate.js';
import { joinedChannel, type JoinedInbound } from './channel.js';
import { releaseHeld, type ChannelDeps } from './channel-deps.js';
import { replyBudget } from '../core/history-page.js';
import type { Subscription } from './hub.js';
import { presenceBatcher } from './presence-batch.js';
import { SplicedFrame } from './prepared-frame.js';
import type { AppendResult, ChangeResult } from '../core/store.js';
import { push, replyError, replyOk } from './replies.js';

export type ChatInbound = JoinedInbound & { chatId: string };

export async function joinChat(
  deps: ChannelDeps,
  inbound: ChatInbound,
  payload: unknown,
): Promise<void> {
  const { connection } = inbound;
  const params = validate(chatJoinParams, payload);
  if (!params.ok) return replyError(inbound, params);
  // Checked before ChatService.resume, which makes a visitor of a public room a member: a refused
  // join changes nothing. Re-joining a topic replaces its subscription, so it does not count twice.
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
  // Phoenix semantics: a second join of the same topic replaces the first.
  const previous = connection.subscriptions.get(inbound.topic);
  if (previous !== undefined) {
    leaveChat(deps, previous);
    connection.send(encodeFrame(previous.joinRef, null, inbound.topic, EVENTS.close, {}));
  }
  // Subscribe before the join reply is read, holding live frames, so nothing falls between the
  // two. A leave (over HTTP, on another node) that commits after ChatService.resume checked
  // access finds this subscription and closes it; one committed before is refused by resume.
  const subscription: Subscription = {
    topic: inbound.topic,
    joinRef: inbound.joinRef,
    connection,
    held: [],
  };
  connection.subscriptions.set(inbound.topic, subscription);
  deps.hub.subscribe(subscription);
  const sinceSeq = params.data.since_seq;
  // Bounded by what this connection still has waiting (replyBudget), so a client that reads is
  // never cut off by its own joins; a reply may then hold nothing and say `has_more`.
  const resumed = await deps.service.resume(connection.user, inbound.chatId, sinceSeq ?? null, {
    maxBytes: replyBudget(deps.limits, connection.bufferedAmount),
  });
  if (!resumed.ok) {
    leaveChat(deps, subscription);
    if (connection.closed) return;
    return replyError(inbound, resumed);
  }
  if (connection.closed) {
    leaveChat(deps, subscription);
    return;
  }
  // Frames on one connection are handled one at a time, so nothing but a revoke (the user left
  // or was removed while the reply was read) ends this subscription before its reply.
  if (connection.subscriptions.get(inbound.topic) !== subscription) {
    deps.hub.unsubscribe(subscription);
    return replyError(inbound, failure('not_member', 'you left this chat'));
  }
  replyOk(inbound, resumed.reply);
  // Held live frames the reply already covers are dropped (ChatService.resume says up to where).
  releaseHeld(subscription, resumed.covered);

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
      `[${JSON.stringify(inbound.joinRef)},null,${JSON.stringify(inbound.topic)},${JSON.stringify(EVENTS.presenceState)},`,
      state,
      ']',
    ),
  );
  // Batched per topic (presence-batch.ts): a storm of joins costs one diff per window.
  presenceBatcher(deps.hub, deps.presence).add(inbound.topic, diff);
  const typing = deps.typing.typingIn(inbound.chatId);
  if (typing.length > 0)
    push(inbound, EVENTS.typingUpdate, { chat_id: inbound.chatId, user_ids: typing });
}

/** Ends one chat subscription: unsubscribes, withdraws presence and typing. */
export function leaveChat(deps: ChannelDeps, subscription: Subscription): void {
  const { connection, topic } = subscription;
  if (connection.subscriptions.get(topic) === subscription) connection.subscriptions.delete(topic);
  deps.hub.unsubscribe(subscription);
  const parsed = parseTopic(topic);
  if (parsed?.kind === 'chat') deps.typing.dropConnection(connection.id, parsed.chatId);
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
      push(inbound, EVENTS.messageSent, messageSentError(inbound.chatId, ref, error));
    }
    return;
  }
  const { content, mobile_ref_id: mobileRefId } = parsed.data;
  if (!connection.messages.take()) {
    connection.strike(EVENTS.sendMessage);
    const error = failure('rate_limited', 'too many messages; slow down and resend');
    replyError(inbound, error);
    push(inbound, EVENTS.messageSent, messageSentError(inbound.chatId, mobileRefId, error));
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
    push(inbound, EVENTS.messageSent, messageSentError(inbound.chatId, mobileRefId, result));
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
  push(inbound, EVENTS.messageSent, sent);
}

export function setTyping(deps: ChannelDeps, inbound: ChatInbound, payload: unknown): void {
  const parsed = validate(typingPayload, payload);
  if (!parsed.ok) return replyError(inbound, parsed);
  if (!inbound.connection.typing.take()) {
    inbound.connection.strike(EVENTS.typing);
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

/**
 * Takes a token from the send bucket the connection's send_message, edit_message and
 * delete_message share, or answers rate_limited (and counts a strike).
 */
function takeWriteToken(inbound: ChatInbound, event: string): boolean {
  if (inbound.connection.messages.take()) return true;
  inbound.connection.strike(event);
  replyError(inbound, failure('rate_limited', 'too many messages; slow down and resend'));
  return false;
}

/** Answers an edit or delete once it is stored: the message as it stands and its event. */
function answerChange(
  deps: ChannelDeps,
  inbound: ChatInbound,
  stored: Promise<ChangeResult>,
): void {
  // The connection goes on with its next frame while this one commits (group commit).
  void stored.then(
    (result) => {
      if (!result.ok) return replyError(inbound, result);
      const changed: MessageChanged = {
        message: result.message,
        event: result.event,
        duplicate: result.duplicate,
      };
      replyOk(inbound, changed);
    },
    (error: unknown) => {
      deps.logger.error({ err: error, conn: inbound.connection.id }, 'message change failed');
      replyError(inbound, failure('internal_error', 'the change failed'));
    },
  );
}

/** `edit_message {message_id, content, ref_id}`: replies `MessageChanged` or `{reason, message}`. */
export async function editMessage(
  deps: ChannelDeps,
  inbound: ChatInbound,
  payload: unknown,
): Promise<void> {
  const parsed = validate(editMessagePayload, payload);
  if (!parsed.ok) return replyError(inbound, parsed);
  if (!takeWriteToken(inbound, EVENTS.editMessage)) return;
  const { stored } = await deps.service.editMessage({
    chatId: inbound.chatId,
    actor: inbound.connection.user,
    messageId: parsed.data.message_id,
    content: parsed.data.content,
    refId: parsed.data.ref_id,
    originConnectionId: inbound.connection.id,
  });
  answerChange(deps, inbound, stored);
}

/** `delete_message {message_id}`: replies `MessageChanged` or `{reason, message}`. */
export async function deleteMessage(
  deps: ChannelDeps,
  inbound: ChatInbound,
  payload: unknown,
): Promise<void> {
  const parsed = validate(deleteMessagePayload, payload);
  if (!parsed.ok) return replyError(inbound, parsed);
  if (!takeWriteToken(inbound, EVENTS.deleteMessage)) return;
  const { stored } = await deps.service.deleteMessage({
    chatId: inbound.chatId,
    actor: inbound.connection.user,
    messageId: parsed.data.message_id,
    originConnectionId: inbound.connection.id,
  });
  answerChange(deps, inbound, stored);
}

/** `chat:<chat_id>`, as registered in channel-registry.ts. */
export const chatChannel = joinedChannel({
  kind: 'chat',
  bind: (inbound, topic): ChatInbound => ({ ...inbound, chatId: topic.chatId }),
  join: joinChat,
  events: {
    [EVENTS.sendMessage]: sendMessage,
    [EVENTS.editMessage]: editMessage,
    [EVENTS.deleteMessage]: deleteMessage,
    [EVENTS.typing]: setTyping,
    [EVENTS.read]: markRead,
  },
  leave: leaveChat,
  writes: [EVENTS.read],
});
