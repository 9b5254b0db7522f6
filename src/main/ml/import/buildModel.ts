/**
 * Builds the Restora arch a detected model maps to and loads its weights:
 * PyTorch's OIHW conv kernels become tfjs's HWIO, PReLU slopes take the layer's
 * [1,1,C] shape. Every weighted layer must get a tensor of its exact shape.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../shared/errors.js';
import { buildArch } from '../archs/index.js';
import { torchShuffleOrder } from '../archs/torchWeights.js';
import type { DetectedModel } from './detect.js';

/** The channel reorders where a PyTorch pixel (un)shuffle meets a conv. */
function shuffleFixes(m: DetectedModel): Map<string, { axis: 0 | 1; perm: number[] }> {
  const fixes = new Map<string, { axis: 0 | 1; perm: number[] }>();
  if (m.arch === 'srvgg') {
    const last = `body_${2 * (Number(m.archOptions.convs) + 1)}`;
    fixes.set(last, { axis: 0, perm: torchShuffleOrder(3, m.scale) });
  } else {
    const r = 2 ** Number(m.archOptions.upsamples) / m.scale;
    if (r > 1) fixes.set('conv_first', { axis: 1, perm: torchShuffleOrder(3, r) });
  }
  return fixes;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export function buildImportedModel(m: DetectedModel, file: string): tf.LayersModel {
  const model = buildArch(m.arch, m.scale, m.archOptions);
  if (m.loadInto) {
    try {
      m.loadInto(model);
      return model;
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  const byLayer = new Map([...m.layers].map(([k, v]) => [k.replaceAll('.', '_'), { canonical: k, ...v }]));
  const fixes = shuffleFixes(m);
  try {
    for (const layer of model.layers) {
      const current = layer.getWeights();
      if (current.length === 0) continue;
      const src = byLayer.get(layer.name);
      if (!src) throw new RestoraError('MODEL_INVALID', `${file}: no weights for ${layer.name.replaceAll('_', '.')} of ${m.layout}`, file);
      byLayer.delete(layer.name);
      const shapes = current.map((t) => t.shape);
      let values: tf.Tensor[];
      if (shapes.length === 2 && shapes[0]!.length === 4) {
        const [kh, kw, ci, co] = shapes[0]!;
        if (!same(src.weight.shape, [co!, ci!, kh!, kw!]) || !src.bias || !same(src.bias.shape, [co!])) {
          throw new RestoraError('MODEL_INVALID', `${file}: ${src.canonical} has shape [${src.weight.shape}] (bias [${src.bias?.shape ?? 'none'}]), ${m.layout} needs [${[co, ci, kh, kw]}]`, file);
        }
        const fix = fixes.get(layer.name);
        values = tf.tidy(() => {
          // OIHW -> HWIO, after the channel reorder a pixel (un)shuffle next to this conv needs.
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
    if (byLayer.size > 0) throw new RestoraError('MODEL_INVALID', `${file}: tensors with no place in ${m.layout}: ${[...byLayer.values()].map((v) => v.canonical).slice(0, 5).join(', ')}`, file);
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}
