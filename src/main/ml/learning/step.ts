/**
 * One optimisation step, backend-agnostic: the trainer runs it in-thread (wasm,
 * cpu) and the compute engine runs the very same function in a Chromium renderer
 * on WebGPU, so both follow one loss curve.
 */
import * as tf from '@tensorflow/tfjs';
import { runModel } from '../core/conditioning.js';
import { pixelLoss, type PixelLoss } from './losses.js';
import { bceDiceLoss, latentSampler, maskedPixelLoss } from './tasks.js';
import type { WeightEma } from '../core/ema.js';
import { setLearningRate } from '../core/optimizers.js';

export interface StepBatch {
  batch: number;
  patch: number;
  scale: number;
  /** LR patches [batch, patch, patch, 3] and HR patches [batch, patch*scale, patch*scale, 3], 0..1. */
  lr: Float32Array;
  hr: Float32Array;
  /** Whole-image statistics, one vector per item (conditioned models only). */
  cond: Float32Array | null;
  /** [batch, patch, patch, 1] damage mask: the detector's target, the inpainter's fourth input channel. */
  mask?: Float32Array | null;
  /** VAEs: the KL term's weight at this step (warmed up from 0) and the seed of the latent's noise. */
  klWeight?: number;
  noiseSeed?: number;
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

export function batchTensors(b: StepBatch): { x: tf.Tensor4D; y: tf.Tensor4D; mask: tf.Tensor4D | null } {
  const hp = b.patch * b.scale;
  return {
    x: tf.tensor4d(b.lr, [b.batch, b.patch, b.patch, 3]),
    y: tf.tensor4d(b.hr, [b.batch, hp, hp, 3]),
    mask: b.mask ? tf.tensor4d(b.mask, [b.batch, b.patch, b.patch, 1]) : null,
  };
}

/**
 * The training loss of one batch, by what the model does (tasks.ts): the pixel loss of a
 * restoration net (plus klWeight * KL for a VAE), weighted BCE + Dice for the damage
 * detector against the mask, the pixel loss inside the mask for the inpainter. `kl` is the
 * VAE's KL per latent element (null for other nets), for the chart; it outlives any
 * tidy scope and the caller disposes it.
 */
export function batchLoss(model: tf.LayersModel, loss: PixelLoss, b: StepBatch, training: boolean, input?: tf.Tensor4D): { total: tf.Scalar; kl: tf.Scalar | null } {
  const { x: x0, y, mask } = batchTensors(b);
  const x = input ?? x0;
  const inputChannels = (model.inputs[0]!.shape[3] as number | null) ?? 3;
  if (inputChannels === 4) {
    if (!mask) throw new Error('the inpainter needs a mask with each batch');
    return { total: maskedPixelLoss(loss, runModel(model, tf.concat([x, mask], 3), null, training), y, mask), kl: null };
  }
  const pred = runModel(model, x, b.cond, training);
  if (pred.shape[3] === 1) {
    if (!mask) throw new Error('the damage detector needs a mask with each batch');
    return { total: bceDiceLoss(pred, mask), kl: null };
  }
  const recon = pixelLoss(loss, pred, y);
  const sampler = training ? latentSampler(model) : null;
  const kl = sampler?.lastKl ?? null;
  if (sampler) sampler.lastKl = null;
  return { total: kl ? (tf.add(recon, tf.mul(b.klWeight ?? 0, kl)) as tf.Scalar) : recon, kl };
}

/**
 * One optimizer step (Adam, AdamW when weightDecay > 0, or SGD with momentum) on one batch, then the EMA update; returns the
 * loss as a scalar the caller reads (synchronously on wasm, asynchronously on a GPU) and disposes, and a VAE's KL term.
 */
export function optimiseStep(s: StepState, b: StepBatch, lr: number, weightDecay: number): { cost: tf.Scalar; kl: tf.Scalar | null } {
  setLearningRate(s.optimizer, lr);
  const vars = s.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const sampler = latentSampler(s.model);
  if (sampler) sampler.noiseSeed = b.noiseSeed ?? 0;
  let kl: tf.Scalar | null = null;
  const cost = s.optimizer.minimize(
    () => {
      const r = batchLoss(s.model, s.loss, b, true);
      kl = r.kl;
      return r.total;
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
  return { cost, kl };
}

/** d loss / d input and d loss / d every trainable weight, in the model's weight order. */
export async function lossGradients(model: tf.LayersModel, loss: PixelLoss, b: StepBatch): Promise<{ dx: Float32Array; dw: { name: string; data: Float32Array }[]; loss: number }> {
  const { value, dx, dws } = tf.tidy(() => {
    const { x } = batchTensors(b);
    const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const f = (input: tf.Tensor) => {
      const r = batchLoss(model, loss, b, true, input as tf.Tensor4D);
      r.kl?.dispose();
      return r.total;
    };
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
