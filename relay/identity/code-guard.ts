/**
 * Keeps recovery and device-link codes from being guessed, on top of the sign-in attempts per
 * address (passcode.ts, SignInGuard) that every sign-in already counts against:
 *
 * - **per name**: `failuresPerName` wrong codes for one name lock that name's code sign-ins out
 *   for `lockoutMs`, the next lockout within a day for twice as long, up to 64 times. Unknown
 *   names are counted exactly like real ones, so a lockout says nothing about whether a name
 *   exists. While locked out every code for that name is refused, the right one included.
 * - **in total**: `attemptsPerMinute` code sign-ins per minute across the whole relay (a token
 *   bucket), so many addresses spraying many names still get only so many tries.
 *
 * A lockout of a name only stops code sign-ins: the user's signed-in devices, and adding a device
 * with one's token, are not affected. Bounded like SignInGuard: at most `maxKeys` names are
 * remembered; the stalest go first (forgetting only forgives). In a cluster each node counts on
 * its own.
 */
import { LOCKOUT_MEMORY_MS, MAX_LOCKOUT_FACTOR, type SignInVerdict } from './passcode.js';
import { TokenBucket } from '../core/token-bucket.js';

export interface CodeGuardLimits {
  failuresPerName: number;
  lockoutMs: number;
  attemptsPerMinute: number;
}

interface NameState {
  failures: number;
  lockedUntil: number;
  level: number;
  lastFailureAt: number;
}

export class CodeGuard {
  readonly #names = new Map<string, NameState>();
  readonly #total: TokenBucket;

  constructor(
    readonly limits: CodeGuardLimits,
    readonly maxKeys: number = 10_000,
    now: number = Date.now(),
  ) {
    this.#total = new TokenBucket(limits.attemptsPerMinute / 60, limits.attemptsPerMinute, now);
  }

  /** May a code be tried for this name now? Counts one attempt against the relay's budget. */
  attempt(nameKey: string, now: number = Date.now()): SignInVerdict {
    const state = this.#names.get(nameKey);
    if (state !== undefined && now < state.lockedUntil)
      return { ok: false, retryAfterMs: state.lockedUntil - now };
    if (!this.#total.take(now)) {
      const perAttemptMs = 60_000 / this.limits.attemptsPerMinute;
      return { ok: false, retryAfterMs: Math.ceil(perAttemptMs) };
    }
    return { ok: true };
  }

  /** A wrong code (or an unknown name) for `nameKey`. */
  failed(nameKey: string, now: number = Date.now()): void {
    const state = this.#state(nameKey);
    if (now - state.lastFailureAt > LOCKOUT_MEMORY_MS) {
      state.failures = 0;
      state.level = 0;
    }
    state.lastFailureAt = now;
    state.failures += 1;
    if (state.failures < this.limits.failuresPerName) return;
    state.failures = 0;
    state.level += 1;
    state.lockedUntil =
      now + this.limits.lockoutMs * Math.min(2 ** (state.level - 1), MAX_LOCKOUT_FACTOR);
  }

  /** The right code: the name's count starts over. */
  succeeded(nameKey: string): void {
    this.#names.delete(nameKey);
  }

  #state(nameKey: string): NameState {
    let state = this.#names.get(nameKey);
    if (state === undefined) {
      if (this.#names.size >= this.maxKeys) {
        const oldest = this.#names.keys().next();
        if (oldest.done !== true) this.#names.delete(oldest.value);
      }
      state = { failures: 0, lockedUntil: 0, level: 0, lastFailureAt: 0 };
    } else {
      this.#names.delete(nameKey);
    }
    this.#names.set(nameKey, state);
    return state;
  }
}
