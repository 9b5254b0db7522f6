import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { buildArch, getArch } from '../../src/main/ml/archs/index.js';
import { planTiles, upscaleTiled } from '../../src/main/ml/infer/tiling.js';
import { synthImage, toUint8 } from '../helpers.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('tiled inference', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('plans tiles that cover the image exactly once', () => {
    const rects = planTiles(100, 37, 32);
    let area = 0;
    for (const r of rects) area += r.w * r.h;
    expect(area).toBe(100 * 37);
    expect(rects.length).toBe(4 * 2);
  });

  it('equals the whole-image result when the overlap covers the receptive field, and not without overlap', async () => {
    const model = buildArch('compact', 2, { channels: 8, blocks: 3 });
    const img = synthImage(53, 41);
    const src = toUint8(img);
    const whole = await upscaleTiled(model, src, 53, 41, 255, { scale: 2, tile: 1000, overlap: 0 });
    const radius = getArch('compact').receptiveRadius({ channels: 8, blocks: 3 });
    const progress: number[] = [];
    const tiled = await upscaleTiled(model, src, 53, 41, 255, {
      scale: 2,
      tile: 16,
      overlap: radius,
      onProgress: (d) => progress.push(d),
    });
    expect(maxAbsDiff(whole, tiled)).toBeLessThanOrEqual(1);
    expect(progress).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const seams = await upscaleTiled(model, src, 53, 41, 255, { scale: 2, tile: 16, overlap: 0 });
    expect(maxAbsDiff(whole, seams)).toBeGreaterThan(1);
  });

  it('pads odd tiles for models that need a size multiple (upsampler2x)', async () => {
    const model = buildArch('upsampler2x', 2);
    const src = toUint8(synthImage(21, 13));
    const out = await upscaleTiled(model, src, 21, 13, 255, { scale: 2, tile: 16, overlap: 8, multiple: 8 });
    expect(out.length).toBe(42 * 26 * 3);
  });

  it('stops between tiles when cancelled, and leaks no tensors', async () => {
    const model = buildArch('compact', 2, { channels: 8, blocks: 1 });
    const src = toUint8(synthImage(64, 64));
    await upscaleTiled(model, src.subarray(0, 8 * 8 * 3), 8, 8, 255, { scale: 2, tile: 8, overlap: 2 }); // builds the anchor's constant kernel once
    const before = tf.memory().numTensors;
    let calls = 0;
    await expect(upscaleTiled(model, src, 64, 64, 255, { scale: 2, tile: 16, overlap: 4, isCancelled: () => ++calls > 3 })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps 16-bit samples 16-bit', async () => {
    const model = buildArch('compact', 2, { channels: 8, blocks: 1 });
    const src = Uint16Array.from(toUint8(synthImage(8, 8)), (v) => v * 257);
    const out = await upscaleTiled(model, src, 8, 8, 65535, { scale: 2, tile: 8, overlap: 2 });
    expect(out).toBeInstanceOf(Uint16Array);
    expect(Math.max(...out)).toBeGreaterThan(255);
  });

  it("cross-fades tiles: a model whose output follows each tile's own statistics leaves no seam", async () => {
    // A stand-in for a GAN: nearest x2 plus an offset from the tile's mean, so two tiles disagree everywhere.
    const byTileMean = {
      predict: (x: tf.Tensor4D) => tf.tidy(() => tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2]).add(x.mean().sub(0.5).mul(0.5))),
    };
    const [w, h] = [64, 48];
    const src = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) src[(y * w + x) * 3 + c] = Math.round((255 * (x + y)) / (w + h));
    /** Largest step between neighbouring output pixels, across and along the rows. */
    const largestStep = (out: Uint8Array | Uint16Array) => {
      let most = 0;
      for (let y = 0; y < h * 2; y++) {
        for (let x = 0; x < w * 2; x++) {
          const i = (y * w * 2 + x) * 3;
          if (x > 0) most = Math.max(most, Math.abs(out[i]! - out[i - 3]!));
          if (y > 0) most = Math.max(most, Math.abs(out[i]! - out[i - w * 2 * 3]!));
        }
      }
      return most;
    };
    const hard = await upscaleTiled(byTileMean, src, w, h, 255, { scale: 2, tile: 16, overlap: 16, blend: 0 });
    const faded = await upscaleTiled(byTileMean, src, w, h, 255, { scale: 2, tile: 16, overlap: 16 });
    const whole = await upscaleTiled(byTileMean, src, w, h, 255, { scale: 2, tile: 1000, overlap: 0 });
    // The image's own steps (nearest x2 of a gradient): 3 levels. Hard tile edges jump by 21;
    // faded, the tiles' disagreement is spread over 32 px and adds at most a level or two.
    const own = largestStep(whole);
    expect(own).toBeLessThanOrEqual(4);
    expect(largestStep(hard)).toBeGreaterThan(own + 10);
    expect(largestStep(faded)).toBeLessThanOrEqual(own + 2);
  });
});
