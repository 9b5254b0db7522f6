/**
 * The trainer with its steps on WebGPU (Chromium's SwiftShader adapter in CI): the
 * same loss curve, validation and checkpoints as on wasm; a checkpoint it writes
 * resumes anywhere; a device lost mid-run keeps the last good checkpoint.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { PageEngine } from '../../src/main/ml/engine/pageEngine.js';
import { Trainer, type MetricPoint } from '../../src/main/ml/train/trainer.js';
import { TINY_PAIRS, TINY_TRAINER_CONFIG, TINY_VAL } from '../trainerFixture.js';
import { HAVE_CHROMIUM } from './helpers.js';

const CONFIG = { ...TINY_TRAINER_CONFIG, steps: 6, validateEvery: 3, checkpointEvery: 3, ema: 0.9, optimizer: 'adamw' as const, weightDecay: 1e-4 };

describe.skipIf(!HAVE_CHROMIUM)('training on WebGPU', () => {
  let gpu: PageEngine;
  const dirs: string[] = [];
  const runDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-gputrain-'));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
    gpu = await PageEngine.start();
  }, 120_000);

  afterAll(async () => {
    await gpu?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function run(engine: PageEngine | undefined, dir: string, untilStep?: number): Promise<{ losses: number[]; history: MetricPoint[]; trainer: Trainer }> {
    const trainer = await Trainer.open(CONFIG, TINY_PAIRS, TINY_VAL, dir, engine);
    const losses: number[] = [];
    const history = await trainer.run({ onProgress: (p) => losses.push(p.loss), ...(untilStep ? { untilStep } : {}) });
    return { losses, history, trainer };
  }

  it('follows the wasm run: losses within 1 %, validation within 0.05 dB, and its checkpoint resumes on wasm', async () => {
    const here = await run(undefined, runDir());
    const dir = runDir();
    const there = await run(gpu, dir);
    expect(there.trainer.computeBackend).toBe('webgpu');
    expect(there.losses).toHaveLength(6);
    for (let i = 0; i < 6; i++) expect(Math.abs(there.losses[i]! - here.losses[i]!) / here.losses[i]!, `step ${i + 1}`).toBeLessThan(0.01);
    const val = (h: MetricPoint[]) => h.filter((p) => p.valPsnr !== undefined).map((p) => [p.step, p.valPsnr!]);
    expect(val(there.history).map(([s]) => s)).toEqual([3, 6]);
    val(there.history).forEach(([, psnr], i) => expect(Math.abs(psnr! - val(here.history)[i]![1]!)).toBeLessThan(0.05));
    // The pulled weights are the engine's: the exported (EMA) model predicts as the wasm run's does.
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 3);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(there.trainer.exportModel.predict(x) as tf.Tensor, here.trainer.exportModel.predict(x) as tf.Tensor))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-3);
    there.trainer.dispose();
    here.trainer.dispose();
    // The checkpoint it wrote is complete: a wasm trainer resumes it at step 6.
    const resumed = await Trainer.open({ ...CONFIG, steps: 7 }, TINY_PAIRS, TINY_VAL, dir);
    expect(resumed.currentStep).toBe(6);
    expect(Number.isFinite(await resumed.nextStep())).toBe(true);
    resumed.dispose();
    x.dispose();
  });

  it('a device lost mid-run stops it with BACKEND_LOST and keeps the last good checkpoint', async () => {
    const engine = await PageEngine.start();
    const dir = runDir();
    try {
      const first = await run(engine, dir, 3);
      await engine.call({ op: 'loseDevice' });
      await expect(first.trainer.run()).rejects.toMatchObject({ code: 'BACKEND_LOST' });
      first.trainer.dispose();
    } finally {
      await engine.close();
    }
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'state.json'), 'utf8')) as { step: number };
    expect(state.step).toBe(3);
    // It resumes from there on the user's CPU (or a fresh page).
    const resumed = await Trainer.open(CONFIG, TINY_PAIRS, TINY_VAL, dir);
    expect(resumed.currentStep).toBe(3);
    resumed.dispose();
  });
});
