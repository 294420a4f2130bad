/**
 * `notifications:<user_id>`: notifications for chats not on screen, pending ones after an
 * absence (acknowledged once shown), and memberships changed on any device.
 */
import type { Channel, Socket } from 'phoenix';
import {
  chatMembershipChangeSchema,
  notificationPayloadSchema,
  pendingNotificationsSchema,
} from '../../relay/protocol/wire-schemas.js';
import type { NotificationPayload, PendingNotifications } from '../../relay/protocol/events.js';
import { notificationsTopic } from '../../relay/protocol/topics.js';
import type { ParleyStore } from '../state/store.js';
import { validated } from './wire.js';

export interface NotificationRequest {
  title: string;
  body: string;
  chatId: string;
}

export interface NotificationsLinkOptions {
  store: ParleyStore;
  pushTimeoutMs: number;
  notify?: ((request: NotificationRequest) => void) | undefined;
  /** A chat this client does not know yet: reload the directory. */
  onUnknownChat: () => void;
  /** A membership of this user ended on some device. */
  onChatRemoved: (chatId: string) => void;
}

/** Notifies about a message unless it is ours or its chat is on screen. */
export function notifyMessage(
  o: Pick<NotificationsLinkOptions, 'store' | 'notify'>,
  message: { chatId: string; senderId: string; content: string; mentioned: boolean },
): void {
  const state = o.store.getState();
  if (message.senderId === state.me?.id) return;
  if (state.activeChatId === message.chatId && state.windowFocused) return;
  const chat = state.chats[message.chatId];
  const sender = state.users[message.senderId]?.name ?? 'Someone';
  const where = chat === undefined || chat.kind === 'dm' ? '' : ` in ${chat.name}`;
  o.notify?.({
    title: `${message.mentioned ? '@ ' : ''}${sender}${where}`,
    body: message.content,
    chatId: message.chatId,
  });
}

export function joinNotifications(
  o: NotificationsLinkOptions,
  socket: Socket,
  userId: string,
): Channel {
  const channel = socket.channel(notificationsTopic(userId), {});
  channel.on(
    'new_notification',
    validated(notificationPayloadSchema, 'new_notification', (payload: NotificationPayload) => {
      // A chat we are not linked to yet (a first DM, an invitation): load and join it.
      if (o.store.getState().chats[payload.chat_id] === undefined) o.onUnknownChat();
      notifyMessage(o, {
        chatId: payload.chat_id,
        senderId: payload.sender_id,
        content: payload.content,
        mentioned: payload.mentioned,
      });
    }),
  );
  // A membership changed on some device (this one included): a new chat is loaded and
  // joined, a chat left disappears.
  channel.on(
    'chat_added',
    validated(chatMembershipChangeSchema, 'chat_added', (payload) => {
      if (o.store.getState().chats[payload.chat_id] === undefined) o.onUnknownChat();
    }),
  );
  channel.on(
    'chat_removed',
    validated(chatMembershipChangeSchema, 'chat_removed', (payload) =>
      o.onChatRemoved(payload.chat_id),
    ),
  );
  channel.on(
    'pending_notifications',
    validated(pendingNotificationsSchema, 'pending_notifications', (payload) =>
      showPending(o, channel, payload),
    ),
  );
  channel.join(o.pushTimeoutMs);
  return channel;
}

function showPending(
  o: NotificationsLinkOptions,
  channel: Channel,
  payload: PendingNotifications,
): void {
  const items = payload.notifications;
  const first = items[0];
  if (first === undefined) return;
  o.notify?.({
    title:
      items.length === 1
        ? `${first.sender_name} in ${first.chat_name}`
        : `${items.length} new messages`,
    body:
      items.length === 1
        ? first.content
        : `While you were away: ${[...new Set(items.map((n) => n.chat_name))].join(', ')}`,
    chatId: first.chat_id,
  });
  const ids = items.map((n) => n.id).filter((id): id is number => id !== undefined);
  if (ids.length > 0) channel.push('ack_notifications', { ids }, o.pushTimeoutMs);
}
