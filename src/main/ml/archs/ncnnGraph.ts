/**
 * An ncnn graph as the architectures see it (parsed and its .bin read by import/ncnn.ts):
 * layers in file order with their params, and each weighted layer's tensors. Each arch that
 * ncnn tools ship registers a detector (registerNcnnDetector in ./registry.ts) in its own
 * folder, beside its PyTorch one, mapping the graph onto the same canonical layers.
 */
import { RestoraError } from '../../../shared/errors.js';
import type { TorchTensor } from './torchWeights.js';

export interface NcnnLayer {
  type: string;
  name: string;
  bottoms: string[];
  tops: string[];
  /** Param id -> value; array params (id -23300-k in the file) are stored under k. */
  params: Map<number, number | number[]>;
}

export interface NcnnGraph {
  /** The .param file, for messages. */
  file: string;
  layers: NcnnLayer[];
  /** A weighted layer's tensors by layer name: a conv's [weight OIHW, bias?], a PReLU's [slopes]. */
  weights: Map<string, TorchTensor[]>;
}

/** A layer's scalar param `id` (ncnn's defaults when absent). */
export function ncnnParam(l: NcnnLayer, id: number, fallback: number): number {
  const v = l.params.get(id);
  return typeof v === 'number' ? v : fallback;
}

export function countLayers(g: NcnnGraph, type: string): number {
  return g.layers.filter((l) => l.type === type).length;
}

/** Refuses a graph that looks like `arch` but is not one Restora can map. */
export function ncnnMismatch(g: NcnnGraph, arch: string, why: string): never {
  throw new RestoraError('UNSUPPORTED', `${g.file}: unsupported architecture: the ncnn graph looks like ${arch}, but ${why}`, g.file);
}

/** The graph's convolutions, each checked to be a 3x3 'same' one (stride 1, pad 1, no dilation). */
export function sameConvs3x3(g: NcnnGraph, arch: string): NcnnLayer[] {
  const convs = g.layers.filter((l) => l.type === 'Convolution');
  for (const c of convs) {
    const k = ncnnParam(c, 1, 0);
    if (k !== 3 || ncnnParam(c, 11, k) !== 3 || ncnnParam(c, 3, 1) !== 1 || ncnnParam(c, 2, 1) !== 1 || ncnnParam(c, 4, 0) !== 1) ncnnMismatch(g, arch, `${c.name} is not a 3x3 'same' convolution`);
  }
  return convs;
}

/** A conv layer's weight and bias, for canonical layers. */
export function convTensors(g: NcnnGraph, l: NcnnLayer): { weight: TorchTensor; bias?: TorchTensor } {
  const [weight, bias] = g.weights.get(l.name)!;
  return { weight: weight!, ...(bias ? { bias } : {}) };
}
