import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { drawIcon, encodePng, iconPng } from './png.js';

describe('PNG icons', () => {
  it('writes a valid PNG: signature, IHDR with the size, pixels that inflate back', () => {
    const png = iconPng(32);
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(32);
    expect(png.readUInt32BE(20)).toBe(32);
    const idatLength = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('ascii')).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect(raw.length).toBe((32 * 4 + 1) * 32);
    expect(png.subarray(-8, -4).toString('ascii')).toBe('IEND');
  });

  it('draws a transparent corner, an opaque centre, and a red unread dot on request', () => {
    const plain = drawIcon(64);
    const alpha = (pixels: Uint8Array, x: number, y: number) => pixels[(y * 64 + x) * 4 + 3];
    expect(alpha(plain, 0, 0)).toBe(0);
    expect(alpha(plain, 32, 32)).toBe(255);
    const dotted = drawIcon(64, { dot: true });
    const at = (12 * 64 + 51) * 4;
    expect([dotted[at], dotted[at + 1], dotted[at + 2]]).toEqual([230, 60, 60]);
  });

  it('checks its input size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(3))).toThrow(RangeError);
  });
});
