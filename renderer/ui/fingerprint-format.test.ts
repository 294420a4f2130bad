import { describe, expect, it } from 'vitest';
import { addressOf, fingerprintLines } from './fingerprint-format.js';

const PAIRS = Array.from({ length: 32 }, (_, i) =>
  (i * 7).toString(16).padStart(2, '0').toUpperCase(),
);
const FP = PAIRS.join(':');

describe('fingerprintLines', () => {
  it('cuts a SHA-256 fingerprint into 8 lines of 4 pairs that join back to it', () => {
    const lines = fingerprintLines(FP);
    expect(lines).toHaveLength(8);
    expect(lines?.[0]).toBe('00:07:0E:15');
    expect(lines?.[7]).toBe(PAIRS.slice(28).join(':'));
    for (const line of lines ?? []) expect(line).toMatch(/^(?:[0-9A-F]{2}:){3}[0-9A-F]{2}$/);
    expect(lines?.join(':')).toBe(FP);
  });

  it('takes another line length, the last line holding the rest', () => {
    expect(fingerprintLines(FP, 8)).toHaveLength(4);
    const fives = fingerprintLines(FP, 5);
    expect(fives).toHaveLength(7);
    expect(fives?.at(-1)?.split(':')).toHaveLength(2);
    expect(fives?.join(':')).toBe(FP);
    expect(() => fingerprintLines(FP, 0)).toThrow(RangeError);
    expect(() => fingerprintLines(FP, 1.5)).toThrow(RangeError);
  });

  it('refuses anything but the canonical form', () => {
    expect(fingerprintLines(FP.toLowerCase())).toBeNull();
    expect(fingerprintLines(FP.replace(/:/g, ''))).toBeNull();
    expect(fingerprintLines(PAIRS.slice(0, 20).join(':'))).toBeNull();
    expect(fingerprintLines(`${FP}:AA`)).toBeNull();
    expect(fingerprintLines(`<b>${FP}</b>`)).toBeNull();
    expect(fingerprintLines('')).toBeNull();
  });
});

describe('addressOf', () => {
  it('drops the scheme and trailing slashes', () => {
    expect(addressOf('https://10.0.0.5:4000')).toBe('10.0.0.5:4000');
    expect(addressOf('http://chat.example.com/')).toBe('chat.example.com');
  });
});
