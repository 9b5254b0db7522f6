/** The tiny training setup the trainer tests share: two synthetic photos, one validation crop, a 1-block net. */
import { makeBicubicPair } from '../src/main/ml/train/dataset.js';
import { DEFAULT_TRAINER_CONFIG, type TrainerConfig } from '../src/main/ml/train/trainer.js';
import { synthImage } from './helpers.js';

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
