import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { pixelShuffle } from '../../src/main/ml/archs/layers.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
type Case = { name: string; x: number[]; w: number[]; stride: number; pad: Pad };
const cases: Case[] = [
  { name: 'same s1 3x3', x: [2, 9, 11, 3], w: [3, 3, 3, 5], stride: 1, pad: 'same' },
  { name: 'valid s1 3x3', x: [3, 8, 7, 4], w: [3, 3, 4, 2], stride: 1, pad: 'valid' },
  { name: 'same s2 5x5 odd size', x: [2, 13, 9, 3], w: [5, 5, 3, 4], stride: 2, pad: 'same' },
  { name: 'valid s2 4x4', x: [2, 12, 10, 2], w: [4, 4, 2, 3], stride: 2, pad: 'valid' },
  { name: 'same s1 1x1', x: [4, 5, 6, 7], w: [1, 1, 7, 3], stride: 1, pad: 'same' },
  { name: 'same s1 even kernel', x: [2, 7, 9, 2], w: [4, 2, 2, 3], stride: 1, pad: 'same' },
  {
    name: 'explicit uneven padding s1 3x3',
    x: [3, 10, 8, 5],
    w: [3, 3, 5, 4],
    stride: 1,
    pad: [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ],
  },
  { name: "same s1 3x3, the default net's channels", x: [4, 12, 12, 32], w: [3, 3, 32, 32], stride: 1, pad: 'same' },
];

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / Math.max(den, 1e-12);
}

async function gradsOn(backend: string, c: Case, xv: Float32Array, wv: Float32Array, dyv: Float32Array) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
    const w = tf.tensor4d(wv, c.w as [number, number, number, number]);
    const f = (xx: tf.Tensor4D, ww: tf.Tensor4D) => tf.conv2d(xx, ww, c.stride, c.pad);
    const y = f(x, w);
    const dy = tf.tensor(dyv.subarray(0, y.size), y.shape);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor4D, b as tf.Tensor4D));
    const [dx, dw] = g([x, w], dy);
    return { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
}

describe('wasm gradient kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  for (const c of cases) {
    it(`conv2d ${c.name}: dx and dW within 1e-4 relative`, async () => {
      const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const rnd = (k: number) => Float32Array.from({ length: k }, () => Math.random() * 2 - 1);
      const xv = rnd(n(c.x));
      const wv = rnd(n(c.w));
      const dyv = rnd(n(c.x) * 4);
      const ref = await gradsOn('cpu', c, xv, wv, dyv);
      await tf.setBackend('wasm');
      // The stride-1 dW reads zero-copy views of its input: none may stay registered with the backend.
      const dataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
      const before = tf.memory().numTensors;
      const idsBefore = dataIds();
      const got = await gradsOn('wasm', c, xv, wv, dyv);
      expect(tf.memory().numTensors).toBe(before);
      expect(dataIds()).toBe(idsBefore);
      expect(got.dw.length).toBe(ref.dw.length);
      expect(relErr(got.dw, ref.dw)).toBeLessThan(1e-4);
      expect(relErr(got.dx, ref.dx)).toBeLessThan(1e-4);
    });
  }

  it('pixelShuffle matches depthToSpace and its gradient matches cpu', async () => {
    const xv = Float32Array.from({ length: 2 * 5 * 3 * 12 }, () => Math.random());
    const dyv = Float32Array.from({ length: 2 * 10 * 6 * 3 }, () => Math.random());
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(xv, [2, 5, 3, 12]);
        const y = pixelShuffle(x, 2);
        const ref = tf.depthToSpace(x, 2);
        const g = tf.grad((a: tf.Tensor) => pixelShuffle(a as tf.Tensor4D, 2))(x, tf.tensor4d(dyv, [2, 10, 6, 3]));
        return { y: y.dataSync() as Float32Array, ref: ref.dataSync() as Float32Array, g: g.dataSync() as Float32Array };
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(Array.from(wasm.y)).toEqual(Array.from(wasm.ref));
    expect(relErr(wasm.g, cpu.g)).toBeLessThan(1e-6);
  });
});
