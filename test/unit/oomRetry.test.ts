/**
 * A GPU out of memory on a tile (issue 27, item 3): the photo is run again in tiles half the
 * side, down to 32 px, and the result says the tile it used; other errors are not retried.
 */
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { RestoraError } from '../../src/shared/errors.js';
import { upscaleFile } from '../../src/main/ml/infer/upscaleFile.js';
import type { TileRequest } from '../../src/main/ml/infer/tiling.js';
import { tmpDir } from '../helpers.js';

let dir = '';
let input = '';

beforeAll(async () => {
  dir = tmpDir('restora-oom-');
  input = path.join(dir, 'in.png');
  await sharp({ create: { width: 100, height: 60, channels: 3, background: '#406080' } })
    .png()
    .toFile(input);
});

/** Nearest x2 of the tile, failing like a GPU that cannot hold tiles wider than `limit` (with context). */
function gpuWithLimit(limit: number, seen: number[]) {
  return () => async (t: TileRequest) => {
    seen.push(t.width);
    if (t.width > limit) throw new RestoraError('GPU_OUT_OF_MEMORY', 'webgpu: the GPU ran out of memory; use a smaller tile or batch');
    const out = new Float32Array(t.width * 2 * t.height * 2 * 3);
    for (let y = 0; y < t.height * 2; y++) for (let x = 0; x < t.width * 2; x++) for (let c = 0; c < 3; c++) out[(y * t.width * 2 + x) * 3 + c] = Math.round(t.x[(Math.floor(y / 2) * t.width + Math.floor(x / 2)) * 3 + c]! * t.maxValue);
    return out;
  };
}

describe('out-of-memory retry', () => {
  it('runs the photo again in smaller tiles and says which', async () => {
    const seen: number[] = [];
    const r = await upscaleFile(gpuWithLimit(48, seen), { input, output: path.join(dir, 'out.png'), scale: 2, format: 'png', tile: 128, overlap: 4 });
    expect(r.tile).toEqual({ asked: 128, used: 32, reason: 'gpu-out-of-memory' });
    expect([r.outWidth, r.outHeight]).toEqual([200, 120]);
    expect(Math.max(...seen)).toBeGreaterThan(48);
    const px = await sharp(path.join(dir, 'out.png')).raw().toBuffer();
    expect([px[0], px[1], px[2]]).toEqual([0x40, 0x60, 0x80]);
  });

  it('gives up at the smallest tile, and never retries other errors', async () => {
    await expect(upscaleFile(gpuWithLimit(8, []), { input, output: path.join(dir, 'no.png'), scale: 2, format: 'png', tile: 64, overlap: 4 })).rejects.toMatchObject({ code: 'GPU_OUT_OF_MEMORY' });
    let calls = 0;
    const broken = () => async () => {
      calls++;
      throw new RestoraError('MODEL_INVALID', 'broken');
    };
    await expect(upscaleFile(broken, { input, output: path.join(dir, 'no2.png'), scale: 2, format: 'png', tile: 64, overlap: 4 })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    expect(calls).toBe(1);
  });
});
