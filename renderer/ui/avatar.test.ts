import { describe, expect, it } from 'vitest';
import { colorSlot, initials } from './avatar.js';

describe('avatar helpers', () => {
  it('takes up to two initials, whole code points', () => {
    expect(initials('Ana Lima')).toBe('AL');
    expect(initials('ben')).toBe('B');
    expect(initials('🙂 zoe')).toBe('🙂Z');
    expect(initials('   ')).toBe('?');
  });

  it('gives a stable colour slot in range', () => {
    expect(colorSlot('user-1')).toBe(colorSlot('user-1'));
    for (const id of ['a', 'b', 'c', 'user-42', '']) {
      expect(colorSlot(id)).toBeGreaterThanOrEqual(0);
      expect(colorSlot(id)).toBeLessThan(8);
    }
  });
});
