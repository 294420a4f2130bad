import { describe, expect, it } from 'vitest';
import { EPHEMERAL_TTL_MAX_S } from '../../relay/protocol/events.js';
import { VANISH_PRESETS, formatDuration, vanishRange, vanishSeconds } from './vanish-time.js';

describe('formatDuration', () => {
  it('names the largest unit that divides the time exactly', () => {
    expect(formatDuration(1)).toBe('1 second');
    expect(formatDuration(90)).toBe('90 seconds');
    expect(formatDuration(60)).toBe('1 minute');
    expect(formatDuration(5_400)).toBe('90 minutes');
    expect(formatDuration(3_600)).toBe('1 hour');
    expect(formatDuration(86_400)).toBe('1 day');
    expect(formatDuration(EPHEMERAL_TTL_MAX_S)).toBe('30 days');
  });
});

describe('vanishSeconds', () => {
  it('turns a number and a unit into seconds', () => {
    expect(vanishSeconds('5', 'minutes')).toEqual({ ok: true, seconds: 300 });
    expect(vanishSeconds(' 2 ', 'hours')).toEqual({ ok: true, seconds: 7_200 });
    expect(vanishSeconds('30', 'days')).toEqual({ ok: true, seconds: EPHEMERAL_TTL_MAX_S });
  });

  it('refuses what the relay would refuse, saying the range', () => {
    const range = 'Messages can vanish after 1 minute at the shortest and 30 days at the longest.';
    expect(vanishSeconds('31', 'days')).toEqual({
      ok: false,
      message: `That is too long. ${range}`,
    });
    expect(vanishSeconds('721', 'hours')).toMatchObject({ ok: false });
    expect(vanishSeconds('43201', 'minutes')).toMatchObject({ ok: false });
    expect(vanishSeconds('0', 'minutes')).toEqual({
      ok: false,
      message: `That is too short. ${range}`,
    });
    for (const bad of ['', '1.5', '-1', 'ten', '1e3'])
      expect(vanishSeconds(bad, 'hours'), bad).toEqual({
        ok: false,
        message: `Enter a whole number. ${range}`,
      });
  });

  it('offers only presets the relay accepts', () => {
    for (const preset of VANISH_PRESETS)
      expect(vanishSeconds(String(preset.amount), preset.unit).ok).toBe(true);
    expect(vanishRange()).toEqual({ min: '1 minute', max: '30 days' });
  });
});
