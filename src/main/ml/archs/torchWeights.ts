/**
 * Loading PyTorch tensors into a built tfjs model, for architectures that map their own
 * weights (the face restorers): a plan names, for each weighted layer, its class and the
 * PyTorch tensors it takes; the architecture turns them into the layer's getWeights() order.
 * Every layer must get exactly its shapes, and every planned tensor must find its layer.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../shared/errors.js';

export interface TorchTensor {
  /** PyTorch's shape (OIHW for conv weights). */
  shape: number[];
  data: Float32Array;
}

export type WeightPlan<C extends string = string> = Map<string, { cls: C; tensors: TorchTensor[] }>;

export function loadPlan<C extends string>(model: tf.LayersModel, plan: WeightPlan<C>, toValues: (cls: C, tensors: TorchTensor[]) => tf.Tensor[], file: string, archName: string): void {
  const left = new Set(plan.keys());
  for (const layer of model.layers) {
    const current = layer.getWeights();
    if (current.length === 0) continue;
    const entry = plan.get(layer.name);
    if (!entry) throw new RestoraError('MODEL_INVALID', `${file}: no weights for ${layer.name} of ${archName}`, file);
    left.delete(layer.name);
    const values = tf.tidy(() => toValues(entry.cls, entry.tensors));
    try {
      const bad = values.findIndex((v, i) => i >= current.length || v.shape.join() !== current[i]!.shape.join());
      if (bad >= 0 || values.length !== current.length) {
        const i = bad >= 0 ? bad : Math.min(values.length, current.length);
        throw new RestoraError('MODEL_INVALID', `${file}: ${layer.name} weight ${i} has shape [${values[i]?.shape ?? 'none'}], ${archName} needs [${current[i]?.shape ?? 'none'}]`, file);
      }
      layer.setWeights(values);
    } finally {
      tf.dispose(values); // getWeights() gives the live variables: only the new values are ours
    }
  }
  if (left.size > 0) throw new RestoraError('MODEL_INVALID', `${file}: tensors with no place in ${archName}: ${[...left].slice(0, 5).join(', ')}`, file);
}

/**
 * PyTorch's pixel (un)shuffle orders the r*r*C channels colour-major (c*r*r + i*r + j);
 * Restora's, like tf.depthToSpace, phase-major ((i*r + j)*C + c). perm[restora] = torch.
 */
export function torchShuffleOrder(channels: number, r: number): number[] {
  const perm: number[] = [];
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) for (let c = 0; c < channels; c++) perm.push(c * r * r + i * r + j);
  return perm;
}

// ---- helpers for the detectors: tensors of a state dict by name ------------------

/** Moves `prefix.weight` / `prefix.bias` of `sd` to canonical layer `name`. */
export function take(sd: Map<string, TorchTensor>, prefix: string, name: string, layers: Map<string, { weight: TorchTensor; bias?: TorchTensor }>, file: string, bias = true): void {
  const weight = sd.get(`${prefix}.weight`);
  if (!weight) throw new RestoraError('MODEL_INVALID', `${file}: missing tensor ${prefix}.weight`, file);
  const b = sd.get(`${prefix}.bias`);
  if (bias && !b) throw new RestoraError('MODEL_INVALID', `${file}: missing tensor ${prefix}.bias`, file);
  layers.set(name, { weight, ...(b ? { bias: b } : {}) });
  sd.delete(`${prefix}.weight`);
  sd.delete(`${prefix}.bias`);
}

export function shapeOf(sd: Map<string, TorchTensor>, key: string, rank: number, file: string): number[] {
  const t = sd.get(key);
  if (!t) throw new RestoraError('MODEL_INVALID', `${file}: missing tensor ${key}`, file);
  if (t.shape.length !== rank) throw new RestoraError('MODEL_INVALID', `${file}: ${key} has shape [${t.shape}], expected ${rank} dimensions`, file);
  return t.shape;
}

/** How many numbered blocks the keys hold (0..n-1), or -1 when a number is missing. */
export function countIndices(keys: string[], re: RegExp): number {
  const seen = new Set<number>();
  for (const k of keys) {
    const m = re.exec(k);
    if (m) seen.add(Number(m[1]));
  }
  for (let i = 0; i < seen.size; i++) if (!seen.has(i)) return -1; // a gap: some block is missing
  return seen.size;
}
