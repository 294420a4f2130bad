/**
 * What message content the relay accepts, and which refusals of a send are final. One rule for
 * both sides: the relay checks content with `checkMessageContent` (chat-service.ts), and the UI
 * counts with the same function before it sends, so the composer's counter and the relay can
 * never disagree about where the limit is.
 */
import { ERROR_CODES, type ErrorCode } from './errors.js';

/**
 * The relay's default `maxMessageChars` (relay/core/options.ts takes its default from here; an
 * operator may lower or raise it with `--limit maxMessageChars=N`, up to
 * HARD_LIMITS.contentChars).
 */
export const DEFAULT_MAX_MESSAGE_CHARS = 8_000;

/**
 * The length the limit applies to: UTF-16 code units of the content exactly as sent (no
 * normalisation, no trimming), which is what JavaScript's `String.length` counts. An emoji
 * such as 😀 counts 2, "é" typed as one precomposed character counts 1 (as e + combining accent,
 * 2).
 */
export function messageChars(content: string): number {
  return content.length;
}

/**
 * The content a client sends for what was typed: trailing whitespace (a last newline, spaces)
 * removed, nothing else changed. The composer counts this, so its counter shows exactly what
 * the relay will count.
 */
export function outgoingContent(typed: string): string {
  return typed.replace(/\s+$/, '');
}

/** Content that is empty or only whitespace (`String.prototype.trim`'s idea of whitespace). */
export function isBlankMessage(content: string): boolean {
  return content.trim().length === 0;
}

/** Why content is refused before anything is stored, or null when it is acceptable. */
export interface ContentProblem {
  code: Extract<ErrorCode, 'empty_message' | 'message_too_long'>;
  message: string;
}

export function checkMessageContent(content: string, maxChars: number): ContentProblem | null {
  if (isBlankMessage(content)) {
    return { code: 'empty_message', message: ERROR_CODES.empty_message };
  }
  if (messageChars(content) > maxChars) {
    return { code: 'message_too_long', message: `messages are at most ${maxChars} characters` };
  }
  return null;
}

/**
 * Refusals of `send_message` (or `POST /api/chats/:id/messages`) that sending the same content
 * to the same chat again can never turn into success: the client must not offer Retry for
 * them. Every other code (rate_limited, overloaded, storage_*, internal_error, a timeout) is
 * transient: the same message, with the same mobile_ref_id, may be sent again.
 */
export const PERMANENT_SEND_ERRORS: ReadonlySet<string> = new Set<ErrorCode>([
  'message_too_long',
  'empty_message',
  'invalid_payload',
  'not_member',
  'not_found',
]);

export function isPermanentSendError(code: string): boolean {
  return PERMANENT_SEND_ERRORS.has(code);
}
