import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend.js';
import { buildArch, tilingFor } from '../../src/main/ml/archs/index.js';
import { upscaleTiled } from '../../src/main/ml/infer/tiling.js';
import { Trainer, type TrainerConfig } from '../../src/main/ml/train/trainer.js';
import { predictImage } from '../../src/main/ml/infer/predict.js';
import { batchLoss } from '../../src/main/ml/learning/step.js';
import { latentSampler } from '../../src/main/ml/learning/tasks.js';
import { makeBicubicPair, type PairImage } from '../../src/main/ml/train/dataset.js';
import { saveLayersModel } from '../../src/main/ml/store/modelStore.js';
import { synthImage, tmpDir } from '../helpers.js';
import { TINY_TRAINER_CONFIG, expectSameWeights as expectSame, straightAndResumed, weightValues as valuesOf } from '../trainerFixture.js';

const VAE = { channels: 4, latent: 3, levels: 2, blocks: 1 };
const pairs = [makeBicubicPair('a', synthImage(64, 48, 1), 2), makeBicubicPair('b', synthImage(48, 64, 2), 2)];
const val = [makeBicubicPair('v', synthImage(32, 32, 3), 2)];
const config: TrainerConfig = { ...TINY_TRAINER_CONFIG, arch: 'vae', archOptions: VAE, patch: 16, klWeight: 0.05, klWarmup: 4 };

/** Scale-1 autoencoder pairs (input = target), as the recipe's VAE stages train. */
function autoencoderPairs(ps: readonly PairImage[]): PairImage[] {
  return ps.map((p) => ({ name: p.name, lr: p.hr, hr: p.hr }));
}

describe('VAE', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('samples while training, uses the mean at inference (deterministic), and keeps its KL for the loss', () => {
    const m = buildArch('vae', 2, VAE);
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const a = m.predict(x) as tf.Tensor;
    const b = m.predict(x) as tf.Tensor;
    expect(a.shape).toEqual([2, 32, 32, 3]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const sampler = latentSampler(m)!;
    sampler.noiseSeed = 1;
    const t1 = m.apply(x, { training: true }) as tf.Tensor;
    const kl = sampler.lastKl!;
    expect(kl.dataSync()[0]).toBeGreaterThan(0);
    sampler.noiseSeed = 2;
    const t2 = m.apply(x, { training: true }) as tf.Tensor;
    // Different noise, different sample; the initial variance is small (e^-6), so close to the mean's output.
    expect(tf.max(tf.abs(tf.sub(t1, t2))).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, a, b, t1, t2, sampler.lastKl!]);
    m.dispose();
  });

  it('gradients through the reparameterised sample reach the encoder and match the cpu backend on wasm', async () => {
    const b = { batch: 2, patch: 8, scale: 2, lr: new Float32Array(2 * 8 * 8 * 3), hr: new Float32Array(2 * 16 * 16 * 3), cond: null, klWeight: 0.1, noiseSeed: 5 };
    for (let i = 0; i < b.lr.length; i++) b.lr[i] = ((i * 37) % 101) / 100;
    for (let i = 0; i < b.hr.length; i++) b.hr[i] = ((i * 53) % 97) / 96;
    const gradsOn = async (backend: string) => {
      await tf.setBackend(backend);
      const m = buildArch('vae', 2, VAE);
      // The same weights on both backends: a fixed pattern, not the initialiser's draw.
      m.setWeights(
        m.getWeights().map((w, i) =>
          tf.tensor(
            Float32Array.from({ length: w.size }, (_, k) => Math.sin(k * 0.37 + i) * 0.2),
            w.shape,
          ),
        ),
      );
      latentSampler(m)!.noiseSeed = b.noiseSeed;
      const weights = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads, value } = tf.variableGrads(() => {
        const r = batchLoss(m, 'l1', b, true);
        const total = r.total;
        r.kl?.dispose();
        return total;
      }, weights);
      const out = Object.fromEntries(m.trainableWeights.map((w) => [w.originalName, grads[(w.read() as tf.Variable).name]!.dataSync() as Float32Array]));
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      m.dispose();
      return { out, loss };
    };
    const wasm = await gradsOn('wasm');
    const cpu = await gradsOn('cpu');
    expect(wasm.loss).toBeCloseTo(cpu.loss, 4);
    const names = Object.keys(wasm.out);
    for (const n of ['enc_head/kernel', 'latent_mean/kernel', 'latent_logvar/kernel']) {
      const key = names.find((k) => k.endsWith(n))!;
      expect(key, n).toBeDefined();
      const g = wasm.out[key]!;
      expect(Math.max(...Array.from(g, Math.abs)), `${n} gets a gradient`).toBeGreaterThan(1e-7);
    }
    for (const n of names) {
      const a = wasm.out[n]!;
      const c = cpu.out[n]!;
      const scale = Math.max(1e-6, ...Array.from(c, Math.abs));
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - c[i]!) / scale);
      expect(worst, n).toBeLessThan(1e-3);
    }
  });

  it('trains with the KL weight warmed up from 0 and charts reconstruction and KL apart', async () => {
    const t = await Trainer.open(config, pairs, val, tmpDir());
    expect(t.klWeightAt(0)).toBe(0);
    expect(t.klWeightAt(2)).toBeCloseTo(0.025);
    expect(t.klWeightAt(10)).toBeCloseTo(0.05);
    const h = await t.run();
    for (const p of h) {
      expect(p.kl).toBeGreaterThan(0);
      expect(p.recon).toBeGreaterThan(0);
      expect(p.loss).toBeGreaterThanOrEqual(p.recon! - 1e-6);
    }
    // Step 1 has weight 0: the loss is the reconstruction alone.
    expect(h[0]!.loss).toBeCloseTo(h[0]!.recon!, 6);
    expect(h.some((p) => p.valPsnr !== undefined)).toBe(true);
    t.dispose();
  });

  it('resumes bit-identically (the latent noise is a function of the seed and step)', async () => {
    const { straight, resumed } = await straightAndResumed(config, pairs, val);
    expectSame(valuesOf(straight.model), valuesOf(resumed.model));
    expect(resumed.history.map((p) => [p.step, p.loss, p.kl])).toEqual(straight.history.map((p) => [p.step, p.loss, p.kl]));
    straight.dispose();
    resumed.dispose();
  });

  it('tiled inference equals whole-image inference (the receptive radius covers the encoder, latent and decoder)', async () => {
    for (const [id, scale, o] of [
      ['vae', 2, VAE],
      ['vae-mapping', 2, { ...VAE, mapChannels: 4, mapBlocks: 1 }],
    ] as const) {
      const m = buildArch(id, scale, o);
      m.setWeights(
        m.getWeights().map((w, i) =>
          tf.tensor(
            Float32Array.from({ length: w.size }, (_, k) => Math.sin(k * 0.91 + i) * 0.3),
            w.shape,
          ),
        ),
      );
      const t = tilingFor({ arch: id, scale, archOptions: o });
      const img = synthImage(72, 60, 5);
      const rgb = Uint8Array.from(img.data, (v) => Math.round(v));
      const whole = await upscaleTiled(m, rgb, 72, 60, 255, { scale, tile: 4096, overlap: t.overlap, multiple: t.multiple });
      const tiled = await upscaleTiled(m, rgb, 72, 60, 255, { scale, tile: 16, overlap: t.overlap, multiple: t.multiple });
      let worst = 0;
      for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(whole[i]! - tiled[i]!));
      expect(worst, id).toBeLessThanOrEqual(1);
      m.dispose();
    }
  });

  it('refuses a KL weight that is negative or not a number', async () => {
    await expect(Trainer.open({ ...config, klWeight: -1 }, pairs, val, tmpDir())).rejects.toThrow(/KL weight must be a number of 0 or more, not -1/);
    await expect(Trainer.open({ ...config, klWeight: Number.NaN }, pairs, val, tmpDir())).rejects.toThrow(/not NaN/);
  });

  it('latent recipe: the mapping stage loads both VAEs, trains only the mapping, resumes bit-identically, and needs its VAEs', async () => {
    // Stage 1 and 2 stand-ins: a clean VAE one level deeper (x1) and a degraded VAE (x1), briefly trained.
    const clean = await Trainer.open({ ...config, scale: 1, archOptions: { ...VAE, levels: 3 }, steps: 2, patch: 16 }, autoencoderPairs(pairs), [], tmpDir());
    await clean.run();
    const degraded = await Trainer.open({ ...config, scale: 1, steps: 2, patch: 16 }, autoencoderPairs(pairs.map((p) => ({ ...p, hr: p.lr }))), [], tmpDir());
    await degraded.run();
    const cleanDir = path.join(tmpDir(), 'clean');
    const degradedDir = path.join(tmpDir(), 'degraded');
    await saveLayersModel(clean.exportModel, cleanDir);
    await saveLayersModel(degraded.exportModel, degradedDir);
    const mapping: TrainerConfig = {
      ...config,
      arch: 'vae-mapping',
      archOptions: { ...VAE, mapChannels: 8, mapBlocks: 1 },
      initParts: [
        { dir: cleanDir, prefix: 'clean_' },
        { dir: degradedDir, prefix: 'deg_' },
      ],
    };
    const straight = await Trainer.open(mapping, pairs, val, tmpDir());
    // The frozen parts are the VAEs' weights; only map_* layers train.
    expect(Array.from(straight.model.getLayer('clean_dec_tail').getWeights()[0]!.dataSync())).toEqual(Array.from(clean.exportModel.getLayer('dec_tail').getWeights()[0]!.dataSync()));
    expect(Array.from(straight.model.getLayer('deg_latent_mean').getWeights()[0]!.dataSync())).toEqual(Array.from(degraded.exportModel.getLayer('latent_mean').getWeights()[0]!.dataSync()));
    expect(straight.model.trainableWeights.every((w) => w.originalName.startsWith('map_'))).toBe(true);
    const frozenBefore = Array.from(straight.model.getLayer('clean_dec_tail').getWeights()[0]!.dataSync());
    await straight.run();
    expect(Array.from(straight.model.getLayer('clean_dec_tail').getWeights()[0]!.dataSync())).toEqual(frozenBefore);
    const out = predictImage(straight.model, val[0]!.lr);
    expect([out.width, out.height]).toEqual([32, 32]);
    const dir = tmpDir();
    const first = await Trainer.open(mapping, pairs, val, dir);
    await first.run({ untilStep: 6 });
    first.dispose();
    const resumed = await Trainer.open(mapping, pairs, val, dir);
    await resumed.run();
    expectSame(valuesOf(straight.model), valuesOf(resumed.model));
    await expect(Trainer.open({ ...mapping, initParts: [{ dir: path.join(tmpDir(), 'none'), prefix: 'clean_' }] }, pairs, val, tmpDir())).rejects.toThrow(/needs the trained model in .*none.*train the earlier stages first/);
    await expect(Trainer.open({ ...mapping, initParts: undefined }, pairs, val, tmpDir())).rejects.toMatchObject({ message: expect.stringMatching(/last stage of the VAE latent recipe/), hint: { cli: expect.stringMatching(/--recipe vae-latent/) } });
    expect(fs.existsSync(path.join(cleanDir, 'model.json'))).toBe(true);
    for (const t of [clean, degraded, straight, resumed]) t.dispose();
  });
});
