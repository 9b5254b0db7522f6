/**
 * Per-kernel micro-benchmark of the default net's layer shape ([16,48,48,32], 3x3,
 * 32 -> 32) on wasm: forward conv, dx, dW and the small ops around them, in GFLOP/s
 * of a forward conv. Run once per thread count to see how XNNPACK scales:
 *   npx tsx bench/convKernels.ts 1 && npx tsx bench/convKernels.ts 2
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/ml/backend.js';
const threads = Number(process.argv[2] ?? 2);
await initBackend({ prefer: 'wasm', threads });
const x = tf.randomUniform([16, 48, 48, 32]) as tf.Tensor4D;
const w = tf.randomUniform([3, 3, 32, 32]) as tf.Tensor4D;
const dy = tf.randomUniform([16, 48, 48, 32]) as tf.Tensor4D;
function time(label: string, f: () => tf.Tensor, n = 8) {
  for (let i = 0; i < 2; i++) f().dispose();
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const r = f();
    r.dataSync();
    r.dispose();
  }
  const ms = (performance.now() - t) / n;
  const gflop = (2 * 16 * 48 * 48 * 9 * 32 * 32) / 1e9;
  console.log(`${label.padEnd(28)} threads ${threads}: ${ms.toFixed(1)} ms  ${(gflop / (ms / 1000)).toFixed(1)} GFLOP/s`);
}
time('conv fwd', () => tf.conv2d(x, w, 1, 'same'));
time('fused conv+bias+relu', () => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: tf.zeros([32]), activation: 'relu' }));
time('dx (conv2dTranspose)', () => tf.conv2dTranspose(dy, w, [16, 48, 48, 32], 1, 'same'));
time('dW (registered kernel)', () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 32] }) as tf.Tensor);
time('relu grad (mul step)', () => tf.tidy(() => tf.mul(dy, tf.step(x))));
time('sum over b,h,w (bias grad)', () => tf.sum(dy, [0, 1, 2]));
time('transpose [3,1,2,0]', () => tf.transpose(x, [3, 1, 2, 0]));
