/**
 * The composer's length rule: it counts what will be sent exactly as the relay counts it
 * (relay/protocol/message-content.ts), shows a counter from COUNTER_FROM of the limit, and
 * refuses to send over it, with words that say why.
 */
import {
  DEFAULT_MAX_MESSAGE_CHARS,
  messageChars,
  outgoingContent,
} from '../../relay/protocol/message-content.js';

/** The counter appears at this share of the limit (7,200 of 8,000). */
export const COUNTER_FROM = 0.9;

export interface ComposerLength {
  /** Characters the relay will count (UTF-16 units of the text without trailing whitespace). */
  chars: number;
  max: number;
  /** Whether the counter is shown. */
  visible: boolean;
  /** How many characters over the limit (0 when within it). */
  over: number;
}

export function composerLength(
  typed: string,
  max: number = DEFAULT_MAX_MESSAGE_CHARS,
): ComposerLength {
  const chars = messageChars(outgoingContent(typed));
  return {
    chars,
    max,
    visible: chars >= Math.ceil(max * COUNTER_FROM),
    over: Math.max(0, chars - max),
  };
}

const count = new Intl.NumberFormat('en-US');

/** The visible counter: "7,300 / 8,000". */
export function counterText({ chars, max }: ComposerLength): string {
  return `${count.format(chars)} / ${count.format(max)}`;
}

/** What a screen reader hears once typing pauses. */
export function counterAnnouncement(length: ComposerLength): string {
  if (!length.visible) return '';
  if (length.over > 0) {
    return `${count.format(length.over)} characters over the limit of ${count.format(length.max)}. The message cannot be sent.`;
  }
  return `${count.format(length.max - length.chars)} characters left.`;
}

/** Why Send did nothing. */
export function tooLongReason(length: ComposerLength): string {
  const over = length.over === 1 ? '1 character' : `${count.format(length.over)} characters`;
  return `Not sent: the message is ${over} too long. Messages are at most ${count.format(length.max)} characters; shorten it or split it into several messages. Your text is kept here.`;
}
