import type { Logger } from 'pino';
import type { ChatService } from '../core/chat-service.js';
import type { Hub, Subscription } from './hub.js';
import type { RelayLimits } from '../core/options.js';
import type { ChatPresence } from '../core/presence.js';
import type { Store } from '../core/store.js';
import type { ChatTyping } from '../core/typing.js';

/** What the channel handlers share. */
export interface ChannelDeps {
  hub: Hub;
  service: ChatService;
  store: Store;
  presence: ChatPresence;
  typing: ChatTyping;
  limits: RelayLimits;
  logger: Logger;
}

/** Sends the frames a subscription held while its join was answered, skipping seqs already sent. */
export function releaseHeld(subscription: Subscription, sentUpToSeq: number): void {
  const held = subscription.held ?? [];
  subscription.held = null;
  for (const { frame, seq } of held) {
    if (seq === undefined || seq > sentUpToSeq) subscription.connection.send(frame);
  }
}
