import { describe, expect, it } from 'vitest';
import { KeyedBuckets, TokenBucket } from './token-bucket.js';

/** Takes `count` tokens at one instant; returns how many were granted. */
function drain(take: () => boolean, count: number): number {
  let granted = 0;
  for (let i = 0; i < count; i += 1) if (take()) granted += 1;
  return granted;
}

describe('TokenBucket', () => {
  it('starts full: grants exactly `burst` tokens at once, then refuses', () => {
    const bucket = new TokenBucket(2, 5, 0);
    expect(drain(() => bucket.take(0), 10)).toBe(5);
    expect(bucket.take(0)).toBe(false);
  });

  it('refills at `rate` tokens per second', () => {
    const bucket = new TokenBucket(2, 5, 0);
    drain(() => bucket.take(0), 5);
    expect(bucket.take(499)).toBe(false);
    expect(bucket.take(500)).toBe(true);
    expect(bucket.take(500)).toBe(false);
    expect(drain(() => bucket.take(2_000), 10)).toBe(3);
  });

  it('never holds more than `burst`, however long it sat idle', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect(drain(() => bucket.take(3_600_000), 10)).toBe(3);
  });

  it('does not refill when the clock goes backwards', () => {
    const bucket = new TokenBucket(1, 1, 10_000);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(5_000)).toBe(false);
  });

  it('handles fractional rates', () => {
    const bucket = new TokenBucket(0.5, 1, 0);
    expect(bucket.take(0)).toBe(true);
    expect(bucket.take(1_999)).toBe(false);
    expect(bucket.take(2_000)).toBe(true);
  });
});

describe('KeyedBuckets', () => {
  it('keeps one independent bucket per key', () => {
    const buckets = new KeyedBuckets(1, 2);
    expect(drain(() => buckets.take('10.0.0.1', 0), 5)).toBe(2);
    expect(drain(() => buckets.take('10.0.0.2', 0), 5)).toBe(2);
    expect(buckets.take('10.0.0.1', 0)).toBe(false);
    expect(buckets.take('10.0.0.1', 1_000)).toBe(true);
  });

  it('when full, forgets the least recently used key first', () => {
    const buckets = new KeyedBuckets(1, 1, 2);
    expect(buckets.take('a', 0)).toBe(true);
    expect(buckets.take('b', 0)).toBe(true);
    // Touching "a" makes "b" the stalest key.
    expect(buckets.take('a', 0)).toBe(false);
    expect(buckets.take('c', 0)).toBe(true);
    // "b" was dropped, so it starts over with a full bucket; "a" was kept and is still empty.
    expect(buckets.take('b', 0)).toBe(true);
    expect(buckets.take('c', 0)).toBe(false);
  });

  it('a dropped key never blocks: it comes back with a full bucket', () => {
    const buckets = new KeyedBuckets(1, 3, 1);
    drain(() => buckets.take('a', 0), 3);
    expect(buckets.take('a', 0)).toBe(false);
    expect(buckets.take('b', 0)).toBe(true);
    expect(drain(() => buckets.take('a', 0), 5)).toBe(3);
  });
});
