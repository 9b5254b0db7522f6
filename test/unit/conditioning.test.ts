/**
 * Whole-image conditioning (unet with global: true): the statistics, the model's
 * start from a plain model, and tiled inference that equals whole-image inference.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { buildArch, tilingFor } from '../../src/main/ml/archs/index.js';
import { GLOBAL_STATS, globalStats } from '../../src/main/ml/core/conditioning.js';
import { predictorFor } from '../../src/main/ml/infer/tiling.js';
import { fadeAndYellow, gaussianNoise } from '../../src/main/degrade/ops.js';
import { degradedSource } from '../../src/main/ml/train/dataset.js';
import { degrade } from '../../src/main/degrade/presets.js';
import { Rng } from '../../src/main/ml/core/rng.js';
import { upscaleTiled } from '../../src/main/ml/infer/tiling.js';
import { DEFAULT_TRAINER_CONFIG, Trainer } from '../../src/main/ml/train/trainer.js';
import { predictImage } from '../../src/main/ml/infer/predict.js';
import { loadLayersModel, saveLayersModel } from '../../src/main/ml/store/modelStore.js';
import { synthImage, tmpDir, toUint8 } from '../helpers.js';

describe('whole-image conditioning', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('statistics: a flat grey image, then fading lifts the dark percentile and noise raises the noise level', () => {
    const grey = new Float32Array(16 * 16 * 3).fill(128);
    const s = globalStats(grey, 16, 16);
    expect(s).toHaveLength(GLOBAL_STATS);
    for (let c = 0; c < 3; c++) {
      expect(s[c * 4]).toBeCloseTo(128 / 255, 5);
      expect(s[c * 4 + 1]).toBeCloseTo(0, 5);
      expect(s[c * 4 + 2]).toBeCloseTo(128 / 255, 5);
      expect(s[c * 4 + 3]).toBeCloseTo(128 / 255, 5);
    }
    expect(s[12]).toBeCloseTo(0, 6);
    const photo = synthImage(64, 64, 3);
    const base = globalStats(photo.data, 64, 64);
    const faded = globalStats(fadeAndYellow(photo, 0.3, 0.5).data, 64, 64);
    expect(faded[0 * 4 + 2]!).toBeGreaterThan(base[0 * 4 + 2]! + 0.05); // red 2% percentile lifted
    expect(faded[2 * 4]!).toBeLessThan(base[2 * 4]!); // blue mean down: yellowing
    const noisy = globalStats(gaussianNoise(photo, 30, false, new Rng(1)).data, 64, 64);
    expect(noisy[12]!).toBeGreaterThan(2 * base[12]!);
  });

  it('a conditioned U-Net initialised from a plain one computes the same image, and survives save/load', async () => {
    const plainDir = tmpDir();
    const plain = buildArch('unet', 2, { channels: 8, midBlocks: 1 });
    await saveLayersModel(plain, plainDir);
    const photo = synthImage(40, 36, 5);
    const t = await Trainer.open(
      { ...DEFAULT_TRAINER_CONFIG, arch: 'unet', archOptions: { channels: 8, midBlocks: 1, global: true }, scale: 2, steps: 2, batch: 2, patch: 16, initFrom: plainDir, validateEvery: 1e9, checkpointEvery: 1e9 },
      degradedSource([synthImage(96, 96, 2)], (hr, s, rng) => degrade(hr, s, 'old-photo', rng), 32),
      [],
      tmpDir(),
    );
    expect(t.model.inputs).toHaveLength(2);
    expect(predictImage(t.model, photo).data).toEqual(predictImage(plain, photo).data);
    // Training moves the conditioning layers off zero: the image now depends on the statistics.
    await t.nextStep();
    await t.nextStep();
    const dir = tmpDir();
    await saveLayersModel(t.model, dir);
    const back = await loadLayersModel(dir);
    expect(predictImage(back, photo).data).toEqual(predictImage(t.model, photo).data);
    const affine = back.getLayer('cond_affine').getWeights()[0]!;
    expect(tf.max(tf.abs(affine)).dataSync()[0]).toBeGreaterThan(0);
    plain.dispose();
    t.dispose();
    back.dispose();
  });

  it('tiled inference of a conditioned U-Net equals whole-image inference (one statistics vector for every tile)', async () => {
    const model = buildArch('unet', 2, { channels: 8, midBlocks: 1, global: true });
    // Non-zero conditioning weights, so the statistics matter.
    for (const name of ['cond_mid', 'cond_affine']) {
      const layer = model.getLayer(name);
      layer.setWeights(layer.getWeights().map((w) => tf.randomNormal(w.shape, 0, 0.05, 'float32', 7)));
    }
    const img = synthImage(90, 70, 9);
    const u8 = toUint8(img);
    const whole = predictImage(model, { ...img, data: Float32Array.from(u8) });
    const { overlap, multiple } = tilingFor({ arch: 'unet', scale: 2, archOptions: { channels: 8, midBlocks: 1, global: true } });
    // A tile side that is no multiple of 4 is aligned up by the tiler.
    const tiled = await upscaleTiled(predictorFor(model, u8, 90, 70, 255), u8, 90, 70, 255, { scale: 2, tile: 30, overlap, multiple });
    let maxDiff = 0;
    for (let i = 0; i < tiled.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tiled[i]! - whole.data[i]!));
    // Float sums in another order may round one 8-bit level differently.
    expect(maxDiff).toBeLessThanOrEqual(1);
    model.dispose();
  });

  it('degradedSource with a context region gives each patch the statistics of its whole degraded region, reproducibly', async () => {
    const src = degradedSource([synthImage(300, 300, 4)], (hr, s, rng) => degrade(hr, s, 'old-photo', rng), 96);
    const a = await src.next(new Rng(11), 3, 16, 2);
    const b = await src.next(new Rng(11), 3, 16, 2);
    expect(a.cond).toHaveLength(3 * GLOBAL_STATS);
    expect(a.cond).toEqual(b.cond);
    expect(a.lr).toEqual(b.lr);
    expect(a.hr).toHaveLength(3 * 32 * 32 * 3);
  });
});
