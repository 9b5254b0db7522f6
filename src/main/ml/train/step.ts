/**
 * One optimisation step, backend-agnostic: the trainer runs it in-thread (wasm,
 * cpu) and the compute engine runs the very same function in a Chromium renderer
 * on WebGPU, so both follow one loss curve.
 */
import * as tf from '@tensorflow/tfjs';
import { runModel } from '../infer/conditioning.js';
import { pixelLoss, type PixelLoss } from './losses.js';
import type { WeightEma } from './ema.js';
import { setLearningRate } from './optimizers.js';

export interface StepBatch {
  batch: number;
  patch: number;
  scale: number;
  /** LR patches [batch, patch, patch, 3] and HR patches [batch, patch*scale, patch*scale, 3], 0..1. */
  lr: Float32Array;
  hr: Float32Array;
  /** Whole-image statistics, one vector per item (conditioned models only). */
  cond: Float32Array | null;
}

export interface StepState {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  /** Kernels that AdamW decays (not biases, BN scales/offsets or PReLU slopes). */
  decayed: tf.Variable[];
  ema: WeightEma | null;
  loss: PixelLoss;
}

/** The variables AdamW decays: kernels only. */
export function decayedKernels(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.filter((w) => /kernel$/.test(w.originalName)).map((w) => w.read() as tf.Variable);
}

export function batchTensors(b: StepBatch): { x: tf.Tensor4D; y: tf.Tensor4D } {
  const hp = b.patch * b.scale;
  return { x: tf.tensor4d(b.lr, [b.batch, b.patch, b.patch, 3]), y: tf.tensor4d(b.hr, [b.batch, hp, hp, 3]) };
}

/**
 * One optimizer step (Adam, AdamW when weightDecay > 0, or SGD with momentum) on one batch, then the EMA update; returns the
 * loss as a scalar the caller reads (synchronously on wasm, asynchronously on a GPU) and disposes.
 */
export function optimiseStep(s: StepState, b: StepBatch, lr: number, weightDecay: number): tf.Scalar {
  setLearningRate(s.optimizer, lr);
  const vars = s.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const cost = s.optimizer.minimize(
    () => {
      const { x, y } = batchTensors(b);
      const pred = runModel(s.model, x, b.cond, true);
      return pixelLoss(s.loss, pred, y);
    },
    true,
    vars,
  )!;
  if (weightDecay > 0) {
    // Decoupled weight decay: shrink kernels after the Adam step, independent of the gradient moments.
    const keep = 1 - lr * weightDecay;
    tf.tidy(() => {
      for (const v of s.decayed) v.assign(v.mul(keep));
    });
  }
  s.ema?.update();
  return cost;
}

/** d loss / d input and d loss / d every trainable weight, in the model's weight order. */
export async function lossGradients(model: tf.LayersModel, loss: PixelLoss, b: StepBatch): Promise<{ dx: Float32Array; dw: { name: string; data: Float32Array }[]; loss: number }> {
  const { value, dx, dws } = tf.tidy(() => {
    const { x, y } = batchTensors(b);
    const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const f = (input: tf.Tensor) => pixelLoss(loss, runModel(model, input as tf.Tensor4D, b.cond, true), y);
    const { value, grads } = tf.variableGrads(() => f(x), weights);
    return { value, dx: tf.grad(f)(x), dws: weights.map((w) => grads[w.name]!) };
  });
  try {
    return {
      dx: (await dx.data()) as Float32Array,
      dw: await Promise.all(model.trainableWeights.map(async (w, i) => ({ name: w.originalName, data: (await dws[i]!.data()) as Float32Array }))),
      loss: (await value.data())[0]!,
    };
  } finally {
    tf.dispose([value, dx, ...dws]);
  }
}
