/**
 * A narrow discriminator with the layer names of `srgan-discriminator` (d<i>_lrelu,
 * fc1_lrelu, fc2), so GAN tests run in seconds instead of minutes on CPU.
 */
import * as tf from '@tensorflow/tfjs';
import { listArchs, num, registerArch } from '../../src/main/ml/archs/index.js';

type S = tf.SymbolicTensor;

if (!listArchs().some((a) => a.id === 'tiny-disc')) {
  registerArch({
    id: 'tiny-disc',
    description: 'test-only narrow SRGAN-style discriminator',
    scales: [1],
    defaults: { patch: 16 },
    receptiveRadius: () => 0,
    build: (_scale, o) => {
      const p = num(o, 'patch');
      const input = tf.input({ shape: [p, p, 3] });
      const lrelu = (x: S, name: string): S => tf.layers.leakyReLU({ alpha: 0.2, name }).apply(x) as S;
      let x = lrelu(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'd0' }).apply(input) as S, 'd0_lrelu');
      const plan: [number, number][] = [
        [4, 2],
        [6, 1],
        [6, 2],
        [8, 1],
        [8, 2],
        [8, 1],
        [8, 2],
      ];
      plan.forEach(([filters, strides], i) => {
        const c = tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', name: `d${i + 1}` }).apply(x) as S;
        x = lrelu(tf.layers.batchNormalization({ name: `d${i + 1}_bn`, momentum: 0.9 }).apply(c) as S, `d${i + 1}_lrelu`);
      });
      x = tf.layers.flatten().apply(x) as S;
      x = lrelu(tf.layers.dense({ units: 16, name: 'fc1' }).apply(x) as S, 'fc1_lrelu');
      const out = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'fc2' }).apply(x) as S;
      return tf.model({ inputs: input, outputs: out });
    },
  });
}
