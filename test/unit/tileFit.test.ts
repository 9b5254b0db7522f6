/**
 * Tile sizes from the model (issue 27, item 3): the largest tile comes from the arch's
 * per-pixel activation memory and the backend's buffer limit, tiles are whole numbers of the
 * model's grid, tiles pad the way the original pads (reflect or symmetric), and a tile that
 * differs from the one asked for is said, with why.
 */
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENSOR_BUDGET, tilingFor } from '../../src/main/ml/archs/index.js';
import { fitTile, mirrorPadBottomRight, type TileRequest } from '../../src/main/ml/infer/tiling.js';
import { upscaleFile } from '../../src/main/ml/infer/upscaleFile.js';
import { DEFAULT_TILE, tileChangeSaid } from '../../src/shared/api.js';
import { initBackend } from '../../src/main/ml/backend.js';
import { tmpDir } from '../helpers.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('tile size from the model and the backend', () => {
  it("keeps the widest activation within the budget: the default on wasm, the GPU's buffer limit when smaller", () => {
    const span = { arch: 'span', scale: 4, archOptions: { features: 48, norm: true } };
    const wasm = tilingFor(span);
    // SPAN's concatenation: 4 * 48 floats per pixel; the tile plus its context on both sides fits the budget.
    const side = (t: number) => t + 2 * wasm.overlap;
    expect(side(wasm.maxTile) ** 2 * 4 * 4 * 48).toBeLessThanOrEqual(DEFAULT_TENSOR_BUDGET);
    expect(side(wasm.maxTile + 1) ** 2 * 4 * 4 * 48).toBeGreaterThan(DEFAULT_TENSOR_BUDGET);
    const gpu = tilingFor(span, { maxTensorBytes: 32 * 2 ** 20 });
    expect(gpu.maxTile).toBeLessThan(wasm.maxTile);
    expect(side(gpu.maxTile) ** 2 * 4 * 4 * 48).toBeLessThanOrEqual(32 * 2 ** 20);
    // A GPU allowing more than the default keeps the default (RAM, not the buffer, limits then).
    expect(tilingFor(span, { maxTensorBytes: 2 ** 31 }).maxTile).toBe(wasm.maxTile);
    // RRDBNet's widest activations are at output size: x4 tiles are far smaller than x1's.
    const rrdb = (scale: number) => tilingFor({ arch: 'rrdbnet', scale, archOptions: { features: 64, blocks: 23, growth: 32, upsamples: scale === 4 ? 2 : 0 } });
    expect(rrdb(4).maxTile).toBeLessThan(rrdb(1).maxTile / 3);
    // Never below the smallest tile the CLI and the studio accept, and on the model's grid.
    const tiny = tilingFor({ arch: 'rrdbnet', scale: 4, archOptions: { features: 64, blocks: 23, growth: 32, upsamples: 2 } }, { maxTensorBytes: 2 ** 20 });
    expect(tiny.maxTile).toBe(32);
  });

  it('fits a tile to the model: cut to its memory, rounded down to its grid, and says why', () => {
    expect(fitTile(400, { maxTile: 512, multiple: 1 })).toEqual({ tile: 400 });
    expect(fitTile(1024, { maxTile: 480, multiple: 8 })).toEqual({ tile: 480, change: { asked: 1024, used: 480, reason: 'model-memory' } });
    expect(fitTile(400, { maxTile: Infinity, multiple: 32 })).toEqual({ tile: 384, change: { asked: 400, used: 384, reason: 'grid', multiple: 32 } });
    expect(fitTile(20, { maxTile: Infinity, multiple: 32 }).tile).toBe(32);
    expect(tileChangeSaid({ asked: 400, used: 384, reason: 'grid', multiple: 32 })).toBe('in 384 px tiles, not 400: the model takes tiles in whole multiples of 32 px (its attention windows or strides)');
  });

  it("pads the way the original does: 'reflect' skips the edge pixel, 'symmetric' repeats it, in several passes when the pad is wider than the image", () => {
    const row = (mode: 'reflect' | 'symmetric', w: number, pad: number) =>
      Array.from(
        tf.tidy(() =>
          mirrorPadBottomRight(
            tf.tensor4d(
              Array.from({ length: w }, (_, i) => i + 1),
              [1, 1, w, 1],
            ),
            0,
            pad,
            mode,
          ).dataSync(),
        ),
      );
    expect(row('reflect', 4, 3)).toEqual([1, 2, 3, 4, 3, 2, 1]); // torch.nn.functional.pad(..., mode='reflect')
    expect(row('symmetric', 4, 3)).toEqual([1, 2, 3, 4, 4, 3, 2]);
    expect(row('reflect', 2, 5)).toEqual([1, 2, 1, 2, 1, 2, 1]);
    expect(row('reflect', 1, 3)).toEqual([1, 1, 1, 1]);
  });
});

describe('an upscale at a tile the model cannot take', () => {
  let dir = '';
  let input = '';
  beforeAll(async () => {
    dir = tmpDir('restora-tilefit-');
    input = path.join(dir, 'in.png');
    await sharp({ create: { width: 90, height: 70, channels: 3, background: '#406080' } })
      .png()
      .toFile(input);
  });

  /** Nearest x2 of each tile, recording the tiles and their padding. */
  function recorder(seen: TileRequest[]) {
    return () => async (t: TileRequest) => {
      seen.push(t);
      const [h, w] = [t.height + t.padH, t.width + t.padW];
      expect(h % 16).toBe(0);
      expect(w % 16).toBe(0);
      const out = new Float32Array(t.width * 2 * t.height * 2 * 3);
      for (let y = 0; y < t.height * 2; y++) for (let x = 0; x < t.width * 2; x++) for (let c = 0; c < 3; c++) out[(y * t.width * 2 + x) * 3 + c] = Math.round(t.x[(Math.floor(y / 2) * t.width + Math.floor(x / 2)) * 3 + c]! * t.maxValue);
      return out;
    };
  }

  it('runs whole windows, pads them as the arch asks, and the result says the tile it used', async () => {
    const seen: TileRequest[] = [];
    const r = await upscaleFile(recorder(seen), { input, output: path.join(dir, 'out.png'), scale: 2, format: 'png', tile: 40, overlap: 4, multiple: 16, padMode: 'reflect', maxTile: 512 });
    expect(r.tile).toEqual({ asked: 40, used: 32, reason: 'grid', multiple: 16 });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((t) => t.padMode === 'reflect')).toBe(true);
    expect([r.outWidth, r.outHeight]).toEqual([180, 140]);
    const px = await sharp(path.join(dir, 'out.png')).raw().toBuffer();
    expect([px[0], px[1], px[2]]).toEqual([0x40, 0x60, 0x80]);
  });

  it("cuts a tile bigger than the model's memory allows (said when it was chosen, not for the default), and an allowed one is used as asked", async () => {
    const big = await upscaleFile(recorder([]), { input, output: path.join(dir, 'big.png'), scale: 2, format: 'png', tile: 1024, overlap: 4, multiple: 16, maxTile: 64 });
    expect(big.tile).toEqual({ asked: 1024, used: 64, reason: 'model-memory' });
    const fine = await upscaleFile(recorder([]), { input, output: path.join(dir, 'fine.png'), scale: 2, format: 'png', tile: 48, overlap: 4, multiple: 16, maxTile: 64 });
    expect(fine.tile).toBeUndefined();
    // The default tile is a starting point: cut to a big model's memory without a word (else every photo would say it).
    const seen: TileRequest[] = [];
    const quiet = await upscaleFile(recorder(seen), { input, output: path.join(dir, 'quiet.png'), scale: 2, format: 'png', tile: DEFAULT_TILE, overlap: 4, multiple: 16, maxTile: 64 });
    expect(quiet.tile).toBeUndefined();
    expect(Math.max(...seen.map((t) => t.width))).toBeLessThanOrEqual(64 + 2 * 4 + 2 * 16);
  });
});
