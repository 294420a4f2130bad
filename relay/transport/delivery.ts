/**
 * Turns bus events into frames for this node's connections: receive_message to joined
 * subscribers, message_edited / message_deleted to every joined subscriber (the connection that
 * asked included), new_notification to members who are online but not in the chat,
 * typing_update, chat_added / chat_removed.
 */
import type { Logger } from 'pino';
import { encodeFrame } from '../protocol/frame.js';
import { EVENTS, type NotificationPayload, type WireMessage } from '../protocol/events.js';
import { chatTopic, notificationsTopics } from '../protocol/topics.js';
import type { Bus, BusEvent } from '../core/bus.js';
import type { Hub } from './hub.js';
import type { MembershipCache, Members } from '../core/membership-cache.js';
import type { NotificationPlan, NotificationPlanner } from '../core/notification-planner.js';
import type { Store, StoredUser } from '../core/store.js';

export interface DeliveryDeps {
  bus: Bus;
  hub: Hub;
  members: MembershipCache;
  store: Store;
  /** Who gets a live new_notification: the rule ChatService plans pending ones with. */
  notifications: NotificationPlanner;
  logger: Logger;
  /** Closes a user's open subscriptions to a chat they lost access to. */
  revoke: (userId: string, chatId: string) => void;
}

/** Chats whose notification candidates are cached (see absentCandidates). */
const MAX_CACHED_CHATS = 1_000;

export function startDelivery(deps: DeliveryDeps): () => void {
  const { hub } = deps;
  const candidates = new Map<string, { members: Members; version: number; users: StoredUser[] }>();

  /**
   * The members who may need a new_notification: online on this node, with their inbox open
   * here and the chat not open here. Recomputed only when the member list or this node's
   * connections and subscriptions changed (Hub.version), not for every message: walking every
   * member per message was about a tenth of the relay's CPU in a 1,000-member fan-out.
   */
  function absentCandidates(chatId: string, topic: string, members: Members): StoredUser[] {
    const cached = candidates.get(chatId);
    if (cached?.members === members && cached.version === hub.version) return cached.users;
    const joined = new Set<string>();
    for (const subscription of hub.subscribers(topic)) joined.add(subscription.connection.user.id);
    const users: StoredUser[] = [];
    for (const member of members.values()) {
      if (!hub.isOnline(member.id) || joined.has(member.id)) continue;
      const inboxes = notificationsTopics(member.id);
      if (inboxes.some((inbox) => hub.subscribers(inbox).size > 0)) users.push(member);
    }
    candidates.delete(chatId);
    if (candidates.size >= MAX_CACHED_CHATS) {
      const oldest = candidates.keys().next();
      if (oldest.done !== true) candidates.delete(oldest.value);
    }
    candidates.set(chatId, { members, version: hub.version, users });
    return users;
  }

  async function notifyAbsentMembers(message: WireMessage): Promise<void> {
    const members = await deps.members.get(message.chat_id);
    const topic = chatTopic(message.chat_id);
    let plan: NotificationPlan | null = null;
    let chatName: string | null = null;
    for (const member of absentCandidates(message.chat_id, topic, members)) {
      // Planned once per message, and only when someone here may need it (mentions are parsed).
      plan ??= deps.notifications.plan(
        { chatId: message.chat_id, senderId: message.sender_id, content: message.content },
        members,
      );
      // The one rule (core/notification-planner.ts); in a cluster its liveness also says
      // whether the chat is open on another node.
      if (plan.audience(member.id) !== 'live') continue;
      const inboxes = notificationsTopics(member.id).filter(
        (inbox) => hub.subscribers(inbox).size > 0,
      );
      if (inboxes.length === 0) continue;
      if (chatName === null) {
        const chat = await deps.store.getChat(message.chat_id);
        chatName = chat === null || chat.kind === 'dm' ? message.sender_name : chat.name;
      }
      const payload: NotificationPayload = {
        chat_id: message.chat_id,
        chat_name: chatName,
        message_id: message.message_id,
        seq: message.seq,
        sender_id: message.sender_id,
        sender_name: message.sender_name,
        content: message.content,
        timestamp: message.timestamp,
        mentioned: plan.mentioned.has(member.id),
      };
      for (const inbox of inboxes) {
        hub.broadcast(inbox, encodeFrame(null, null, inbox, EVENTS.newNotification, payload));
      }
    }
  }

  function onEvent(event: BusEvent): void {
    switch (event.type) {
      case 'message': {
        const { message } = event;
        const topic = chatTopic(message.chat_id);
        const except =
          event.originConnectionId === null ? undefined : hub.byId(event.originConnectionId);
        hub.broadcast(
          topic,
          encodeFrame(null, null, topic, EVENTS.receiveMessage, freshMessage(message)),
          {
            except,
            seq: message.seq,
          },
        );
        notifyAbsentMembers(message).catch((error: unknown) =>
          deps.logger.error({ err: error, chat: message.chat_id }, 'notification fan-out failed'),
        );
        return;
      }
      case 'change': {
        // To every subscriber, the asking connection too (its reply may be lost with a drop):
        // clients apply a change once, by version_seq. Held by joins with its seq, like messages.
        const change = event.event;
        const topic = chatTopic(change.chat_id);
        hub.broadcast(topic, encodeFrame(null, null, topic, change.type, change), {
          seq: change.seq,
        });
        return;
      }
      case 'typing': {
        const topic = chatTopic(event.chatId);
        hub.broadcast(
          topic,
          encodeFrame(null, null, topic, EVENTS.typingUpdate, {
            chat_id: event.chatId,
            user_ids: event.userIds,
          }),
        );
        return;
      }
      case 'membership': {
        deps.members.invalidate(event.chatId);
        for (const userId of event.removedUserIds) deps.revoke(userId, event.chatId);
        const payload = { chat_id: event.chatId };
        const tell = (
          userIds: readonly string[],
          name: typeof EVENTS.chatAdded | typeof EVENTS.chatRemoved,
        ) => {
          for (const userId of userIds) {
            for (const inbox of notificationsTopics(userId)) {
              if (hub.subscribers(inbox).size > 0)
                hub.broadcast(inbox, encodeFrame(null, null, inbox, name, payload));
            }
          }
        };
        tell(event.addedUserIds, EVENTS.chatAdded);
        tell(event.removedUserIds, EVENTS.chatRemoved);
        return;
      }
    }
  }

  return deps.bus.subscribe(onEvent);
}

/**
 * A message just posted, as its receive_message push carries it: without the event-stream
 * fields that only say "unchanged" (`edited_at` and `deleted_at` null, `version_seq` equal to
 * `seq`), which clients read as those defaults (relay/PROTOCOL.md). Every byte of this frame is
 * written once per member: the three fields made a 1,000-member fan-out cost more CPU.
 */
function freshMessage(
  message: WireMessage,
): Omit<WireMessage, 'edited_at' | 'deleted_at' | 'version_seq'> | WireMessage {
  if (
    message.edited_at !== null ||
    message.deleted_at !== null ||
    message.version_seq !== message.seq
  ) {
    return message;
  }
  const { edited_at: _edited, deleted_at: _deleted, version_seq: _version, ...fresh } = message;
  return fresh;
}
