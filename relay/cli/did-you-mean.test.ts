import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from './did-you-mean.js';

describe('didYouMean', () => {
  it('counts insertions, deletions, substitutions and swapped neighbours as one edit each', () => {
    expect(editDistance('--port', '--port')).toBe(0);
    expect(editDistance('--prt', '--port')).toBe(1);
    expect(editDistance('--poort', '--port')).toBe(1);
    expect(editDistance('--pork', '--port')).toBe(1);
    expect(editDistance('--prot', '--port')).toBe(1);
    expect(editDistance('', '--port')).toBe(6);
    expect(editDistance('--frob', '--from')).toBe(1);
    expect(editDistance('--verison', '--version')).toBe(1);
  });

  it('suggests the nearest flag only when it is a likely typo', () => {
    const flags = ['--port', '--host', '--plain', '--from', '--version'];
    expect(didYouMean('--frob', flags)).toBe('--from');
    expect(didYouMean('--prot', flags)).toBe('--port');
    expect(didYouMean('--verison', flags)).toBe('--version');
    expect(didYouMean('--plian', flags)).toBe('--plain');
    // Too far from everything, or too short to judge: no guess.
    expect(didYouMean('--bogus', flags)).toBeNull();
    expect(didYouMean('--x', flags)).toBeNull();
    expect(didYouMean('--frob', [])).toBeNull();
  });
});
