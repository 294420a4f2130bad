/**
 * The relay-wide budget of wrong passcodes, on top of the sign-in attempts per address
 * (passcode.ts, SignInGuard). Per-address limits alone let a guesser multiply its rate by the
 * addresses it holds (14 loopback addresses found a 4-digit passcode in 8 s); this bounds the
 * wrong passcodes the relay checks, whatever their source:
 *
 * - **per network**: an IPv4 /24 or an IPv6 /48 ({@link networkKey}) may spend
 *   `failuresPerNetworkPerHour` wrong passcodes (a token bucket of that size, refilled over an
 *   hour);
 * - **in total**: the whole relay may spend `failuresPerHour`.
 *
 * A check that finds its network's or the relay's budget spent locks that scope out for
 * `lockoutMs`, the next lockout within a day twice as long, up to 64 times (the SignInGuard
 * rule); when a lockout ends the scope gets a full budget again. While a scope is locked out no
 * passcode from it is checked, the right one included: answering a right guess during a lockout
 * would let a guesser go on testing at full speed. Signed-in users are not affected (their tokens
 * keep working); a new sign-in waits at most 64 × `lockoutMs`.
 *
 * A check spends its budget before the passcode is hashed (scrypt takes tens of milliseconds),
 * so concurrent guesses cannot overrun it; a right passcode gives it back. In a cluster each
 * node counts on its own.
 */
import { isIP } from 'node:net';
import { LOCKOUT_MEMORY_MS, MAX_LOCKOUT_FACTOR, type SignInVerdict } from './passcode.js';
import { TokenBucket } from '../core/token-bucket.js';
import { limitKey } from '../core/trust-proxy.js';

export interface PasscodeBudgetLimits {
  /** Wrong passcodes per hour (and at once) across the whole relay. */
  failuresPerHour: number;
  /** Wrong passcodes per hour (and at once) from one IPv4 /24 or IPv6 /48. */
  failuresPerNetworkPerHour: number;
  /** First lockout of a scope; doubles per lockout within a day, up to 64×. */
  lockoutMs: number;
}

/** Groups of an IPv6 address that name its network for {@link networkKey}: the /48. */
const IPV6_NETWORK_GROUPS = 3;

/**
 * The network an address is counted in: an IPv4 address's /24, an IPv6 address's /48 (a site's
 * usual allocation; one host or line already counts as its /64, limitKey). Anything else is its
 * own network.
 */
export function networkKey(address: string): string {
  const key = limitKey(address);
  if (isIP(key) === 4) return `${key.split('.').slice(0, 3).join('.')}.0/24`;
  if (key.endsWith('::/64')) {
    const groups = key.slice(0, -'::/64'.length).split(':').slice(0, IPV6_NETWORK_GROUPS);
    return `${groups.join(':')}::/48`;
  }
  return key;
}

class Scope {
  #bucket: TokenBucket;
  #lockedUntil = 0;
  #level = 0;
  #lastLockoutAt = 0;

  constructor(
    readonly perHour: number,
    readonly lockoutMs: number,
    now: number,
  ) {
    this.#bucket = this.#fresh(now);
  }

  /** Milliseconds until this scope's lockout ends; 0 when it is not locked out. */
  lockedFor(now: number): number {
    return Math.max(0, this.#lockedUntil - now);
  }

  /** Spends one wrong passcode's worth; false (and a lockout) when none is left. */
  take(now: number): boolean {
    if (this.#lockedUntil > 0 && now >= this.#lockedUntil) {
      // A lockout just ended: a full budget again.
      this.#lockedUntil = 0;
      this.#bucket = this.#fresh(now);
    }
    if (this.#bucket.take(now)) return true;
    if (this.#level > 0 && now - this.#lastLockoutAt > LOCKOUT_MEMORY_MS) this.#level = 0;
    this.#level += 1;
    this.#lockedUntil = now + this.lockoutMs * Math.min(2 ** (this.#level - 1), MAX_LOCKOUT_FACTOR);
    this.#lastLockoutAt = now;
    return false;
  }

  give(now: number): void {
    this.#bucket.refund(now);
  }

  #fresh(now: number): TokenBucket {
    return new TokenBucket(this.perHour / 3600, this.perHour, now);
  }
}

export class PasscodeBudget {
  readonly #total: Scope;
  readonly #networks = new Map<string, Scope>();

  constructor(
    readonly limits: PasscodeBudgetLimits,
    readonly maxKeys: number = 10_000,
    now: number = Date.now(),
  ) {
    this.#total = new Scope(limits.failuresPerHour, limits.lockoutMs, now);
  }

  /** Whether a sign-in from `address` may have its passcode checked at all right now. */
  locked(address: string, now: number = Date.now()): SignInVerdict {
    const wait = Math.max(
      this.#total.lockedFor(now),
      this.#networks.get(networkKey(address))?.lockedFor(now) ?? 0,
    );
    return wait > 0 ? { ok: false, retryAfterMs: wait } : { ok: true };
  }

  /**
   * Spends one wrong passcode from `address`'s network and from the relay before the passcode is
   * checked; refused (with the wait) when either is spent or locked out. Call {@link refund}
   * when the passcode was right.
   */
  reserve(address: string, now: number = Date.now()): SignInVerdict {
    const locked = this.locked(address, now);
    if (!locked.ok) return locked;
    const network = this.#network(address, now);
    if (!network.take(now)) return this.locked(address, now);
    if (!this.#total.take(now)) {
      network.give(now);
      return this.locked(address, now);
    }
    return { ok: true };
  }

  /** The passcode reserved for was right: nothing was spent. */
  refund(address: string, now: number = Date.now()): void {
    this.#total.give(now);
    this.#networks.get(networkKey(address))?.give(now);
  }

  #network(address: string, now: number): Scope {
    const key = networkKey(address);
    let scope = this.#networks.get(key);
    if (scope === undefined) {
      if (this.#networks.size >= this.maxKeys) {
        const oldest = this.#networks.keys().next();
        if (oldest.done !== true) this.#networks.delete(oldest.value);
      }
      scope = new Scope(this.limits.failuresPerNetworkPerHour, this.limits.lockoutMs, now);
    } else {
      this.#networks.delete(key);
    }
    this.#networks.set(key, scope);
    return scope;
  }
}
