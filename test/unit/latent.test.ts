import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend.js';
import { klToUnitGaussian, reparameterise } from '../../src/main/ml/core/latent.js';
import { Rng } from '../../src/main/ml/core/rng.js';

/** A standard normal sample (Box-Muller) from the seeded Rng. */
function normals(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const t = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

const MEAN = [0.5, -1.2, 0, 2];
const SIGMA = [1, 0.3, 2, 0.8];

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', threads: 1 });
});

describe('VAE latent pieces', () => {
  it('KL of a known Gaussian equals its closed form, summed over dimensions and averaged over the batch', () => {
    const closed = MEAN.reduce((s, m, i) => s + 0.5 * (SIGMA[i]! ** 2 + m * m - 1 - Math.log(SIGMA[i]! ** 2)), 0);
    const mean = tf.tensor2d([MEAN, MEAN], [2, 4]);
    const logVar = tf.tensor2d([SIGMA.map((s) => Math.log(s * s)), SIGMA.map((s) => Math.log(s * s))], [2, 4]);
    expect(klToUnitGaussian(mean, logVar).dataSync()[0]).toBeCloseTo(closed, 5);
    // The unit Gaussian itself: 0.
    expect(klToUnitGaussian(tf.zeros([3, 4]), tf.zeros([3, 4])).dataSync()[0]).toBeCloseTo(0, 7);
    tf.dispose([mean, logVar]);
  });

  it('the reparameterised sample has the asked mean and spread (Monte Carlo, 20,000 draws)', () => {
    const n = 20_000;
    const eps = tf.tensor2d(normals(n * 4, new Rng(3)), [n, 4]);
    const z = reparameterise(tf.tensor1d(MEAN), tf.tensor1d(SIGMA.map((s) => Math.log(s * s))), eps);
    const { mean, variance } = tf.moments(z, 0);
    const m = mean.dataSync();
    const v = variance.dataSync();
    for (let i = 0; i < 4; i++) {
      expect(m[i]!).toBeCloseTo(MEAN[i]!, 1);
      expect(Math.sqrt(v[i]!)).toBeCloseTo(SIGMA[i]!, 1);
    }
    tf.dispose([eps, z, mean, variance]);
  });

  it('gradients reach the encoder through the sample and the KL term: analytic, and the same on wasm and cpu', async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const meanV = tf.tensor2d([MEAN], [1, 4]);
      const logVarV = tf.tensor2d([SIGMA.map((s) => Math.log(s * s))], [1, 4]);
      const eps = tf.tensor2d([[0.3, -0.7, 1.1, 0.05]], [1, 4]);
      // A reconstruction-like term on z plus the KL term, as a VAE's loss is.
      const loss = (m: tf.Tensor, lv: tf.Tensor) => tf.add(tf.sum(tf.square(reparameterise(m, lv, eps))), klToUnitGaussian(m, lv)) as tf.Scalar;
      const [gm, glv] = tf.grads(loss)([meanV, logVarV]);
      const out = { dMean: Array.from(gm!.dataSync()), dLogVar: Array.from(glv!.dataSync()) };
      tf.dispose([meanV, logVarV, eps, gm!, glv!]);
      return out;
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    await tf.setBackend('wasm');
    const e = [0.3, -0.7, 1.1, 0.05];
    for (let i = 0; i < 4; i++) {
      const s = SIGMA[i]!;
      const z = MEAN[i]! + s * e[i]!;
      // d/dmean: 2z + mean;  d/dlogVar: 2z * (s e / 2) + 0.5 (s^2 - 1)
      const dMean = 2 * z + MEAN[i]!;
      const dLogVar = z * s * e[i]! + 0.5 * (s * s - 1);
      expect(wasm.dMean[i]!).toBeCloseTo(dMean, 4);
      expect(wasm.dLogVar[i]!).toBeCloseTo(dLogVar, 4);
      expect(Math.abs(wasm.dMean[i]! - cpu.dMean[i]!)).toBeLessThan(1e-5);
      expect(Math.abs(wasm.dLogVar[i]! - cpu.dLogVar[i]!)).toBeLessThan(1e-5);
      expect(Math.abs(wasm.dLogVar[i]!)).toBeGreaterThan(0); // the encoder's spread is trained too
    }
  });
});
