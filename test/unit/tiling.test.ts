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
    await expect(
      upscaleTiled(model, src, 64, 64, 255, { scale: 2, tile: 16, overlap: 4, isCancelled: () => ++calls > 3 }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps 16-bit samples 16-bit', async () => {
    const model = buildArch('compact', 2, { channels: 8, blocks: 1 });
    const src = Uint16Array.from(toUint8(synthImage(8, 8)), (v) => v * 257);
    const out = await upscaleTiled(model, src, 8, 8, 65535, { scale: 2, tile: 8, overlap: 2 });
    expect(out).toBeInstanceOf(Uint16Array);
    expect(Math.max(...out)).toBeGreaterThan(255);
  });
});
