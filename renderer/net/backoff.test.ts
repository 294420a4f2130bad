import { describe, expect, it } from 'vitest';
import { fullJitterBackoff } from './backoff.js';

describe('fullJitterBackoff', () => {
  it('draws uniformly below an exponentially growing ceiling', () => {
    const top = fullJitterBackoff({ baseMs: 100, capMs: 10_000, random: () => 0.999999 });
    expect([1, 2, 3, 4].map(top)).toEqual([99, 199, 399, 799]);
    const bottom = fullJitterBackoff({ baseMs: 100, capMs: 10_000, random: () => 0 });
    expect(bottom(5)).toBe(0);
  });

  it('never exceeds the cap, however many attempts', () => {
    const delay = fullJitterBackoff({ baseMs: 500, capMs: 30_000, random: () => 0.999999 });
    for (const attempt of [10, 50, 1_000, Number.MAX_SAFE_INTEGER]) {
      expect(delay(attempt)).toBeLessThan(30_000);
      expect(delay(attempt)).toBeGreaterThan(29_000);
    }
  });

  it('spreads clients out: different random draws give different delays', () => {
    let n = 0;
    const draws = [0.1, 0.5, 0.9];
    const delay = fullJitterBackoff({
      baseMs: 1_000,
      capMs: 30_000,
      random: () => draws[n++ % 3] ?? 0,
    });
    const delays = [delay(4), delay(4), delay(4)];
    expect(new Set(delays).size).toBe(3);
  });

  it('treats attempt 0 or negative like the first attempt', () => {
    const delay = fullJitterBackoff({ baseMs: 100, capMs: 1_000, random: () => 0.5 });
    expect(delay(0)).toBe(delay(1));
    expect(delay(-3)).toBe(50);
  });
});
