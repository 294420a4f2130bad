import { beforeEach, describe, expect, it } from 'vitest';
import { TypingTracker } from './typing.js';

const TTL_MS = 6_000;

describe('TypingTracker', () => {
  let announced: [string, string[]][];
  let tracker: TypingTracker;

  beforeEach(() => {
    announced = [];
    tracker = new TypingTracker(TTL_MS, (chatId, userIds) => announced.push([chatId, userIds]));
  });

  function typing(userId: string, typing: boolean, now = 0, connectionId = `conn-${userId}`) {
    tracker.set({ chatId: 'chat-1', userId, connectionId, typing, now });
  }

  it('announces only when the set of typing users changes', () => {
    typing('ana', true, 0);
    typing('ana', true, 1_000);
    typing('ben', true, 1_500);
    typing('ana', true, 2_000);
    typing('ana', false, 2_500);
    typing('ana', false, 3_000);
    typing('ben', false, 3_500);
    expect(announced).toEqual([
      ['chat-1', ['ana']],
      ['chat-1', ['ana', 'ben']],
      ['chat-1', ['ben']],
      ['chat-1', []],
    ]);
    expect(tracker.typingIn('chat-1')).toEqual([]);
  });

  it('does not announce a stop for someone who was not typing', () => {
    typing('ana', false);
    tracker.set({ chatId: 'elsewhere', userId: 'ana', connectionId: 'c', typing: false });
    expect(announced).toEqual([]);
  });

  it('keeps chats apart', () => {
    typing('ana', true);
    tracker.set({ chatId: 'chat-2', userId: 'ben', connectionId: 'c', typing: true, now: 0 });
    expect(tracker.typingIn('chat-1')).toEqual(['ana']);
    expect(tracker.typingIn('chat-2')).toEqual(['ben']);
    expect(tracker.typingIn('chat-3')).toEqual([]);
  });

  it('expires an entry on the sweep at or after its ttl, announcing the change', () => {
    typing('ana', true, 0);
    typing('ben', true, 3_000);
    announced.length = 0;
    tracker.sweep(TTL_MS - 1);
    expect(announced).toEqual([]);
    tracker.sweep(TTL_MS);
    expect(announced).toEqual([['chat-1', ['ben']]]);
    tracker.sweep(3_000 + TTL_MS);
    expect(announced).toEqual([
      ['chat-1', ['ben']],
      ['chat-1', []],
    ]);
    tracker.sweep(60_000);
    expect(announced).toHaveLength(2);
  });

  it('a repeated typing update pushes the expiry back', () => {
    typing('ana', true, 0);
    typing('ana', true, 5_000);
    announced.length = 0;
    tracker.sweep(TTL_MS);
    expect(tracker.typingIn('chat-1')).toEqual(['ana']);
    expect(announced).toEqual([]);
    tracker.sweep(5_000 + TTL_MS);
    expect(announced).toEqual([['chat-1', []]]);
  });

  it('dropConnection clears what that connection was typing, in every chat', () => {
    tracker.set({ chatId: 'a', userId: 'ana', connectionId: 'phone', typing: true, now: 0 });
    tracker.set({ chatId: 'b', userId: 'ana', connectionId: 'phone', typing: true, now: 0 });
    tracker.set({ chatId: 'b', userId: 'ben', connectionId: 'laptop', typing: true, now: 0 });
    announced.length = 0;
    tracker.dropConnection('phone');
    expect(announced).toEqual([
      ['a', []],
      ['b', ['ben']],
    ]);
    tracker.dropConnection('phone');
    expect(announced).toHaveLength(2);
  });

  it('dropConnection with a chat id clears only that chat', () => {
    tracker.set({ chatId: 'a', userId: 'ana', connectionId: 'phone', typing: true, now: 0 });
    tracker.set({ chatId: 'b', userId: 'ana', connectionId: 'phone', typing: true, now: 0 });
    announced.length = 0;
    tracker.dropConnection('phone', 'a');
    expect(announced).toEqual([['a', []]]);
    expect(tracker.typingIn('b')).toEqual(['ana']);
  });

  it('dropConnection leaves a user typing from another, newer connection', () => {
    typing('ana', true, 0, 'phone');
    typing('ana', true, 100, 'laptop');
    announced.length = 0;
    tracker.dropConnection('phone');
    expect(announced).toEqual([]);
    expect(tracker.typingIn('chat-1')).toEqual(['ana']);
  });
});
