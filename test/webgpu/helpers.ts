/** Shared by the WebGPU tests: seeded models as engine artifacts, seeded batches, comparisons. */
import * as tf from '@tensorflow/tfjs';
import { buildSeeded } from '../../src/main/ml/train/trainer.js';
import { findChromium } from '../../src/main/ml/engine/chromium.js';
import type { Engine, EngineRequest, WeightSpec } from '../../src/main/ml/engine/protocol.js';

/** CI installs Chromium, so there a missing one is a failure, not a skip. */
export const HAVE_CHROMIUM = findChromium() != null;
if (!HAVE_CHROMIUM && process.env.CI) throw new Error('CI must have Chromium for the WebGPU tests (.ci/run installs it)');

/** Every architecture that upscales (the GAN discriminator is tested by the trainer's own tests). */
export const ARCH_CASES: { arch: string; scale: number; options: Record<string, number | boolean> }[] = [
  { arch: 'compact', scale: 2, options: {} },
  { arch: 'compact', scale: 4, options: {} },
  { arch: 'upsampler2x', scale: 2, options: {} },
  { arch: 'srresnet', scale: 4, options: { blocks: 2, channels: 16 } },
  { arch: 'unet', scale: 2, options: { channels: 8, midBlocks: 1 } },
  { arch: 'unet', scale: 2, options: { channels: 8, midBlocks: 1, global: true } },
  { arch: 'rrdbnet', scale: 4, options: { features: 8, blocks: 1, growth: 4 } },
  { arch: 'rrdbnet', scale: 2, options: { features: 8, blocks: 1, growth: 4 } },
  { arch: 'srvgg', scale: 4, options: { features: 8, convs: 2 } },
];

export type LoadRequest = Extract<EngineRequest, { op: 'load' }>;

/** A seeded model of `arch` as a load request (what the worker sends for a model folder). */
export async function seededModel(key: string, arch: string, scale: number, options: Record<string, number | boolean>, seed = 7): Promise<LoadRequest> {
  const model = buildSeeded({ arch, scale, archOptions: options, seed });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  return { op: 'load', model: key, topology: artifacts!.modelTopology as object, weightSpecs: artifacts!.weightSpecs as WeightSpec[], weights: new Uint8Array(artifacts!.weightData as ArrayBuffer) };
}

export function seededArray(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/** max |a - b| / max(|b|, floor): the relative error of a whole tensor. */
export function relativeError(a: Float32Array, b: Float32Array, floor = 1e-6): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

export async function call<K extends string>(engine: Engine, req: EngineRequest, op: K): Promise<Record<string, unknown>> {
  const r = (await engine.call(req)) as { op: string } & Record<string, unknown>;
  if (r.op !== op) throw new Error(`expected ${op}, got ${r.op}`);
  return r;
}
