/**
 * A channel: what one kind of topic (relay/protocol/topics.ts's `Topic['kind']`) does with the
 * frames pushed to it. Each kind registers its join, its events by name and its leave
 * (channel-registry.ts); the socket server looks the handler up and never names an event itself.
 */
import { failure, type Failure } from '../protocol/errors.js';
import type { Topic } from '../protocol/topics.js';
import { RelayError } from '../core/relay-error.js';
import type { ChannelDeps } from './channel-deps.js';
import type { Subscription } from './hub.js';
import type { Inbound } from './replies.js';

export type TopicKind = Topic['kind'];
export type TopicOf<K extends TopicKind> = Extract<Topic, { kind: K }>;

/** A frame on a topic this connection joined (or is joining): replies carry its join_ref. */
export type JoinedInbound = Inbound & { joinRef: string };

/** Handles one event; every outcome is a reply or a push, never a throw (but storage failures). */
export type EventHandler<I> = (
  deps: ChannelDeps,
  inbound: I,
  payload: unknown,
) => Promise<void> | void;

/** The handlers of a topic kind that is joined before it is used (chat, notifications). */
export interface JoinedChannelSpec<K extends TopicKind, I extends JoinedInbound> {
  kind: K;
  /** The inbound the handlers take: the frame's, with the ids the topic names. */
  bind(inbound: JoinedInbound, topic: TopicOf<K>): I;
  /** `phx_join`: answers the join and subscribes the connection, or answers an error. */
  join: EventHandler<I>;
  /** Pushes to the joined topic, by event name (relay/protocol/events.ts's EVENTS). */
  events: Readonly<Record<string, EventHandler<I>>>;
  /** Ends one subscription: `phx_leave`, a lost access, a closed socket, a failed join. */
  leave(deps: ChannelDeps, subscription: Subscription): void;
  /** Events that always write: their success shows that storage takes writes again. */
  writes?: readonly string[];
}

/** The handlers of a topic kind that is never joined (phoenix: heartbeats). */
export interface OpenChannelSpec<K extends TopicKind> {
  kind: K;
  events: Readonly<Record<string, EventHandler<Inbound>>>;
  /** The answer to any other event, phx_join included. */
  unknownEvent: (event: string) => Failure;
}

/** Handles one event of a joined topic; `topic` is the parsed topic of the frame. */
export type JoinedHandler = (
  deps: ChannelDeps,
  inbound: JoinedInbound,
  topic: Topic,
  payload: unknown,
) => Promise<void> | void;

/** A registered channel as the socket server sees it (the bound inbound type erased). */
export type Channel =
  | {
      readonly joinable: true;
      readonly kind: TopicKind;
      join: JoinedHandler;
      /** The handler of a push to a joined topic; undefined: answered `unknown_event`. */
      event(name: string): JoinedHandler | undefined;
      leave(deps: ChannelDeps, subscription: Subscription): void;
      writes(name: string): boolean;
      unknownEvent(name: string): Failure;
    }
  | {
      readonly joinable: false;
      readonly kind: TopicKind;
      event(name: string): EventHandler<Inbound> | undefined;
      unknownEvent(name: string): Failure;
    };

function isKind<K extends TopicKind>(topic: Topic, kind: K): topic is TopicOf<K> {
  return topic.kind === kind;
}

/** Looks an event up by own name only: `constructor` or `__proto__` is an unknown event. */
function lookup<H>(events: Readonly<Record<string, H>>): (name: string) => H | undefined {
  const table = new Map(Object.entries(events));
  return (name) => table.get(name);
}

/** Registers a joined topic kind: binds its handlers to the topic each frame names. */
export function joinedChannel<K extends TopicKind, I extends JoinedInbound>(
  spec: JoinedChannelSpec<K, I>,
): Channel {
  const bind = (inbound: JoinedInbound, topic: Topic): I => {
    if (!isKind(topic, spec.kind)) {
      throw new RelayError(
        'channel_mismatch',
        `a ${topic.kind} topic was routed to the ${spec.kind} channel`,
      );
    }
    return spec.bind(inbound, topic);
  };
  const handlers = lookup(spec.events);
  const writes = new Set(spec.writes ?? []);
  return {
    joinable: true,
    kind: spec.kind,
    join: (deps, inbound, topic, payload) => spec.join(deps, bind(inbound, topic), payload),
    event(name) {
      const handler = handlers(name);
      if (handler === undefined) return undefined;
      return (deps, inbound, topic, payload) => handler(deps, bind(inbound, topic), payload);
    },
    leave: spec.leave,
    writes: (name) => writes.has(name),
    unknownEvent: (name) =>
      failure('unknown_event', `${name} is not an event of ${spec.kind} topics`),
  };
}

/** Registers a topic kind whose events need no join. */
export function openChannel<K extends TopicKind>(spec: OpenChannelSpec<K>): Channel {
  return {
    joinable: false,
    kind: spec.kind,
    event: lookup(spec.events),
    unknownEvent: spec.unknownEvent,
  };
}
