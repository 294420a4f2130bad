import { describe, expect, it } from 'vitest';
import { EVENTS } from '../protocol/events.js';
import { chatTopic, notificationsTopic, notificationsTopics } from '../protocol/topics.js';
import { RelayError } from '../core/relay-error.js';
import { joinedChannel, type JoinedInbound } from './channel.js';
import type { ChannelDeps } from './channel-deps.js';
import { CHANNELS, channelOf } from './channel-registry.js';

describe('the channel registry', () => {
  it('routes every topic the relay serves to the channel of its kind', () => {
    expect(channelOf(chatTopic('abc'))?.channel).toBe(CHANNELS.chat);
    expect(channelOf(chatTopic('abc'))?.topic).toEqual({ kind: 'chat', chatId: 'abc' });
    for (const topic of [notificationsTopic('u1'), ...notificationsTopics('u1')]) {
      expect(channelOf(topic)?.channel).toBe(CHANNELS.notifications);
    }
    expect(channelOf('phoenix')?.channel).toBe(CHANNELS.phoenix);
    for (const topic of ['room:abc', 'chat:', '', 'chat:a b']) expect(channelOf(topic)).toBeNull();
  });

  it('registers the chat and notifications events, and nothing from prototypes', () => {
    const chat = CHANNELS.chat;
    const inbox = CHANNELS.notifications;
    const phoenix = CHANNELS.phoenix;
    expect([chat.joinable, inbox.joinable, phoenix.joinable]).toEqual([true, true, false]);
    for (const event of [
      EVENTS.sendMessage,
      EVENTS.editMessage,
      EVENTS.deleteMessage,
      EVENTS.typing,
      EVENTS.read,
    ]) {
      expect(chat.event(event), event).toBeTypeOf('function');
      expect(inbox.event(event), event).toBeUndefined();
    }
    expect(inbox.event(EVENTS.ackNotifications)).toBeTypeOf('function');
    expect(phoenix.event(EVENTS.heartbeat)).toBeTypeOf('function');
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', EVENTS.join]) {
      expect(chat.event(name), name).toBeUndefined();
      expect(inbox.event(name), name).toBeUndefined();
    }
    expect(phoenix.event(EVENTS.join)).toBeUndefined();
  });

  it('marks the events that always write', () => {
    if (!CHANNELS.chat.joinable || !CHANNELS.notifications.joinable) throw new Error('joinable');
    expect(CHANNELS.chat.writes(EVENTS.read)).toBe(true);
    expect(CHANNELS.chat.writes(EVENTS.typing)).toBe(false);
    expect(CHANNELS.notifications.writes(EVENTS.ackNotifications)).toBe(true);
  });

  it('refuses, with a coded error, a frame routed to the channel of another topic kind', () => {
    const seen: string[] = [];
    const channel = joinedChannel({
      kind: 'chat',
      bind: (inbound: JoinedInbound, topic) => ({ ...inbound, chatId: topic.chatId }),
      join: (_deps, inbound) => void seen.push(inbound.chatId),
      events: {},
      leave: () => undefined,
    });
    if (!channel.joinable) throw new Error('joinable');
    const inbound = { joinRef: '1', ref: '1', topic: 'chat:c1' } as JoinedInbound;
    const deps = {} as ChannelDeps;
    void channel.join(deps, inbound, { kind: 'chat', chatId: 'c1' }, {});
    expect(seen).toEqual(['c1']);
    let thrown: unknown;
    try {
      void channel.join(deps, inbound, { kind: 'notifications', userId: 'u1' }, {});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RelayError);
    expect((thrown as RelayError).code).toBe('channel_mismatch');
  });
});
