/** The Tile-free batch-norm gradient gives tfjs's own gradients, through training-mode moments too. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { batchNormGradConfig, registerBatchNormGradient } from '../../src/main/ml/kernels/batchNormGrad.js';

describe('batch-norm gradient without Tile', () => {
  let tfjsOwn: ReturnType<typeof registerBatchNormGradient>;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
    tfjsOwn = registerBatchNormGradient();
  });

  function gradients() {
    return tf.tidy(() => {
      const x = tf.randomNormal([3, 5, 4, 6], 0.3, 1.2, 'float32', 1);
      const scale = tf.randomNormal([6], 1, 0.2, 'float32', 2);
      const offset = tf.randomNormal([6], 0, 0.2, 'float32', 3);
      const w = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 4);
      // As tf.layers.batchNormalization trains: batch moments, so gradients also flow through mean and variance.
      const f = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, o, s, 1e-3), w));
      };
      return tf
        .grads(f)([x, scale, offset])
        .map((t) => t.arraySync());
    });
  }

  it('matches tfjs for x, scale and offset', () => {
    expect(tfjsOwn).not.toBeNull();
    expect(tf.getGradient('FusedBatchNorm')).toBe(batchNormGradConfig);
    const ours = gradients();
    tf.registerGradient(tfjsOwn!);
    const theirs = gradients();
    tf.registerGradient(batchNormGradConfig);
    const flat = (v: unknown) => (Array.isArray(v) ? v.flat(4) : [v]) as number[];
    for (let i = 0; i < 3; i++) {
      const a = flat(ours[i]);
      const b = flat(theirs[i]);
      expect(a).toHaveLength(b.length);
      const maxAbs = Math.max(...b.map(Math.abs));
      const maxDiff = Math.max(...a.map((v, k) => Math.abs(v - b[k]!)));
      expect(maxDiff / maxAbs).toBeLessThan(1e-5);
    }
  });
});
