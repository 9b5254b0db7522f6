/**
 * The imported architectures on the WebGPU engine (Chromium's SwiftShader in CI): the face
 * restorers (GFPGAN's modulated convs and SFT, CodeFormer's attention, codebook and fidelity
 * input, RestoreFormer++'s cross-attention and nearest code), SPAN, RealPLKSR (17x17 convs,
 * DySample), SwinIR (shifted windows, relative position bias) and DAT (spatial and channel
 * attention), each loaded from its PyTorch fixture and run through the page, within 1e-3 of
 * the wasm engine.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { LocalEngine } from '../../src/main/ml/engine/localEngine.js';
import { PageEngine } from '../../src/main/ml/engine/pageEngine.js';
import type { EngineRequest, WeightSpec } from '../../src/main/ml/engine/protocol.js';
import { readStateDict } from '../../src/main/ml/import/stateDict.js';
import { detectArchitecture, type DetectedModel } from '../../src/main/ml/import/detect.js';
import { detectCodeformer } from '../../src/main/ml/archs/codeformer/torch.js';
import { detectRestoreformer } from '../../src/main/ml/archs/restoreformer/torch.js';
import { buildImportedModel } from '../../src/main/ml/import/buildModel.js';
import { tilingFor } from '../../src/main/ml/archs/index.js';
import { ROOT } from '../helpers.js';
import { HAVE_CHROMIUM, call, seededArray } from './helpers.js';

const FACES = path.join(ROOT, 'test', 'fixtures', 'face-import');

/** A fixture through the importer's detection (the small fixtures' GroupNorm groups and heads given, as a state dict does not say them). */
function detected(file: string): DetectedModel {
  const sd = new Map(readStateDict(file));
  if (file.includes('codeformer')) return { ...detectCodeformer(sd, file, { groups: 4, heads: 4 })!, task: 'face' } as unknown as DetectedModel;
  if (file.includes('restoreformer')) return { ...detectRestoreformer(sd, file, { size: 32, groups: 4, heads: 2 })!, task: 'face' } as unknown as DetectedModel;
  return detectArchitecture(sd, file);
}

async function loadRequest(key: string, file: string): Promise<{ req: Extract<EngineRequest, { op: 'load' }>; side: number; scale: number }> {
  const d = detected(file);
  const model = buildImportedModel(d, file);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  // Windowed transformers take whole windows: the side is a multiple of the arch's grid.
  const m = tilingFor({ arch: d.arch, scale: d.scale, archOptions: d.archOptions }).multiple;
  const side = model.inputs[0]!.shape[1] ?? Math.ceil(16 / m) * m;
  model.dispose();
  return { req: { op: 'load', model: key, topology: artifacts!.modelTopology as object, weightSpecs: artifacts!.weightSpecs as WeightSpec[], weights: new Uint8Array(artifacts!.weightData as ArrayBuffer) }, side, scale: d.scale };
}

describe.skipIf(!HAVE_CHROMIUM)('imported architectures on the WebGPU engine', () => {
  let gpu: PageEngine;

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
    gpu = await PageEngine.start();
  }, 120_000);

  afterAll(async () => {
    await gpu?.close();
  });

  it.each([
    ['GFPGAN', path.join(FACES, 'gfpgan-clean-64.pth'), null],
    ['CodeFormer (w 0.3)', path.join(FACES, 'codeformer-small.pth'), 0.3],
    ['RestoreFormer++', path.join(FACES, 'restoreformer-small.pth'), null],
    ['SPAN x4', path.join(ROOT, 'test', 'fixtures', 'span', 'span-x4.pth'), null],
    ['RealPLKSR x4', path.join(ROOT, 'test', 'fixtures', 'realplksr', 'realplksr-x4.pth'), null],
    ['RealPLKSR x2 (DySample)', path.join(ROOT, 'test', 'fixtures', 'realplksr', 'realplksr-x2-dysample.pth'), null],
    ['SwinIR classical x2', path.join(ROOT, 'test', 'fixtures', 'swinir', 'swinir-classical-x2.pth'), null],
    ['SwinIR real-world x4', path.join(ROOT, 'test', 'fixtures', 'swinir', 'swinir-realworld-x4.pth'), null],
    ['DAT x2', path.join(ROOT, 'test', 'fixtures', 'dat', 'dat-x2.pth'), null],
  ] as const)('%s: within 1e-3 of wasm', async (_name, file, fidelity) => {
    await tf.setBackend('wasm');
    const local = new LocalEngine();
    const { req: load, side, scale } = await loadRequest('m', file);
    await call(local, load, 'loaded');
    await call(gpu, load, 'loaded');
    const predict: EngineRequest = { op: 'predict', model: 'm', x: seededArray(side * side * 3, 11), height: side, width: side, padH: 0, padW: 0, stats: fidelity === null ? null : Float32Array.of(fidelity), maxValue: 1e6 };
    const a = (await call(local, predict, 'predicted')).y as Float32Array;
    const b = (await call(gpu, predict, 'predicted')).y as Float32Array;
    expect(b.length).toBe(side * scale * side * scale * 3);
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!) / 1e6);
    expect(max).toBeLessThan(1e-3);
    expect((Math.max(...a) - Math.min(...a)) / 1e6).toBeGreaterThan(0.05);
    await call(local, { op: 'dispose', model: 'm' }, 'done');
    await call(gpu, { op: 'dispose', model: 'm' }, 'done');
  });
});
