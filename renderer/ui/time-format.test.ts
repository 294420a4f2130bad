import { describe, expect, it } from 'vitest';
import { dayLabel, formatTime, warmTimeFormats } from './time-format.js';

const now = new Date(2025, 10, 22, 15, 30).getTime(); // Saturday, November 22, 2025

describe('dayLabel', () => {
  it('says Today and Yesterday, with the full date in the accessible name', () => {
    expect(dayLabel(new Date(2025, 10, 22, 0, 5).getTime(), now, 'en-US')).toEqual({
      short: 'Today',
      name: 'Today, Saturday, November 22, 2025',
    });
    expect(dayLabel(new Date(2025, 10, 21, 23, 59).getTime(), now, 'en-US')).toEqual({
      short: 'Yesterday',
      name: 'Yesterday, Friday, November 21, 2025',
    });
  });

  it('names older days by weekday this year and by year before', () => {
    expect(dayLabel(new Date(2025, 10, 17, 12).getTime(), now, 'en-US')).toEqual({
      short: 'Monday, November 17',
      name: 'Monday, November 17, 2025',
    });
    expect(dayLabel(new Date(2024, 1, 29, 12).getTime(), now, 'en-US')).toEqual({
      short: 'February 29, 2024',
      name: 'Thursday, February 29, 2024',
    });
  });
});

describe('formatTime', () => {
  it('shows hours and minutes in the locale', () => {
    const at = new Date(2025, 10, 22, 14, 5).getTime();
    expect(formatTime(at, 'en-US')).toBe('2:05 PM');
    expect(formatTime(at, 'de-DE')).toBe('14:05');
  });
});

describe('warmTimeFormats', () => {
  it('builds the formatters ahead of use without changing what they print', () => {
    const at = new Date(2025, 10, 17, 14, 5).getTime();
    const before = [formatTime(at, 'de-DE'), dayLabel(at, now, 'de-DE')];
    warmTimeFormats('en-GB');
    warmTimeFormats('de-DE');
    expect([formatTime(at, 'de-DE'), dayLabel(at, now, 'de-DE')]).toEqual(before);
    expect(formatTime(at, 'en-GB')).toBe('14:05');
  });
});
