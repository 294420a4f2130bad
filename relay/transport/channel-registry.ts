/**
 * Every topic kind the socket serves and its channel: the one table the socket server routes by
 * (relay/protocol/topics.ts parses the topic; the kind picks the channel).
 */
import { failure } from '../protocol/errors.js';
import { EVENTS } from '../protocol/events.js';
import { parseTopic, type Topic } from '../protocol/topics.js';
import { openChannel, type Channel, type TopicKind } from './channel.js';
import { chatChannel } from './chat-channel.js';
import { notificationsChannel } from './notifications-channel.js';
import { replyOk } from './replies.js';

/** `phoenix`: the socket's own topic, for heartbeats; never joined. */
const phoenixChannel = openChannel({
  kind: 'phoenix',
  events: { [EVENTS.heartbeat]: (_deps, inbound) => replyOk(inbound) },
  unknownEvent: () => failure('unknown_event', 'the phoenix topic only takes heartbeat'),
});

export const CHANNELS: { readonly [K in TopicKind]: Channel } = {
  chat: chatChannel,
  notifications: notificationsChannel,
  phoenix: phoenixChannel,
};

/** The channel of a topic string, with the parsed topic; null for a topic the relay does not serve. */
export function channelOf(topic: string): { channel: Channel; topic: Topic } | null {
  const parsed = parseTopic(topic);
  return parsed === null ? null : { channel: CHANNELS[parsed.kind], topic: parsed };
}
