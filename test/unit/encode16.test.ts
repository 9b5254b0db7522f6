import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeImage } from '../../src/main/imaging/io.js';

describe('16-bit output keeps its samples', () => {
  it.each([
    ['png', false],
    ['png', true],
    ['tiff', false],
  ] as const)('%s, alpha %s: the pixels read back are the pixels written', async (format, withAlpha) => {
    const w = 40;
    const h = 24;
    const rgb = new Uint16Array(w * h * 3);
    // A gradient that uses the low byte: an 8-bit reading of the buffer cannot match it.
    for (let i = 0; i < w * h; i++) rgb.set([(i * 977) % 65536, (i * 131 + 7) % 65536, 65535 - ((i * 59) % 65536)], i * 3);
    const alpha = withAlpha ? Uint16Array.from({ length: w * h }, (_, i) => 65535 - i * 17) : undefined;
    const dest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'restora-16-')), `out.${format}`);
    await encodeImage({ width: w, height: h, rgb, maxValue: 65535, ...(alpha ? { alpha } : {}) }, dest, { format });
    const { data, info } = await sharp(dest).toColourspace('rgb16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([w, h, withAlpha ? 4 : 3]);
    const back = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    const c = info.channels;
    for (let i = 0; i < w * h; i += 37) {
      expect([back[i * c], back[i * c + 1], back[i * c + 2]]).toEqual([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]]);
      if (alpha) expect(back[i * c + 3]).toBe(alpha[i]);
    }
  });
});
