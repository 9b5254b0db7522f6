/** The composed nearest-upsampling gradient is the block sum, on every backend, where tfjs-backend-cpu's kernel is not. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { registerResizeNearestGradient, resizeNearestGradConfig } from '../../src/main/ml/kernels/resizeNearestGrad.js';

const [B, H, W, C] = [2, 4, 3, 5];

/** d/dx of sum(resize(x) * w): each input pixel gets the sum of w over the block it was copied into. */
function blockSums(w: Float32Array, sh: number, sw: number): Float32Array {
  const out = new Float32Array(B * H * W * C);
  for (let b = 0; b < B; b++) for (let i = 0; i < H * sh; i++) for (let j = 0; j < W * sw; j++) for (let c = 0; c < C; c++) out[((b * H + Math.floor(i / sh)) * W + Math.floor(j / sw)) * C + c]! += w[((b * H * sh + i) * W * sw + j) * C + c]!;
  return out;
}

function maxError(sh: number, sw: number, halfPixelCenters = false): number {
  return tf.tidy(() => {
    const x = tf.randomNormal([B, H, W, C], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([B, H * sh, W * sw, C], 0, 1, 'float32', 2);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [H * sh, W * sw], false, halfPixelCenters), w));
    const got = tf.grad(f)(x).dataSync() as Float32Array;
    const want = blockSums(w.dataSync() as Float32Array, sh, sw);
    return got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
  });
}

describe('nearest upsampling gradient', () => {
  let tfjsOwn: ReturnType<typeof registerResizeNearestGradient>;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
    tfjsOwn = registerResizeNearestGradient();
  });

  it.each(['wasm', 'cpu'])('is the block sum on %s for 2x2, 3x2 and half-pixel centres', async (backend) => {
    await tf.setBackend(backend);
    try {
      expect(maxError(2, 2)).toBeLessThan(1e-5);
      expect(maxError(3, 2)).toBeLessThan(1e-5);
      expect(maxError(2, 2, true)).toBeLessThan(1e-5);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('replaces a cpu kernel that is wrong (so the cpu reference of the gradient tests can be trusted)', async () => {
    await tf.setBackend('cpu');
    try {
      tf.registerGradient(tfjsOwn!);
      expect(maxError(2, 2)).toBeGreaterThan(0.1);
    } finally {
      tf.registerGradient(resizeNearestGradConfig);
      await tf.setBackend('wasm');
    }
  });
});
