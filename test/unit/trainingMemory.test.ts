/**
 * Long-run memory: the live tensor count must not grow with steps (a leak of one
 * tensor per step is invisible over 5 steps and fatal over a night of training).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { makeBicubicPair, pairSource } from '../../src/main/ml/dataset.js';
import { DEFAULT_TRAINER_CONFIG, Trainer, buildSeeded, type TrainerConfig } from '../../src/main/ml/trainer.js';
import { DEFAULT_GAN_CONFIG, GanTrainer } from '../../src/main/ml/gan.js';
import { saveLayersModel } from '../../src/main/ml/modelStore.js';
import { synthImage, tmpDir } from '../helpers.js';
import './tinyDisc.js';

const pairs = [makeBicubicPair('a', synthImage(32, 32, 1), 2)];
const config: TrainerConfig = {
  ...DEFAULT_TRAINER_CONFIG,
  arch: 'compact',
  archOptions: { channels: 4, blocks: 1 },
  scale: 2,
  steps: 2000,
  batch: 1,
  patch: 8,
  warmupSteps: 10,
  validateEvery: 100_000,
  checkpointEvery: 100_000,
  lr: 1e-3,
};
const STEPS = 2000;
const GAN_STEPS = 300;
// ~40 s of CPU in all; the timeout only leaves room for a machine shared with other jobs.
const TIMEOUT = 400_000;

describe('training memory stays flat', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  const variants: [string, Partial<TrainerConfig>][] = [
    ['Adam', {}],
    ['AdamW + EMA + step schedule', { optimizer: 'adamw', weightDecay: 0.01, ema: 0.999, schedule: 'step', milestones: [500, 1500] }],
  ];
  for (const [label, extra] of variants) {
    it(`${label}: numTensors at step 100 equals numTensors at step ${STEPS}`, async () => {
      const t = await Trainer.open({ ...config, ...extra }, pairs, [], tmpDir());
      let at100 = -1;
      for (let s = 1; s <= STEPS; s++) {
        t.trainStep();
        if (s === 100) at100 = tf.memory().numTensors;
      }
      expect(tf.memory().numTensors).toBe(at100);
      t.dispose();
    }, TIMEOUT);
  }

  it(`GAN step: numTensors at step 100 equals numTensors at step ${GAN_STEPS}`, async () => {
    const init = tmpDir();
    const g = buildSeeded({ ...config, seed: 2 });
    await saveLayersModel(g, init);
    g.dispose();
    const gan = await GanTrainer.open(
      { ...DEFAULT_GAN_CONFIG, arch: 'compact', archOptions: config.archOptions, scale: 2, steps: STEPS, batch: 1, patch: 8, discArch: 'tiny-disc', validateEvery: 100_000, checkpointEvery: 100_000 },
      pairSource(pairs),
      [],
      tmpDir(),
      init,
    );
    let at100 = -1;
    // A GAN step costs several pixel steps; 300 of them keep this file under a minute.
    for (let s = 1; s <= GAN_STEPS; s++) {
      await gan.nextStep();
      if (s === 100) at100 = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(at100);
    gan.dispose();
  }, TIMEOUT);
});
