import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { makeBicubicPair, pairSource } from '../../src/main/ml/train/dataset.js';
import { DEFAULT_GAN_CONFIG, GanTrainer, type GanConfig } from '../../src/main/ml/train/gan.js';
import { buildSeeded } from '../../src/main/ml/train/trainer.js';
import { saveLayersModel } from '../../src/main/ml/store/modelStore.js';
import { synthImage, tmpDir } from '../helpers.js';
import { weightValues as valuesOf } from '../trainerFixture.js';
import './tinyDisc.js';

const pairs = [makeBicubicPair('a', synthImage(64, 48, 1), 2), makeBicubicPair('b', synthImage(40, 56, 2), 2)];
const val = [makeBicubicPair('v', synthImage(32, 32, 3), 2)];
const source = pairSource(pairs);
const config: GanConfig = {
  ...DEFAULT_GAN_CONFIG,
  arch: 'compact',
  archOptions: { channels: 8, blocks: 1 },
  scale: 2,
  steps: 6,
  batch: 2,
  patch: 8,
  validateEvery: 3,
  checkpointEvery: 2,
  lrG: 1e-3,
  lrD: 1e-3,
  discArch: 'tiny-disc',
};

let init = '';

describe('GAN stage', () => {
  it('uses the SRGAN discriminator by default', () => {
    expect(DEFAULT_GAN_CONFIG.discArch).toBe('srgan-discriminator');
  });

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
    init = tmpDir();
    const g = buildSeeded({ arch: 'compact', scale: 2, archOptions: config.archOptions, seed: 3 });
    await saveLayersModel(g, init);
    g.dispose();
  });

  for (const relativistic of [true, false]) {
    it(`one D + G step changes both, losses are finite, nothing leaks (${relativistic ? 'RaGAN' : 'BCE'})`, async () => {
      const t = await GanTrainer.open({ ...config, relativistic }, source, val, tmpDir(), init);
      const g0 = valuesOf(t.generator);
      const d0 = valuesOf(t.discriminator);
      const l = await t.nextStep();
      expect(Number.isFinite(l.pixel) && Number.isFinite(l.g) && Number.isFinite(l.d)).toBe(true);
      expect(l.d).toBeGreaterThan(0);
      const changed = (a: Float32Array[], b: Float32Array[]) => a.some((w, i) => w.some((v, k) => v !== b[i]![k]));
      expect(changed(g0, valuesOf(t.generator))).toBe(true);
      expect(changed(d0, valuesOf(t.discriminator))).toBe(true);
      const n0 = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await t.nextStep();
      expect(tf.memory().numTensors).toBe(n0);
      t.dispose();
    });
  }

  it('logs gLoss/dLoss in metric points and resumes exactly (G, D and both optimizers)', async () => {
    const straight = await GanTrainer.open(config, source, val, tmpDir(), init);
    await straight.run();
    expect(straight.history.every((p) => Number.isFinite(p.gLoss) && Number.isFinite(p.dLoss))).toBe(true);
    expect(straight.history.some((p) => p.valPsnr !== undefined)).toBe(true);
    const dir = tmpDir();
    const first = await GanTrainer.open(config, source, val, dir, init);
    await first.run({ untilStep: 3 });
    first.dispose();
    expect(fs.existsSync(path.join(dir, 'checkpoint', 'discriminator.bin'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'checkpoint', 'optimizer-d.bin'))).toBe(true);
    const resumed = await GanTrainer.open(config, source, val, dir, init);
    expect(resumed.currentStep).toBe(3);
    await resumed.run();
    for (const [a, b] of [
      [straight.generator, resumed.generator],
      [straight.discriminator, resumed.discriminator],
    ] as const) {
      const wa = valuesOf(a);
      const wb = valuesOf(b);
      for (let i = 0; i < wa.length; i++) expect(Array.from(wb[i]!)).toEqual(Array.from(wa[i]!));
    }
    expect(resumed.history.map((p) => [p.step, p.gLoss, p.dLoss])).toEqual(straight.history.map((p) => [p.step, p.gLoss, p.dLoss]));
    straight.dispose();
    resumed.dispose();
  });
});
