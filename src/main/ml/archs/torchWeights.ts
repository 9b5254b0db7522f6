/**
 * Loading PyTorch tensors into a built tfjs model. Architectures with their own layers (the
 * face restorers, SPAN, the transformers) give a plan: for each weighted layer, its class and
 * the PyTorch tensors it takes, turned into the layer's getWeights() order. Plain conv + PReLU
 * archs give canonical layers (loadCanonical). Either way every layer must get exactly its
 * shapes, and every tensor must find its layer.
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

/** A conv's (or PReLU's) tensors under its canonical PyTorch-style name (body.0.rdb1.conv1). */
export type CanonicalLayers = Map<string, { weight: TorchTensor; bias?: TorchTensor }>;

/** A channel reorder where a PyTorch pixel (un)shuffle meets a conv: along the kernel's output (0) or input (1) axis. */
export type ChannelFixes = Map<string, { axis: 0 | 1; perm: number[] }>;

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Loads plain conv + PReLU archs (RRDBNet, SRVGGNetCompact) from canonical layers, whether
 * they came from a state dict or an ncnn graph: a layer named `a_b_c` takes canonical `a.b.c`;
 * OIHW kernels become HWIO after the channel reorder `fixes` names; PReLU slopes take the
 * layer's shape (one shared slope is spread). Every weighted layer must get its exact shape,
 * and every tensor must find a layer.
 */
export function loadCanonical(model: tf.LayersModel, layers: CanonicalLayers, fixes: ChannelFixes, file: string, layout: string): void {
  const byLayer = new Map([...layers].map(([k, v]) => [k.replaceAll('.', '_'), { canonical: k, ...v }]));
  for (const layer of model.layers) {
    const current = layer.getWeights();
    if (current.length === 0) continue;
    const src = byLayer.get(layer.name);
    if (!src) throw new RestoraError('MODEL_INVALID', `${file}: no weights for ${layer.name.replaceAll('_', '.')} of ${layout}`, file);
    byLayer.delete(layer.name);
    const shapes = current.map((t) => t.shape);
    let values: tf.Tensor[];
    if (shapes.length === 2 && shapes[0]!.length === 4) {
      const [kh, kw, ci, co] = shapes[0]!;
      if (!same(src.weight.shape, [co!, ci!, kh!, kw!]) || !src.bias || !same(src.bias.shape, [co!])) {
        throw new RestoraError('MODEL_INVALID', `${file}: ${src.canonical} has shape [${src.weight.shape}] (bias [${src.bias?.shape ?? 'none'}]), ${layout} needs [${[co, ci, kh, kw]}]`, file);
      }
      const fix = fixes.get(layer.name);
      values = tf.tidy(() => {
        let w: tf.Tensor = tf.tensor4d(src.weight.data, [co!, ci!, kh!, kw!]);
        if (fix) w = tf.gather(w, fix.perm, fix.axis);
        // (A gathered 1-D tensor keeps gather's internal 4-D shape on wasm, which a fused conv refuses as bias.)
        const bias = fix?.axis === 0 ? Float32Array.from(fix.perm, (k) => src.bias!.data[k]!) : src.bias!.data;
        return [w.transpose([2, 3, 1, 0]), tf.tensor1d(bias)];
      });
    } else if (shapes.length === 1 && layer.getClassName() === 'PReLU') {
      const c = shapes[0]!.reduce((a, b) => a * b, 1);
      const n = src.weight.data.length;
      if (n !== c && n !== 1) throw new RestoraError('MODEL_INVALID', `${file}: ${src.canonical} has ${n} PReLU slopes, the layer has ${c} channels`, file);
      values = [tf.tensor(n === 1 ? new Float32Array(c).fill(src.weight.data[0]!) : src.weight.data, shapes[0]!)];
    } else {
      throw new Error(`no weight conversion for layer ${layer.name} (${layer.getClassName()})`);
    }
    layer.setWeights(values);
    tf.dispose(values);
  }
  if (byLayer.size > 0)
    throw new RestoraError(
      'MODEL_INVALID',
      `${file}: tensors with no place in ${layout}: ${[...byLayer.values()]
        .map((v) => v.canonical)
        .slice(0, 5)
        .join(', ')}`,
      file,
    );
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
