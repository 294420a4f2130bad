import { describe, expect, it } from 'vitest';
import { chatTopic, notificationsTopics } from '../protocol/topics.js';
import type { Liveness } from './liveness.js';
import type { Members } from './membership-cache.js';
import { NotificationPlanner } from './notification-planner.js';
import type { StoredUser } from './store.js';

const CREATED = '2026-12-07T00:00:00.000Z';

function membersOf(...names: string[]): Members {
  return new Map(
    names.map((name): [string, StoredUser] => [name, { id: name, name, created_at: CREATED }]),
  );
}

/** Who has which topic open, as a set of `user topic` strings. */
function liveness(open: readonly string[]): Liveness {
  const joined = new Set(open);
  return { userJoined: (userId, topic) => joined.has(`${userId} ${topic}`) };
}

const CHAT = 'c1';
const inbox = (userId: string): string => notificationsTopics(userId)[0] ?? '';

describe('NotificationPlanner', () => {
  it('gives the sender and members with the chat open nothing, inbox-only members a live one, the rest a pending one', () => {
    const members = membersOf('ana', 'ben', 'cy', 'dee');
    const planner = new NotificationPlanner({
      liveness: liveness([`ben ${chatTopic(CHAT)}`, `cy ${inbox('cy')}`]),
      pendingFanoutMaxMembers: 10,
    });
    const plan = planner.plan({ chatId: CHAT, senderId: 'ana', content: 'hi @Dee' }, members);
    expect(['ana', 'ben', 'cy', 'dee', 'stranger'].map((id) => plan.audience(id))).toEqual([
      'none',
      'none',
      'live',
      'pending',
      'none',
    ]);
    expect(plan.pendingUserIds()).toEqual(['dee']);
    expect([...plan.mentioned]).toEqual(['dee']);
  });

  it('never counts the sender as mentioned', () => {
    const plan = new NotificationPlanner({
      liveness: liveness([]),
      pendingFanoutMaxMembers: 10,
    }).plan({ chatId: CHAT, senderId: 'ana', content: '@ana and @ben' }, membersOf('ana', 'ben'));
    expect([...plan.mentioned]).toEqual(['ben']);
  });

  it('above pendingFanoutMaxMembers, stores pending ones only for mentions; live ones are unchanged', () => {
    const members = membersOf('ana', 'ben', 'cy', 'dee');
    const plan = new NotificationPlanner({
      liveness: liveness([`dee ${inbox('dee')}`]),
      pendingFanoutMaxMembers: 3,
    }).plan({ chatId: CHAT, senderId: 'ana', content: 'ping @cy' }, members);
    expect(plan.pendingUserIds()).toEqual(['cy']);
    expect(plan.audience('ben')).toBe('none');
    expect(plan.audience('dee')).toBe('live');
  });
});
