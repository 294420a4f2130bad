import { describe, expect, it } from 'vitest';
import { checkMessageContent } from '../../relay/protocol/message-content.js';
import {
  composerLength,
  counterAnnouncement,
  counterText,
  tooLongReason,
} from './composer-limit.js';

describe('composerLength', () => {
  it('hides the counter below 90 % and shows it from 7,200 of 8,000', () => {
    expect(composerLength('x'.repeat(7_199))).toEqual({
      chars: 7_199,
      max: 8_000,
      visible: false,
      over: 0,
    });
    expect(composerLength('x'.repeat(7_200)).visible).toBe(true);
  });

  it('counts what is sent: trailing whitespace is not counted, leading is', () => {
    expect(composerLength(`${'x'.repeat(8_000)}\n\n  `).over).toBe(0);
    expect(composerLength(` ${'x'.repeat(8_000)}`).over).toBe(1);
  });

  it('counts like the relay: an emoji is two', () => {
    expect(composerLength('😀'.repeat(4_001)).chars).toBe(8_002);
    expect(composerLength('😀'.repeat(4_001)).over).toBe(2);
  });

  it('agrees with the relay at the edge, for any max', () => {
    for (const max of [10, 4_000, 8_000]) {
      for (const length of [max - 1, max, max + 1]) {
        const text = 'é'.repeat(length);
        expect(composerLength(text, max).over > 0).toBe(
          checkMessageContent(text, max)?.code === 'message_too_long',
        );
      }
    }
  });
});

describe('counter words', () => {
  it('shows "7,300 / 8,000"', () => {
    expect(counterText(composerLength('x'.repeat(7_300)))).toBe('7,300 / 8,000');
    expect(counterText(composerLength('x'.repeat(8_500)))).toBe('8,500 / 8,000');
  });

  it('announces what is left, or how far over', () => {
    expect(counterAnnouncement(composerLength('x'.repeat(10)))).toBe('');
    expect(counterAnnouncement(composerLength('x'.repeat(7_300)))).toBe('700 characters left.');
    expect(counterAnnouncement(composerLength('x'.repeat(8_500)))).toBe(
      '500 characters over the limit of 8,000. The message cannot be sent.',
    );
  });

  it('says why Send did nothing', () => {
    expect(tooLongReason(composerLength('x'.repeat(8_001)))).toContain('1 character too long');
    expect(tooLongReason(composerLength('x'.repeat(8_500)))).toContain(
      '500 characters too long. Messages are at most 8,000 characters',
    );
  });
});
