import { describe, expect, it } from 'vitest';
import { chatTopic, notificationsTopic, notificationsTopics, parseTopic } from './topics.js';

describe('topics', () => {
  it('spells chat and notifications topics the way seed 002 joins them', () => {
    expect(chatTopic('5f1c0e9a2b3d4c5e6f7a8b9c')).toBe('chat:5f1c0e9a2b3d4c5e6f7a8b9c');
    expect(notificationsTopic('u1')).toBe('notifications:u1');
    expect(notificationsTopics('u1')).toEqual(['notifications:u1', 'notification:u1']);
  });

  it('parses what it spells', () => {
    expect(parseTopic(chatTopic('abc_DEF-123'))).toEqual({ kind: 'chat', chatId: 'abc_DEF-123' });
    expect(parseTopic(notificationsTopic('u-1'))).toEqual({ kind: 'notifications', userId: 'u-1' });
    for (const topic of notificationsTopics('u-1')) {
      expect(parseTopic(topic)).toEqual({ kind: 'notifications', userId: 'u-1' });
    }
  });

  it('parses the phoenix topic used by heartbeats', () => {
    expect(parseTopic('phoenix')).toEqual({ kind: 'phoenix' });
  });

  it('accepts ids of 1 to 64 characters from [A-Za-z0-9_-]', () => {
    expect(parseTopic('chat:a')).toEqual({ kind: 'chat', chatId: 'a' });
    expect(parseTopic(`chat:${'a'.repeat(64)}`)).toEqual({ kind: 'chat', chatId: 'a'.repeat(64) });
  });

  it('returns null for anything the relay does not serve', () => {
    const rejected = [
      '',
      'chat',
      'chat:',
      ':abc',
      'chats:abc',
      'Chat:abc',
      'room:abc',
      'phoenix:abc',
      'Phoenix',
      'notifications:',
      'chat:a:b',
      'chat:a b',
      'chat:a/b',
      'chat:a.b',
      'chat:é',
      'chat:abc\n',
      ' chat:abc',
      `chat:${'a'.repeat(65)}`,
      'chat:__proto__x:',
    ];
    for (const topic of rejected) expect(parseTopic(topic), JSON.stringify(topic)).toBeNull();
  });
});
