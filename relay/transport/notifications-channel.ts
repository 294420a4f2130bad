/**
 * `notifications:<user_id>` (also accepted as `notification:<user_id>`): live `new_notification`
 * for chats the user has not joined, and on join the notifications kept while the user was away.
 *
 * Pending notifications are pushed twice on purpose: once as one `pending_notifications` batch
 * (seed 002's prose) and once per item as `pending_notification` (seed 002's example code), so
 * both listeners work. They stay stored until the client sends `ack_notifications {ids}`; a
 * connection that drops before acknowledging gets them again.
 */
import { failure } from '../protocol/errors.js';
import { EVENTS, ackNotificationsPayload, type PendingNotifications } from '../protocol/events.js';
import { validate } from '../protocol/validate.js';
import { joinedChannel, type JoinedInbound } from './channel.js';
import { releaseHeld, type ChannelDeps } from './channel-deps.js';
import { fitPage, replyBudget } from '../core/history-page.js';
import type { Subscription } from './hub.js';
import { push, replyError, replyOk } from './replies.js';

export type NotificationsInbound = JoinedInbound & { userId: string };

async function pushPending(deps: ChannelDeps, inbound: NotificationsInbound): Promise<void> {
  const listed = await deps.service.listPending(inbound.connection.user);
  if (listed.length === 0) return;
  // Each carries its message's content and goes out twice: bounded by bytes like a join reply
  // (history-page.ts), at least one so that acks always make progress.
  const budget = replyBudget(deps.limits, inbound.connection.bufferedAmount) / 2;
  const notifications = fitPage(listed.slice(0, deps.limits.pendingPerPush), budget, 'oldest', {
    atLeastOne: true,
  }).messages;
  const batch: PendingNotifications = {
    notifications,
    has_more: listed.length > notifications.length,
  };
  push(inbound, EVENTS.pendingNotifications, batch);
  for (const notification of notifications) push(inbound, EVENTS.pendingNotification, notification);
}

export async function joinNotifications(
  deps: ChannelDeps,
  inbound: NotificationsInbound,
): Promise<void> {
  const { connection } = inbound;
  if (inbound.userId !== connection.user.id) {
    return replyError(inbound, failure('unauthorized', 'you can only join your own notifications'));
  }
  const previous = connection.subscriptions.get(inbound.topic);
  if (previous !== undefined) leaveNotifications(deps, previous);
  if (connection.subscriptions.size >= deps.limits.maxJoinsPerConnection) {
    connection.strike('too_many_joins');
    return replyError(inbound, failure('too_many_joins'));
  }
  const subscription: Subscription = {
    topic: inbound.topic,
    joinRef: inbound.joinRef,
    connection,
    held: [],
  };
  connection.subscriptions.set(inbound.topic, subscription);
  deps.hub.subscribe(subscription);
  replyOk(inbound, { user_id: connection.user.id });
  releaseHeld(subscription, 0);
  await pushPending(deps, inbound);
}

export function leaveNotifications(deps: ChannelDeps, subscription: Subscription): void {
  const { connection, topic } = subscription;
  if (connection.subscriptions.get(topic) === subscription) connection.subscriptions.delete(topic);
  deps.hub.unsubscribe(subscription);
}

export async function ackNotifications(
  deps: ChannelDeps,
  inbound: NotificationsInbound,
  payload: unknown,
): Promise<void> {
  const parsed = validate(ackNotificationsPayload, payload);
  if (!parsed.ok) return replyError(inbound, parsed);
  const acked = await deps.store.ackPending(inbound.connection.user.id, parsed.data.ids);
  replyOk(inbound, { acked });
  // The next batch, if the first push did not hold them all.
  if (acked > 0) await pushPending(deps, inbound);
}

/** `notifications:<user_id>`, as registered in channel-registry.ts. */
export const notificationsChannel = joinedChannel({
  kind: 'notifications',
  bind: (inbound, topic): NotificationsInbound => ({ ...inbound, userId: topic.userId }),
  join: (deps, inbound) => joinNotifications(deps, inbound),
  events: { [EVENTS.ackNotifications]: ackNotifications },
  leave: leaveNotifications,
  writes: [EVENTS.ackNotifications],
});
