/**
 * A tiny PNG encoder and the app's icon drawn in code, so the icons in build/ and the tray
 * icon need no image tools and no binary files in the repository (build/make-icons.ts).
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** Encodes 8-bit RGBA pixels (row by row, width*height*4 bytes) as a PNG. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== width * height * 4) throw new RangeError('rgba must be width*height*4 bytes');
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(
      raw,
      y * (width * 4 + 1) + 1,
    );
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
}

type Rgb = readonly [number, number, number];
const BACKGROUND: Rgb = [88, 101, 242];
const BUBBLE: Rgb = [255, 255, 255];
const DOT: Rgb = [230, 60, 60];

/**
 * The Parley icon: a rounded square with a white speech bubble; with `dot`, a red dot in the
 * top-right corner (the tray's unread state). Edges are anti-aliased by 4x4 supersampling.
 */
export function drawIcon(size: number, options: { dot?: boolean } = {}): Uint8Array {
  const pixels = new Uint8Array(size * size * 4);
  const inRoundedSquare = (x: number, y: number): boolean => {
    const r = 0.22;
    const cx = Math.min(Math.max(x, r), 1 - r);
    const cy = Math.min(Math.max(y, r), 1 - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  };
  const inBubble = (x: number, y: number): boolean => {
    const ellipse = ((x - 0.5) / 0.3) ** 2 + ((y - 0.45) / 0.22) ** 2 <= 1;
    const tail = y >= 0.55 && y <= 0.78 && x >= 0.3 && x <= 0.3 + (0.78 - y) * 0.8;
    return ellipse || tail;
  };
  const inDot = (x: number, y: number): boolean => (x - 0.8) ** 2 + (y - 0.2) ** 2 <= 0.18 ** 2;
  const samples = 4;
  for (let py = 0; py < size; py += 1) {
    for (let px = 0; px < size; px += 1) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy += 1) {
        for (let sx = 0; sx < samples; sx += 1) {
          const x = (px + (sx + 0.5) / samples) / size;
          const y = (py + (sy + 0.5) / samples) / size;
          let colour: Rgb | null = null;
          if (options.dot === true && inDot(x, y)) colour = DOT;
          else if (inRoundedSquare(x, y)) colour = inBubble(x, y) ? BUBBLE : BACKGROUND;
          if (colour === null) continue;
          r += colour[0];
          g += colour[1];
          b += colour[2];
          a += 1;
        }
      }
      const at = (py * size + px) * 4;
      if (a > 0) {
        pixels[at] = Math.round(r / a);
        pixels[at + 1] = Math.round(g / a);
        pixels[at + 2] = Math.round(b / a);
      }
      pixels[at + 3] = Math.round((a / (samples * samples)) * 255);
    }
  }
  return pixels;
}

export function iconPng(size: number, options: { dot?: boolean } = {}): Buffer {
  return encodePng(size, size, drawIcon(size, options));
}
