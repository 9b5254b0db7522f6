import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { makeBicubicPair, sampleBatch } from '../../src/main/ml/train/dataset.js';
import { Trainer, learningRateAt, type TrainerConfig } from '../../src/main/ml/train/trainer.js';
import { Rng } from '../../src/main/ml/core/rng.js';
import { synthImage, tmpDir } from '../helpers.js';
import { TINY_PAIRS, TINY_TRAINER_CONFIG, TINY_VAL } from '../trainerFixture.js';

const pairs = TINY_PAIRS;
const val = TINY_VAL;
const config: TrainerConfig = TINY_TRAINER_CONFIG;

async function weightsOf(t: Trainer): Promise<Float32Array[]> {
  return Promise.all(t.model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

describe('trainer core', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('warm-up then cosine decay from lr to lrMin', () => {
    const c = { ...config, steps: 100, warmupSteps: 10, lr: 1, lrMin: 0 };
    expect(learningRateAt(c, 0)).toBeCloseTo(0.1);
    expect(learningRateAt(c, 10)).toBeCloseTo(1);
    expect(learningRateAt(c, 55)).toBeCloseTo(0.5);
    expect(learningRateAt(c, 100)).toBeCloseTo(0);
  });

  it('samples aligned LR/HR patches (HR patch downscaled equals the LR patch away from edges)', () => {
    const b = sampleBatch(pairs, new Rng(3), 4, 12, 2, false);
    expect(b.lr.length).toBe(4 * 12 * 12 * 3);
    expect(b.hr.length).toBe(4 * 24 * 24 * 3);
    // Mean of each HR patch tracks its LR patch mean.
    for (let i = 0; i < 4; i++) {
      const m = (a: Float32Array, n: number) => a.subarray(i * n, (i + 1) * n).reduce((s, v) => s + v, 0) / n;
      expect(Math.abs(m(b.lr, 432) - m(b.hr, 1728))).toBeLessThan(0.02);
    }
  });

  it('loss goes down, validation is recorded, no tensors leak per step', async () => {
    const t = await Trainer.open({ ...config, steps: 30 }, pairs, val, tmpDir());
    const first = t.trainStep();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) t.trainStep();
    expect(tf.memory().numTensors).toBe(n0);
    await t.run();
    const last = t.history[t.history.length - 1]!;
    expect(last.loss).toBeLessThan(first);
    expect(t.history.some((p) => p.valPsnr !== undefined && Number.isFinite(p.valPsnr))).toBe(true);
  });

  it('resumes exactly: 6 steps + resume + 6 steps equals 12 straight steps', async () => {
    const straight = await Trainer.open(config, pairs, val, tmpDir());
    await straight.run();
    const dir = tmpDir();
    const first = await Trainer.open(config, pairs, val, dir);
    await first.run({ untilStep: 6 });
    first.model.dispose();
    const resumed = await Trainer.open(config, pairs, val, dir);
    expect(resumed.currentStep).toBe(6);
    await resumed.run();
    const a = await weightsOf(straight);
    const b = await weightsOf(resumed);
    for (let i = 0; i < a.length; i++) expect(Array.from(b[i]!)).toEqual(Array.from(a[i]!));
    expect(resumed.history.map((p) => p.step)).toEqual(straight.history.map((p) => p.step));
  });

  it('refuses to resume a run with another architecture', async () => {
    const dir = tmpDir();
    const t = await Trainer.open(config, pairs, val, dir);
    await t.run({ untilStep: 3 });
    await expect(Trainer.open({ ...config, archOptions: { channels: 16, blocks: 1 } }, pairs, val, dir)).rejects.toMatchObject({
      code: 'CHECKPOINT_MISMATCH',
    });
  });

  it('stops with a clear error on NaN loss and keeps the last good checkpoint', async () => {
    const dir = tmpDir();
    const good = await Trainer.open(config, pairs, val, dir);
    await good.run({ untilStep: 3 });
    const poisoned = makeBicubicPair('nan', synthImage(64, 48, 1), 2);
    poisoned.hr.data.fill(Number.NaN);
    const t = await Trainer.open(config, [poisoned], val, dir);
    await expect(t.run()).rejects.toMatchObject({ code: 'TRAINING_DIVERGED', message: expect.stringMatching(/step 4.*checkpoint/) });
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'state.json'), 'utf8')) as { step: number };
    expect(state.step).toBe(3);
  });

  it('refuses images smaller than the patch, naming them', async () => {
    const tiny = [makeBicubicPair('tiny.png', synthImage(10, 10), 2)];
    await expect(Trainer.open(config, tiny, [], tmpDir())).rejects.toThrow(/tiny\.png/);
  });
});
