import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './errors.js';
import {
  DEFAULT_MAX_MESSAGE_CHARS,
  checkMessageContent,
  isPermanentSendError,
  messageChars,
  outgoingContent,
} from './message-content.js';

describe('messageChars', () => {
  it('counts UTF-16 code units, as the relay does, without normalising', () => {
    expect(messageChars('abc')).toBe(3);
    expect(messageChars('😀')).toBe(2);
    expect(messageChars('\u00e9')).toBe(1);
    expect(messageChars('e\u0301')).toBe(2);
    expect(messageChars('👩‍👩‍👧')).toBe(8);
  });
});

describe('outgoingContent', () => {
  it('removes trailing whitespace only', () => {
    expect(outgoingContent('  hi there \n\n\t ')).toBe('  hi there');
    expect(outgoingContent('a\nb')).toBe('a\nb');
    expect(outgoingContent(' \n ')).toBe('');
  });
});

describe('checkMessageContent', () => {
  it('accepts exactly the limit and refuses one more', () => {
    expect(checkMessageContent('x'.repeat(DEFAULT_MAX_MESSAGE_CHARS), 8_000)).toBeNull();
    expect(checkMessageContent('x'.repeat(DEFAULT_MAX_MESSAGE_CHARS + 1), 8_000)).toEqual({
      code: 'message_too_long',
      message: 'messages are at most 8000 characters',
    });
  });

  it('counts an emoji as two, so 4,000 emoji fill 8,000', () => {
    expect(checkMessageContent('😀'.repeat(4_000), 8_000)).toBeNull();
    expect(checkMessageContent(`${'😀'.repeat(4_000)}a`, 8_000)?.code).toBe('message_too_long');
  });

  it('refuses blank content with the documented message', () => {
    for (const blank of ['', ' ', '\n\t \u00a0']) {
      expect(checkMessageContent(blank, 8_000)).toEqual({
        code: 'empty_message',
        message: ERROR_CODES.empty_message,
      });
    }
  });

  it('is 8,000 by default', () => {
    expect(DEFAULT_MAX_MESSAGE_CHARS).toBe(8_000);
  });
});

describe('isPermanentSendError', () => {
  it('calls refusals that resending cannot fix permanent', () => {
    for (const code of [
      'message_too_long',
      'empty_message',
      'invalid_payload',
      'not_member',
      'not_found',
    ]) {
      expect(isPermanentSendError(code)).toBe(true);
    }
  });

  it('calls everything else transient, unknown codes included', () => {
    for (const code of [
      'rate_limited',
      'overloaded',
      'storage_error',
      'storage_full',
      'storage_read_only',
      'internal_error',
      'timeout',
      'something_new',
    ]) {
      expect(isPermanentSendError(code)).toBe(false);
    }
  });
});
