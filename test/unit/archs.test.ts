import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { buildArch, listArchs, stackUpsamplers } from '../../src/main/ml/archs/index.js';
import { loadLayersModel, saveLayersModel } from '../../src/main/ml/modelStore.js';
import { tmpDir } from '../helpers.js';

describe('architecture registry', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('registers every architecture of DESIGN.md', () => {
    expect(listArchs().map((a) => a.id).sort()).toEqual(['compact', 'srgan-discriminator', 'srresnet', 'upsampler2x', 'upsampler8x']);
  });

  it.each([
    ['compact', 2, {}, [1, 12, 10, 3], [1, 24, 20, 3]],
    ['compact', 4, {}, [2, 8, 8, 3], [2, 32, 32, 3]],
    ['upsampler2x', 2, {}, [1, 16, 24, 3], [1, 32, 48, 3]],
    ['upsampler8x', 8, {}, [1, 16, 8, 3], [1, 128, 64, 3]],
    ['srresnet', 4, { blocks: 2, channels: 16 }, [1, 10, 10, 3], [1, 40, 40, 3]],
    ['srgan-discriminator', 1, { patch: 32 }, [3, 32, 32, 3], [3, 1]],
  ] as const)('%s x%i maps %j to %j', (id, scale, opts, inShape, outShape) => {
    const model = buildArch(id, scale, opts);
    const y = tf.tidy(() => model.predict(tf.zeros(inShape as unknown as number[])) as tf.Tensor);
    expect(y.shape).toEqual(outShape);
    y.dispose();
    model.dispose();
  });

  it('the default compact net is in the 50-300K parameter class', () => {
    const m = buildArch('compact', 2);
    expect(m.countParams()).toBeGreaterThan(40_000);
    expect(m.countParams()).toBeLessThan(300_000);
    m.dispose();
  });

  it('srresnet has 16 residual blocks by default; the discriminator ends in 1024 -> 1 sigmoid', () => {
    const g = buildArch('srresnet', 4);
    expect(g.layers.filter((l) => /^rb\d+_add$/.test(l.name)).length).toBe(16);
    const d = buildArch('srgan-discriminator', 4, { patch: 96 });
    expect(d.layers.filter((l) => l.getClassName() === 'Conv2D').length).toBe(8);
    expect(d.getLayer('fc1').getConfig().units).toBe(1024);
    expect(d.getLayer('fc2').getConfig().activation).toBe('sigmoid');
    g.dispose();
    d.dispose();
  });

  it('three 2x stages stack into an 8x model that computes their composition', () => {
    const stages = [0, 1, 2].map(() => buildArch('upsampler2x', 2));
    const stacked = stackUpsamplers(stages);
    const x = tf.randomUniform([1, 8, 8, 3]);
    const chained = stages.reduce((h, m) => m.predict(h) as tf.Tensor, x as tf.Tensor);
    const direct = stacked.predict(x) as tf.Tensor;
    expect(direct.shape).toEqual([1, 64, 64, 3]);
    expect(tf.max(tf.abs(tf.sub(chained, direct))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('custom layers survive a save/load round trip', async () => {
    const m = buildArch('compact', 3, { channels: 8, blocks: 1 });
    const dir = tmpDir();
    await saveLayersModel(m, dir);
    const back = await loadLayersModel(dir);
    const x = tf.randomUniform([1, 5, 7, 3]);
    const d = tf.max(tf.abs(tf.sub(m.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor))).dataSync()[0]!;
    expect(d).toBe(0);
  });
});
