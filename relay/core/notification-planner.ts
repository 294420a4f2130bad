/**
 * Who is notified of a posted message, decided once. ChatService asks before the commit (the
 * members who get a pending notification, stored in the same transaction as the message); the
 * transport's delivery asks after the bus (the members who get a live `new_notification`).
 * Both read the same rule from here, so they never disagree about a member.
 *
 * Only posted messages notify. Edits and deletes never do (nor count as unread): there is no
 * plan for them, and a delete takes the message's pending notifications away (store.ts,
 * changeMessages).
 */
import { chatTopic, notificationsTopics } from '../protocol/topics.js';
import type { Liveness } from './liveness.js';
import type { Members } from './membership-cache.js';
import { findMentions } from './mentions.js';

/**
 * What a member gets for a posted message:
 * - `none`: nothing (the sender; anyone with the chat open, who gets `receive_message`; in a
 *   chat larger than pendingFanoutMaxMembers, an offline member who was not mentioned);
 * - `live`: a `new_notification` on their open notifications topic;
 * - `pending`: a stored notification, pushed when they next open their notifications topic.
 */
export type NotificationAudience = 'none' | 'live' | 'pending';

export interface PostedMessage {
  chatId: string;
  senderId: string;
  content: string;
}

export interface NotificationPlannerOptions {
  /** Who has a live subscription (this node's hub, or the cluster's view of every node). */
  liveness: Liveness;
  /**
   * In chats with more members than this, only mentioned members get pending notifications
   * (RelayLimits.pendingFanoutMaxMembers): a 10,000-member room would otherwise write 10,000
   * rows per message.
   */
  pendingFanoutMaxMembers: number;
}

/** The plan for one posted message: who is mentioned, and what each member gets. */
export class NotificationPlan {
  readonly #topic: string;
  readonly #fanoutAll: boolean;

  constructor(
    readonly message: PostedMessage,
    readonly members: Members,
    /** Members mentioned by @name, the sender excluded: `mentioned: true` in their payloads. */
    readonly mentioned: ReadonlySet<string>,
    readonly options: NotificationPlannerOptions,
  ) {
    this.#topic = chatTopic(message.chatId);
    this.#fanoutAll = members.size <= options.pendingFanoutMaxMembers;
  }

  /** What the member gets, as the relay sees their subscriptions now. */
  audience(userId: string): NotificationAudience {
    if (userId === this.message.senderId || !this.members.has(userId)) return 'none';
    const { liveness } = this.options;
    if (liveness.userJoined(userId, this.#topic)) return 'none';
    if (notificationsTopics(userId).some((inbox) => liveness.userJoined(userId, inbox))) {
      return 'live';
    }
    return this.#fanoutAll || this.mentioned.has(userId) ? 'pending' : 'none';
  }

  /** The members who get a pending notification (stored with the message). */
  pendingUserIds(): string[] {
    const ids: string[] = [];
    for (const userId of this.members.keys()) {
      if (this.audience(userId) === 'pending') ids.push(userId);
    }
    return ids;
  }
}

/** Plans notifications of posted messages; one per relay node. */
export class NotificationPlanner {
  constructor(readonly options: NotificationPlannerOptions) {}

  plan(message: PostedMessage, members: Members): NotificationPlan {
    const mentioned = new Set(
      findMentions(message.content, members.values()).filter((id) => id !== message.senderId),
    );
    return new NotificationPlan(message, members, mentioned, this.options);
  }
}
