/** Topic names, spelled once for both sides. */
export type Topic =
  | { kind: 'chat'; chatId: string }
  | { kind: 'notifications'; userId: string }
  | { kind: 'phoenix' };

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function chatTopic(chatId: string): string {
  return `chat:${chatId}`;
}

export function notificationsTopic(userId: string): string {
  return `notifications:${userId}`;
}

/** Both spellings of a user's notifications topic (see parseTopic); either may be joined. */
export function notificationsTopics(userId: string): [string, string] {
  return [`notifications:${userId}`, `notification:${userId}`];
}

/** Parses a topic; null for anything the relay does not serve. */
export function parseTopic(topic: string): Topic | null {
  if (topic === 'phoenix') return { kind: 'phoenix' };
  const colon = topic.indexOf(':');
  if (colon === -1) return null;
  const prefix = topic.slice(0, colon);
  const id = topic.slice(colon + 1);
  if (!ID.test(id)) return null;
  if (prefix === 'chat') return { kind: 'chat', chatId: id };
  // Seed 002's prose says `notification:*` while its code joins `notifications:<id>`: accept both.
  if (prefix === 'notifications' || prefix === 'notification')
    return { kind: 'notifications', userId: id };
  return null;
}
