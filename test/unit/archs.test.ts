import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { buildArch, getArch, listArchs, listDetectors, listNcnnDetectors, stackUpsamplers } from '../../src/main/ml/archs/index.js';
import { pixelShuffle, pixelUnshuffle } from '../../src/main/ml/archs/layers.js';
import { predictImage, sizeMultipleOf } from '../../src/main/ml/infer/predict.js';
import { loadLayersModel, saveLayersModel } from '../../src/main/ml/store/modelStore.js';
import { imresize } from '../../src/main/imaging/imresize.js';
import { tmpDir } from '../helpers.js';

describe('architecture registry', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('registers every architecture of ../shared/DESIGN.md, plus the restoration U-Net, the VAE forms, the imported face restorers and the community upscalers', () => {
    expect(
      listArchs()
        .map((a) => a.id)
        .sort(),
    ).toEqual(['codeformer', 'compact', 'dat', 'gfpgan', 'realplksr', 'restoreformer', 'rrdbnet', 'span', 'srgan-discriminator', 'srresnet', 'srvgg', 'swinir', 'unet', 'upsampler2x', 'upsampler8x', 'vae', 'vae-mapping']);
  });

  it('imports through one registry: each importable architecture registers its own detector beside its definition', () => {
    const ids = listDetectors().map((d) => d.arch);
    expect(ids).toEqual(['rrdbnet', 'srvgg', 'gfpgan', 'codeformer', 'restoreformer', 'span', 'realplksr', 'swinir', 'dat']);
    for (const id of ids) expect(getArch(id).importName, id).toBeTruthy();
    // ncnn graphs too: each arch Upscayl ships maps its own graph (rrdbnet/ncnn.ts, srvgg/ncnn.ts).
    expect(listNcnnDetectors().map((d) => d.arch)).toEqual(['rrdbnet', 'srvgg']);
  });

  it.each([
    ['compact', 2, {}, [1, 12, 10, 3], [1, 24, 20, 3]],
    ['compact', 4, {}, [2, 8, 8, 3], [2, 32, 32, 3]],
    ['upsampler2x', 2, {}, [1, 16, 24, 3], [1, 32, 48, 3]],
    ['upsampler8x', 8, {}, [1, 16, 8, 3], [1, 128, 64, 3]],
    ['srresnet', 4, { blocks: 2, channels: 16 }, [1, 10, 10, 3], [1, 40, 40, 3]],
    ['srgan-discriminator', 1, { patch: 32 }, [3, 32, 32, 3], [3, 1]],
    ['unet', 2, {}, [2, 16, 12, 3], [2, 32, 24, 3]],
    ['unet', 1, { channels: 8, midBlocks: 1 }, [1, 8, 8, 3], [1, 8, 8, 3]],
    ['vae', 2, { channels: 4, latent: 2, blocks: 1 }, [1, 16, 12, 3], [1, 32, 24, 3]],
    ['vae', 1, { channels: 4, latent: 2, blocks: 1, levels: 3 }, [2, 16, 8, 3], [2, 16, 8, 3]],
    ['vae-mapping', 2, { channels: 4, latent: 2, blocks: 1, mapChannels: 4, mapBlocks: 1 }, [1, 8, 12, 3], [1, 16, 24, 3]],
    ['rrdbnet', 4, { features: 8, blocks: 1, growth: 4 }, [1, 6, 5, 3], [1, 24, 20, 3]],
    ['rrdbnet', 2, { features: 8, blocks: 1, growth: 4 }, [1, 6, 4, 3], [1, 12, 8, 3]],
    ['rrdbnet', 1, { features: 8, blocks: 1, growth: 4 }, [1, 8, 4, 3], [1, 8, 4, 3]],
    ['srvgg', 4, { features: 8, convs: 2 }, [1, 5, 7, 3], [1, 20, 28, 3]],
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

  it('an untrained residual upsampler2x is close to reference bicubic; the seed form (no bicubic or U-Net skips) is not', () => {
    const rng = tf.randomUniform([1, 4, 4, 3], 0, 255, 'float32', 7);
    // A smooth 16x16 photo-like input (bicubic 4x of random 4x4 values), in 0..255.
    const lr = imresize({ width: 4, height: 4, channels: 3, data: Float32Array.from(rng.dataSync()) }, 4, { uint8: true });
    const reference = imresize(lr, 2, { uint8: true });
    const meanAbs = (m: tf.LayersModel) => {
      const out = predictImage(m, lr);
      return out.data.reduce((a, v, i) => a + Math.abs(v - reference.data[i]!), 0) / out.data.length;
    };
    const residual = buildArch('upsampler2x', 2);
    const seed = buildArch('upsampler2x', 2, { residual: false, skips: false });
    const names = (m: tf.LayersModel) => m.layers.map((l) => l.name).filter((n) => /anchor$|skip\d$/.test(n));
    expect(names(residual)).toEqual(['s0_skip0', 's0_skip1', 's0_anchor']);
    expect(names(seed)).toEqual([]);
    expect(meanAbs(residual)).toBeLessThan(3);
    expect(meanAbs(seed)).toBeGreaterThan(20);
    tf.dispose([rng]);
    residual.dispose();
    seed.dispose();
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

  it('pixel unshuffle is the exact inverse of pixel shuffle (and puts each 2x2 block into channels)', () => {
    const x = tf.randomUniform([2, 6, 10, 5]) as tf.Tensor4D;
    const down = pixelUnshuffle(x, 2);
    expect(down.shape).toEqual([2, 3, 5, 20]);
    expect(tf.max(tf.abs(tf.sub(pixelShuffle(down, 2), x))).dataSync()[0]).toBe(0);
    // Channel (a*2 + b)*C + c of output pixel (i, j) is input pixel (2i + a, 2j + b), channel c.
    const xv = x.arraySync();
    const dv = down.arraySync();
    expect(dv[1]![2]![3]![(1 * 2 + 0) * 5 + 4]).toBe(xv[1]![2 * 2 + 1]![3 * 2]![4]);
  });

  it('the U-Net sees far more context than the compact net, and whole images of any size go through it', () => {
    const unet = buildArch('unet', 2);
    const compact = buildArch('compact', 2);
    expect(sizeMultipleOf(unet)).toBe(4);
    expect(sizeMultipleOf(compact)).toBe(1);
    // A point change 20 px away from the centre reaches the U-Net's centre output, not the compact net's.
    const probe = (m: tf.LayersModel) =>
      tf.tidy(() => {
        const base = tf.fill([1, 48, 48, 3], 0.5);
        const bumped = tf.add(base, tf.scatterND([[0, 24, 44, 0]], [0.5], [1, 48, 48, 3]));
        const d = tf.abs(tf.sub(m.predict(bumped) as tf.Tensor, m.predict(base) as tf.Tensor));
        return d.slice([0, 47, 47, 0], [1, 2, 2, 3]).max().dataSync()[0]!;
      });
    expect(probe(unet)).toBeGreaterThan(0);
    expect(probe(compact)).toBe(0);
    // 37x29 is no multiple of 4: predictImage mirrors it out and crops the output back.
    const img = { width: 37, height: 29, channels: 3 as const, data: new Float32Array(37 * 29 * 3).fill(100) };
    const out = predictImage(unet, img);
    expect([out.width, out.height]).toEqual([74, 58]);
    unet.dispose();
    compact.dispose();
  });
});
