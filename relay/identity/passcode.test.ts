/** SignInGuard with an explicit clock: the window, the lockout, its escalation and its reset. */
import { describe, expect, it } from 'vitest';
import { LOCKOUT_MEMORY_MS, MAX_LOCKOUT_FACTOR, SignInGuard } from './passcode.js';

describe('SignInGuard', () => {
  it('allows the attempts of a window, then locks out for twice as long each time, capped', () => {
    const guard = new SignInGuard(2, 1_000);
    let now = 0;
    const attempts = (n: number): boolean[] =>
      Array.from({ length: n }, () => guard.attempt('a', now).ok);
    expect(attempts(2)).toEqual([true, true]);
    const lockouts: number[] = [];
    for (let level = 1; level <= 9; level += 1) {
      const refused = guard.attempt('a', now);
      expect(refused.ok).toBe(false);
      const wait = refused.ok ? 0 : refused.retryAfterMs;
      lockouts.push(wait);
      // Refused while locked out, without extending it.
      now += wait - 1;
      expect(guard.attempt('a', now)).toEqual({ ok: false, retryAfterMs: 1 });
      now += 1;
      // A fresh window once it ends.
      expect(attempts(2)).toEqual([true, true]);
    }
    expect(lockouts).toEqual([1, 2, 4, 8, 16, 32, 64, 64, 64].map((f) => f * 1_000));
    expect(MAX_LOCKOUT_FACTOR).toBe(64);
    // Other addresses are not affected.
    expect(guard.attempt('b', now).ok).toBe(true);
  });

  it('forgets the level after a success, or after a quiet day', () => {
    const guard = new SignInGuard(1, 1_000);
    let now = 0;
    /** Uses up the window; returns the lockout the next attempt gets. */
    const lockout = (): number => {
      let verdict = guard.attempt('a', now);
      while (verdict.ok) verdict = guard.attempt('a', now);
      return verdict.retryAfterMs;
    };
    expect(lockout()).toBe(1_000);
    now += 1_000;
    expect(lockout()).toBe(2_000);
    now += 2_000;
    guard.succeeded('a');
    expect(lockout()).toBe(1_000);
    now += 1_000;
    expect(lockout()).toBe(2_000);
    now += LOCKOUT_MEMORY_MS + 2_001;
    expect(lockout()).toBe(1_000);
  });

  it('remembers at most maxKeys addresses; forgetting one only forgives it', () => {
    const guard = new SignInGuard(1, 1_000, 2);
    guard.attempt('a', 0);
    expect(guard.attempt('a', 0).ok).toBe(false);
    guard.attempt('b', 0);
    guard.attempt('c', 0);
    expect(guard.attempt('a', 0).ok).toBe(true);
  });
});
