/**
 * A room passcode kept only as a slow hash (scrypt), compared in constant time, and the guard
 * that keeps it from being guessed (sign-in attempts per client address, escalating lockout).
 * The plain passcode is dropped as soon as the hash is made.
 */
import { randomBytes, scrypt, timingSafeEqual, type BinaryLike } from 'node:crypto';
import { TokenBucket } from '../core/token-bucket.js';

const KEY_LENGTH = 32;
const COST = { N: 16_384, r: 8, p: 1 } as const;

function derive(secret: BinaryLike, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LENGTH, COST, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export class PasscodeGate {
  private constructor(
    readonly salt: Buffer,
    readonly hash: Buffer | null,
  ) {}

  static async create(passcode: string | null): Promise<PasscodeGate> {
    const salt = randomBytes(16);
    return new PasscodeGate(salt, passcode === null ? null : await derive(passcode, salt));
  }

  get required(): boolean {
    return this.hash !== null;
  }

  async check(candidate: string | undefined): Promise<boolean> {
    if (this.hash === null) return true;
    if (candidate === undefined) return false;
    const key = await derive(candidate.slice(0, 256), this.salt);
    return timingSafeEqual(key, this.hash);
  }
}

/** Lockouts grow no longer than this many times `lockoutMs` (64 min at the default). */
export const MAX_LOCKOUT_FACTOR = 64;
/** A lockout level is forgotten after this long without a new lockout. */
export const LOCKOUT_MEMORY_MS = 24 * 60 * 60 * 1000;

interface AddressState {
  bucket: TokenBucket;
  lockedUntil: number;
  level: number;
  lastLockoutAt: number;
}

export type SignInVerdict = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Sign-in attempts per client address, with an escalating lockout so a passcode cannot be
 * guessed at a steady rate: an address may make `attemptsPerMinute` attempts (a token bucket of
 * that size refilled over a minute); the attempt that finds the bucket empty locks the address
 * out for `lockoutMs`, the next lockout within a day for twice as long, and so on up to
 * `MAX_LOCKOUT_FACTOR` times. While locked out every attempt is refused, the right passcode
 * included, and does not extend the lockout. When a lockout ends the address gets a full bucket
 * again. A successful sign-in forgets the address's lockout level. Bounded: at most `maxKeys`
 * addresses are remembered (the stalest are forgotten first; forgetting only forgives).
 */
export class SignInGuard {
  readonly #states = new Map<string, AddressState>();

  constructor(
    readonly attemptsPerMinute: number,
    readonly lockoutMs: number,
    readonly maxKeys: number = 10_000,
  ) {}

  /** Counts one attempt from `address`; refused ones say how long to wait. */
  attempt(address: string, now: number = Date.now()): SignInVerdict {
    const state = this.#state(address, now);
    if (now < state.lockedUntil) return { ok: false, retryAfterMs: state.lockedUntil - now };
    if (state.level > 0 && now - state.lastLockoutAt > LOCKOUT_MEMORY_MS) state.level = 0;
    if (state.lockedUntil > 0) {
      // A lockout just ended: a fresh window of attempts.
      state.lockedUntil = 0;
      state.bucket = this.#bucket(now);
    }
    if (state.bucket.take(now)) return { ok: true };
    state.level += 1;
    const factor = Math.min(2 ** (state.level - 1), MAX_LOCKOUT_FACTOR);
    state.lockedUntil = now + this.lockoutMs * factor;
    state.lastLockoutAt = now;
    return { ok: false, retryAfterMs: state.lockedUntil - now };
  }

  /** A sign-in from `address` succeeded: its lockout level starts over. */
  succeeded(address: string): void {
    const state = this.#states.get(address);
    if (state !== undefined) state.level = 0;
  }

  #bucket(now: number): TokenBucket {
    return new TokenBucket(this.attemptsPerMinute / 60, this.attemptsPerMinute, now);
  }

  #state(address: string, now: number): AddressState {
    let state = this.#states.get(address);
    if (state === undefined) {
      if (this.#states.size >= this.maxKeys) {
        const oldest = this.#states.keys().next();
        if (oldest.done !== true) this.#states.delete(oldest.value);
      }
      state = { bucket: this.#bucket(now), lockedUntil: 0, level: 0, lastLockoutAt: 0 };
    } else {
      this.#states.delete(address);
    }
    this.#states.set(address, state);
    return state;
  }
}
