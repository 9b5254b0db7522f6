import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend.js';
import { Trainer, learningRateAt, type TrainerConfig } from '../../src/main/ml/train/trainer.js';
import type * as tf from '@tensorflow/tfjs';
import { tmpDir } from '../helpers.js';
import { TINY_PAIRS, TINY_TRAINER_CONFIG, TINY_VAL, expectSameWeights as expectSame, weightValues as valuesOf } from '../trainerFixture.js';

const pairs = TINY_PAIRS;
const val = TINY_VAL;
const config: TrainerConfig = TINY_TRAINER_CONFIG;
const NEW_KEYS = ['optimizer', 'weightDecay', 'schedule', 'milestones', 'gamma', 'ema'] as const;

describe('trainer options: AdamW, step schedule, EMA', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('step schedule: warm-up, then lr * gamma at each milestone', () => {
    const c: TrainerConfig = { ...config, steps: 100, warmupSteps: 10, lr: 1, schedule: 'step', milestones: [50, 80], gamma: 0.1 };
    expect(learningRateAt(c, 0)).toBeCloseTo(0.1);
    expect(learningRateAt(c, 9)).toBeCloseTo(1);
    expect(learningRateAt(c, 49)).toBe(1);
    expect(learningRateAt(c, 50)).toBeCloseTo(0.1);
    expect(learningRateAt(c, 79)).toBeCloseTo(0.1);
    expect(learningRateAt(c, 80)).toBeCloseTo(0.01);
    // The default stays warm-up + cosine.
    const d = { ...config, steps: 100, warmupSteps: 10, lr: 1, lrMin: 0 };
    expect(learningRateAt(d, 55)).toBeCloseTo(0.5);
  });

  it('AdamW = the Adam step, then kernels (not biases) shrink by lr * wd', async () => {
    const adam = await Trainer.open(config, pairs, val, tmpDir());
    const adamw = await Trainer.open({ ...config, optimizer: 'adamw', weightDecay: 2 }, pairs, val, tmpDir());
    adam.trainStep();
    adamw.trainStep();
    const lr = learningRateAt(config, 0);
    const names = adam.model.weights.map((w) => w.originalName);
    const a = valuesOf(adam.model);
    const b = valuesOf(adamw.model);
    names.forEach((n, i) => {
      const f = /kernel$/.test(n) ? Math.fround(1 - lr * 2) : 1;
      for (let k = 0; k < a[i]!.length; k++) expect(b[i]![k]!).toBeCloseTo(a[i]![k]! * f, 6);
    });
    // And over a few steps the kernels end up smaller.
    for (let s = 0; s < 5; s++) {
      adam.trainStep();
      adamw.trainStep();
    }
    const norm = (m: tf.LayersModel) => m.weights.filter((w) => /kernel$/.test(w.originalName)).reduce((sum, w) => sum + (w.read().square().sum().dataSync()[0] ?? 0), 0);
    expect(norm(adamw.model)).toBeLessThan(norm(adam.model));
    adam.dispose();
    adamw.dispose();
  });

  it('EMA equals the closed form d^n w0 + sum (1-d) d^(n-k) w_k', async () => {
    const d = 0.8;
    const t = await Trainer.open({ ...config, ema: d }, pairs, val, tmpDir());
    const seq = [valuesOf(t.model)];
    for (let s = 0; s < 4; s++) {
      t.trainStep();
      seq.push(valuesOf(t.model));
    }
    const n = seq.length - 1;
    const ema = valuesOf(t.exportModel);
    expect(t.exportModel).not.toBe(t.model);
    for (let i = 0; i < ema.length; i++) {
      for (let j = 0; j < ema[i]!.length; j += 7) {
        let want = d ** n * seq[0]![i]![j]!;
        for (let k = 1; k <= n; k++) want += (1 - d) * d ** (n - k) * seq[k]![i]![j]!;
        expect(ema[i]![j]!).toBeCloseTo(want, 5);
      }
    }
    t.dispose();
  });

  it('resumes bit-identically with EMA and AdamW on (weights, EMA weights, history)', async () => {
    const c: TrainerConfig = { ...config, ema: 0.9, optimizer: 'adamw', weightDecay: 0.5, schedule: 'step', milestones: [8] };
    const straight = await Trainer.open(c, pairs, val, tmpDir());
    await straight.run();
    const dir = tmpDir();
    const first = await Trainer.open(c, pairs, val, dir);
    await first.run({ untilStep: 6 });
    expect(fs.existsSync(path.join(dir, 'checkpoint', 'ema.bin'))).toBe(true);
    first.dispose();
    const resumed = await Trainer.open(c, pairs, val, dir);
    expect(resumed.currentStep).toBe(6);
    await resumed.run();
    expectSame(valuesOf(straight.model), valuesOf(resumed.model));
    expectSame(valuesOf(straight.exportModel), valuesOf(resumed.exportModel));
    expect(resumed.history).toEqual(straight.history.map((p) => ({ ...p, wallMs: resumed.history.find((q) => q.step === p.step)!.wallMs })));
    straight.dispose();
    resumed.dispose();
  });

  it('SGD: momentum and Nesterov as asked, the schedule moves its learning rate, and it resumes bit-identically', async () => {
    const c: TrainerConfig = { ...config, optimizer: 'sgd', momentum: 0.8, nesterov: true, lr: 0.05, schedule: 'step', milestones: [5] };
    const straight = await Trainer.open(c, pairs, val, tmpDir());
    const opt = (straight as unknown as { optimizer: tf.Optimizer }).optimizer;
    expect(opt.getClassName()).toBe('Momentum');
    expect(opt.getConfig()).toMatchObject({ momentum: 0.8, useNesterov: true });
    straight.trainStep();
    expect((opt as unknown as { learningRate: number }).learningRate).toBeCloseTo(learningRateAt(c, 0), 12);
    await straight.run();
    const dir = tmpDir();
    const first = await Trainer.open(c, pairs, val, dir);
    await first.run({ untilStep: 6 });
    first.dispose();
    const resumed = await Trainer.open(c, pairs, val, dir);
    expect(resumed.currentStep).toBe(6);
    await resumed.run();
    expectSame(valuesOf(straight.model), valuesOf(resumed.model));
    straight.dispose();
    resumed.dispose();
    // Plain momentum takes another path than Nesterov's from the same start.
    const plain = await Trainer.open({ ...c, nesterov: false }, pairs, val, tmpDir());
    const nest = await Trainer.open(c, pairs, val, tmpDir());
    for (let i = 0; i < 3; i++) {
      plain.trainStep();
      nest.trainStep();
    }
    expect(valuesOf(plain.model)[0]).not.toEqual(valuesOf(nest.model)[0]);
    plain.dispose();
    nest.dispose();
  });

  it('an old-format checkpoint (config without the new keys, no ema.bin) resumes exactly as before', async () => {
    const old = { ...config } as Partial<TrainerConfig>;
    for (const k of NEW_KEYS) delete old[k];
    const oldConfig = old as TrainerConfig;
    const straight = await Trainer.open(oldConfig, pairs, val, tmpDir());
    await straight.run();
    const dir = tmpDir();
    const first = await Trainer.open(oldConfig, pairs, val, dir);
    await first.run({ untilStep: 6 });
    first.dispose();
    const statePath = path.join(dir, 'checkpoint', 'state.json');
    const state = JSON.parse(fs.readFileSync(statePath, 'utf8')) as { config: Record<string, unknown> };
    for (const k of NEW_KEYS) expect(k in state.config).toBe(false);
    expect(fs.existsSync(path.join(dir, 'checkpoint', 'ema.bin'))).toBe(false);
    const resumed = await Trainer.open(oldConfig, pairs, val, dir);
    await resumed.run();
    expectSame(valuesOf(straight.model), valuesOf(resumed.model));
    resumed.dispose();

    // The same old checkpoint, resumed with EMA turned on: the average starts at the resumed weights.
    const dir2 = tmpDir();
    const again = await Trainer.open(oldConfig, pairs, val, dir2);
    await again.run({ untilStep: 6 });
    const at6 = valuesOf(again.model);
    again.dispose();
    const withEma = await Trainer.open({ ...oldConfig, ema: 0.99 }, pairs, val, dir2);
    expect(withEma.currentStep).toBe(6);
    expectSame(at6, valuesOf(withEma.exportModel));
    await withEma.run();
    expect(withEma.currentStep).toBe(12);
    withEma.dispose();
    straight.dispose();
  });
});
