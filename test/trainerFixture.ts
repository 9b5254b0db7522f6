/** The tiny training setup the trainer tests share: two synthetic photos, one validation crop, a 1-block net. */
import type * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { makeBicubicPair, type PairImage } from '../src/main/ml/train/dataset.js';
import { DEFAULT_TRAINER_CONFIG, Trainer, type TrainerConfig } from '../src/main/ml/train/trainer.js';
import { synthImage, tmpDir } from './helpers.js';

export const TINY_PAIRS = [makeBicubicPair('a', synthImage(64, 48, 1), 2), makeBicubicPair('b', synthImage(40, 56, 2), 2)];
export const TINY_VAL = [makeBicubicPair('v', synthImage(32, 32, 3), 2)];
export const TINY_TRAINER_CONFIG: TrainerConfig = {
  ...DEFAULT_TRAINER_CONFIG,
  arch: 'compact',
  archOptions: { channels: 8, blocks: 1 },
  scale: 2,
  steps: 12,
  batch: 2,
  patch: 12,
  warmupSteps: 2,
  validateEvery: 6,
  checkpointEvery: 3,
  lr: 3e-3,
};

/** Every weight of a model, in its order. */
export function weightValues(m: tf.LayersModel): Float32Array[] {
  return m.getWeights().map((w) => w.dataSync() as Float32Array);
}

/** Two models' weights are bit-identical. */
export function expectSameWeights(a: Float32Array[], b: Float32Array[]): void {
  expect(b.length).toBe(a.length);
  for (let i = 0; i < a.length; i++) expect(Array.from(b[i]!)).toEqual(Array.from(a[i]!));
}

/** A run trained straight through, and the same run stopped at step `at`, reopened from its checkpoint and finished. */
export async function straightAndResumed(config: TrainerConfig, pairs: readonly PairImage[], val: readonly PairImage[], at = 6): Promise<{ straight: Trainer; resumed: Trainer }> {
  const straight = await Trainer.open(config, pairs, val, tmpDir());
  await straight.run();
  const dir = tmpDir();
  const first = await Trainer.open(config, pairs, val, dir);
  await first.run({ untilStep: at });
  first.dispose();
  const resumed = await Trainer.open(config, pairs, val, dir);
  expect(resumed.currentStep).toBe(at);
  await resumed.run();
  return { straight, resumed };
}
