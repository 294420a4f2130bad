/** A token bucket: `rate` tokens per second, holding at most `burst`. */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number = Date.now(),
  ) {
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Takes one token if there is one. */
  take(now: number = Date.now()): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Gives back a token taken for something that turned out not to count. */
  refund(now: number = Date.now()): void {
    this.#refill(now);
    this.#tokens = Math.min(this.burst, this.#tokens + 1);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#updatedAt) / 1000;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.rate);
    this.#updatedAt = now;
  }
}

/**
 * Token buckets by key (client address, user id), bounded: when full, the stalest key goes.
 * A dropped key only forgets a past breach, never blocks anyone.
 */
export class KeyedBuckets {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly maxKeys: number = 10_000,
  ) {}

  take(key: string, now: number = Date.now()): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (oldest.done !== true) this.#buckets.delete(oldest.value);
      }
      bucket = new TokenBucket(this.rate, this.burst, now);
    } else {
      this.#buckets.delete(key);
    }
    this.#buckets.set(key, bucket);
    return bucket.take(now);
  }
}
