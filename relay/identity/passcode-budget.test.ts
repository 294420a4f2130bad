import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../core/options.js';
import { PasscodeBudget, networkKey } from './passcode-budget.js';

const LIMITS = {
  failuresPerHour: DEFAULT_LIMITS.passcodeFailuresPerHour,
  failuresPerNetworkPerHour: DEFAULT_LIMITS.passcodeFailuresPerNetworkPerHour,
  lockoutMs: DEFAULT_LIMITS.sessionLockoutMs,
};
const WEEK_MS = 7 * 24 * 3600 * 1000;
/** The bound README and SECURITY.md state for a week at the default limits. */
const WEEK_BOUND = 3_400;

describe('networkKey', () => {
  it('groups IPv4 by /24 and IPv6 by /48', () => {
    expect(networkKey('10.1.2.3')).toBe('10.1.2.0/24');
    expect(networkKey('::ffff:10.1.2.3')).toBe('10.1.2.0/24');
    expect(networkKey('2001:db8:aa:bb::1')).toBe('2001:db8:aa::/48');
    expect(networkKey('2001:db8:aa:cc:1:2:3:4')).toBe('2001:db8:aa::/48');
    expect(networkKey('::1')).toBe('0:0:0::/48');
    expect(networkKey('unknown')).toBe('unknown');
  });
});

describe('PasscodeBudget', () => {
  it('checks at most failuresPerHour wrong passcodes at once, from any number of networks', () => {
    const budget = new PasscodeBudget(LIMITS, 10_000, 0);
    let granted = 0;
    for (let n = 0; n < 1_000; n += 1) if (budget.reserve(`10.0.${n}.1`, 0).ok) granted += 1;
    expect(granted).toBe(LIMITS.failuresPerHour);
    // Locked out now: the right passcode from a clean network is not checked either.
    expect(budget.locked('192.168.7.7', 1).ok).toBe(false);
    expect(budget.reserve('192.168.7.7', 1)).toEqual({
      ok: false,
      retryAfterMs: LIMITS.lockoutMs - 1,
    });
  });

  it('lets one network spend only its own share', () => {
    const budget = new PasscodeBudget(LIMITS, 10_000, 0);
    let granted = 0;
    for (let n = 0; n < 100; n += 1) if (budget.reserve(`10.0.0.${n}`, 0).ok) granted += 1;
    expect(granted).toBe(LIMITS.failuresPerNetworkPerHour);
    expect(budget.reserve('10.0.1.1', 0).ok).toBe(true);
  });

  it('gives a right passcode its reservation back', () => {
    const budget = new PasscodeBudget(LIMITS, 10_000, 0);
    for (let n = 0; n < 1_000; n += 1) {
      expect(budget.reserve(`10.0.${n % 200}.1`, n).ok).toBe(true);
      budget.refund(`10.0.${n % 200}.1`, n);
    }
  });

  it('locks out twice as long each time, up to 64 times, and grants a full budget after each', () => {
    const budget = new PasscodeBudget(LIMITS, 10_000, 0);
    let now = 0;
    const waits: number[] = [];
    for (let round = 0; round < 9; round += 1) {
      let granted = 0;
      for (;;) {
        const verdict = budget.reserve(`10.${round}.${granted}.1`, now);
        if (!verdict.ok) {
          waits.push(verdict.retryAfterMs / LIMITS.lockoutMs);
          now += verdict.retryAfterMs;
          break;
        }
        granted += 1;
      }
      expect(granted).toBe(LIMITS.failuresPerHour);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 64, 64]);
  });

  it(`holds a guesser with unlimited addresses to under ${WEEK_BOUND} wrong passcodes a week`, () => {
    const budget = new PasscodeBudget(LIMITS, 10_000, 0);
    let now = 0;
    let checked = 0;
    let address = 0;
    while (now < WEEK_MS) {
      // A fresh /24 for every guess, retried the moment the relay lets it.
      address += 1;
      const verdict = budget.reserve(`10.${(address >> 8) & 255}.${address & 255}.1`, now);
      if (verdict.ok) checked += 1;
      else now += verdict.retryAfterMs;
    }
    const pinSpaces = [4, 6, 8].map(
      (digits) => `${digits} digits: ${((100 * checked) / 10 ** digits).toFixed(2)}%`,
    );
    console.log(
      `a week at the default limits: ${checked} wrong passcodes checked; chance of finding a ` +
        `random PIN of ${pinSpaces.join(', ')}`,
    );
    expect(checked).toBeGreaterThan(0);
    expect(checked).toBeLessThan(WEEK_BOUND);
  });
});
