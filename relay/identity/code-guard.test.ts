import { describe, expect, it } from 'vitest';
import { CodeGuard } from './code-guard.js';

const LIMITS = { failuresPerName: 3, lockoutMs: 1_000, attemptsPerMinute: 600 };

function fail(guard: CodeGuard, key: string, times: number, now: number): void {
  for (let i = 0; i < times; i += 1) {
    expect(guard.attempt(key, now).ok).toBe(true);
    guard.failed(key, now);
  }
}

describe('CodeGuard', () => {
  it('locks a name out after failuresPerName wrong codes, and only that name', () => {
    const guard = new CodeGuard(LIMITS, 100, 0);
    fail(guard, 'ana', 3, 0);
    expect(guard.attempt('ana', 10)).toEqual({ ok: false, retryAfterMs: 990 });
    expect(guard.attempt('ben', 10)).toEqual({ ok: true });
  });

  it('doubles the lockout each time within a day, and a success starts the name over', () => {
    const guard = new CodeGuard(LIMITS, 100, 0);
    fail(guard, 'ana', 3, 0);
    fail(guard, 'ana', 3, 1_000);
    expect(guard.attempt('ana', 1_000)).toEqual({ ok: false, retryAfterMs: 2_000 });
    fail(guard, 'ana', 3, 3_000);
    expect(guard.attempt('ana', 3_000)).toEqual({ ok: false, retryAfterMs: 4_000 });
    expect(guard.attempt('ana', 7_000).ok).toBe(true);
    guard.succeeded('ana');
    fail(guard, 'ana', 3, 7_000);
    expect(guard.attempt('ana', 7_000)).toEqual({ ok: false, retryAfterMs: 1_000 });
  });

  it('forgets failures a day old', () => {
    const guard = new CodeGuard(LIMITS, 100, 0);
    fail(guard, 'ana', 2, 0);
    fail(guard, 'ana', 2, 24 * 3600 * 1000 + 1);
    expect(guard.attempt('ana', 24 * 3600 * 1000 + 2).ok).toBe(true);
  });

  it('refuses every name once the relay-wide budget is spent, then refills', () => {
    const guard = new CodeGuard({ ...LIMITS, attemptsPerMinute: 4 }, 100, 0);
    for (const name of ['a', 'b', 'c', 'd']) expect(guard.attempt(name, 0).ok).toBe(true);
    expect(guard.attempt('e', 0)).toEqual({ ok: false, retryAfterMs: 15_000 });
    expect(guard.attempt('e', 15_000).ok).toBe(true);
  });

  it('remembers at most maxKeys names (forgetting only forgives)', () => {
    const guard = new CodeGuard(LIMITS, 2, 0);
    fail(guard, 'ana', 3, 0);
    fail(guard, 'ben', 1, 0);
    fail(guard, 'cy', 1, 0);
    expect(guard.attempt('ana', 1).ok).toBe(true);
  });
});
