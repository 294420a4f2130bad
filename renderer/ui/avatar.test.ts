import { describe, expect, it } from 'vitest';
import { colorSlot, initials } from './avatar.js';

describe('avatar helpers', () => {
  it('takes up to two initials, whole code points', () => {
    expect(initials('Ana Lima')).toBe('AL');
    expect(initials('ben')).toBe('B');
    expect(initials('🙂 zoe')).toBe('🙂Z');
    expect(initials('   ')).toBe('?');
  });

  it('derives the colour slot from FNV-1a of the id, the same on every screen and device', () => {
    // FNV-1a 32-bit test vectors (the hash is the slot when there are 2^32 slots).
    expect(colorSlot('', 2 ** 32)).toBe(0x811c9dc5);
    expect(colorSlot('a', 2 ** 32)).toBe(0xe40c292c);
    expect(colorSlot('foobar', 2 ** 32)).toBe(0xbf9cf968);
    expect(colorSlot('a')).toBe(0xe40c292c % 8);
  });

  it('spreads users over every colour', () => {
    const perSlot = new Array<number>(8).fill(0);
    for (let i = 0; i < 800; i++) {
      const slot = colorSlot(`user-${i}`);
      perSlot[slot] = (perSlot[slot] ?? 0) + 1;
    }
    expect(perSlot).toHaveLength(8);
    for (const count of perSlot) expect(count).toBeGreaterThan(50);
  });
});
