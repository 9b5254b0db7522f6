/**
 * Face model import: GFPGAN (clean) files reproduce PyTorch within 1e-3 (fixtures made by
 * scripts/face-fixtures/gfpgan.py with Debian's torch: seeded random weights, three option
 * sets, saved as params_ema, params and a bare dict), and a face model of an unknown
 * variant is refused with what its keys look like.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { detectSource } from '../../src/main/ml/import/convert.js';
import { buildImportedModel } from '../../src/main/ml/import/buildModel.js';
import { resolveImportSource } from '../../src/main/ml/import/importModel.js';
import { buildArch, getTrainableArch } from '../../src/main/ml/archs/index.js';
import { RestoraError } from '../../src/shared/errors.js';
import { ROOT, maxDiff } from '../helpers.js';

const FIX = path.join(ROOT, 'test/fixtures/face-import');
const cases = JSON.parse(fs.readFileSync(path.join(FIX, 'gfpgan-cases.json'), 'utf8')) as Record<string, { size: number; numStyleFeat: number; differentW: boolean; sftHalf: boolean; channels: number }>;

describe('face model import (GFPGAN clean)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it.each(Object.keys(cases))('%s reproduces PyTorch within 1e-3', (file) => {
    const c = cases[file]!;
    const detected = detectSource(resolveImportSource(path.join(FIX, file)) as Parameters<typeof detectSource>[0]);
    expect(detected).toMatchObject({ arch: 'gfpgan', task: 'face', scale: 1 });
    expect(detected.archOptions).toMatchObject({ size: c.size, styleDim: c.numStyleFeat, differentW: c.differentW, sftHalf: c.sftHalf });
    expect(String(detected.archOptions.decoderChannels).split(',')[0]).toBe(String(c.channels));
    const io = new Float32Array(fs.readFileSync(path.join(FIX, file.replace(/\.pth$/, '.io.bin'))).buffer.slice(0));
    const n = c.size * c.size * 3;
    const model = buildImportedModel(detected, file);
    const got = tf.tidy(() => (model.predict(tf.tensor4d(io.subarray(0, n), [1, c.size, c.size, 3])) as tf.Tensor).dataSync());
    model.dispose();
    const want = io.subarray(n);
    expect(got.length).toBe(want.length);
    expect(maxDiff(got, want)).toBeLessThan(1e-3);
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.5);
  });

  it('survives a save and load as a layers model (custom layers serialise)', async () => {
    const file = 'gfpgan-clean-64.pth';
    const model = buildImportedModel(detectSource(resolveImportSource(path.join(FIX, file)) as Parameters<typeof detectSource>[0]), file);
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const back = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const a = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    const b = tf.tidy(() => (back.predict(x) as tf.Tensor).dataSync());
    expect(maxDiff(a, b)).toBe(0);
    model.dispose();
    back.dispose();
    x.dispose();
  });

  it('builds the released v1.3 / v1.4 configuration: 85M parameters, 512 px in and out', () => {
    const model = buildArch('gfpgan', 1, {});
    expect(model.countParams()).toBeGreaterThan(84e6);
    expect(model.countParams()).toBeLessThan(86e6);
    expect(model.inputs[0]!.shape).toEqual([null, 512, 512, 3]);
    expect(model.outputs[0]!.shape).toEqual([null, 512, 512, 3]);
    model.dispose();
  });

  it('refuses a face model of an unknown variant, naming the file and its keys', () => {
    const file = path.join(FIX, 'unknown-face.pth');
    let err: unknown;
    try {
      detectSource(resolveImportSource(file) as Parameters<typeof detectSource>[0]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RestoraError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/unsupported face model: keys look like .*stylegan_decoder\./);
  });

  it('is not trainable: a face restorer is imported, not trained here', () => {
    expect(() => getTrainableArch('gfpgan')).toThrow(/face restorer/);
  });
});
