/**
 * SRResNet / SRGAN generator (Ledig et al. 2017): 9x9 head, B residual blocks
 * (conv3x3-64, BN, PReLU, conv3x3-64, BN, skip), a long skip, sub-pixel x2 steps
 * with PReLU, 9x9 tail. And the SRGAN discriminator: 8 conv3x3 layers 64 -> 512
 * (stride 2 every second), LeakyReLU 0.2, dense 1024, dense 1, sigmoid.
 */
import * as tf from '@tensorflow/tfjs';
import { num, registerArch, type ArchOptions } from './registry.js';
import { PixelShuffle } from './layers.js';

type S = tf.SymbolicTensor;
const conv = (x: S, filters: number, k: number, name: string, strides = 1): S => tf.layers.conv2d({ filters, kernelSize: k, strides, padding: 'same', name }).apply(x) as S;
const prelu = (x: S, name: string): S => tf.layers.prelu({ sharedAxes: [1, 2], name }).apply(x) as S;
const bn = (x: S, name: string): S => tf.layers.batchNormalization({ name, momentum: 0.9 }).apply(x) as S;

function buildGenerator(scale: number, o: ArchOptions): tf.LayersModel {
  const f = num(o, 'channels');
  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  const head = prelu(conv(input, f, 9, 'head'), 'head_prelu');
  let x = head;
  for (let b = 0; b < num(o, 'blocks'); b++) {
    let h = prelu(bn(conv(x, f, 3, `rb${b}_c1`), `rb${b}_bn1`), `rb${b}_prelu`);
    h = bn(conv(h, f, 3, `rb${b}_c2`), `rb${b}_bn2`);
    x = tf.layers.add({ name: `rb${b}_add` }).apply([x, h]) as S;
  }
  x = bn(conv(x, f, 3, 'body_tail'), 'body_tail_bn');
  x = tf.layers.add({ name: 'long_skip' }).apply([x, head]) as S;
  for (let u = 0; u < Math.log2(scale); u++) {
    x = conv(x, f * 4, 3, `up${u}`);
    x = new PixelShuffle({ scale: 2, name: `up${u}_shuffle` }).apply(x) as S;
    x = prelu(x, `up${u}_prelu`);
  }
  const out = conv(x, 3, 9, 'tail');
  return tf.model({ inputs: input, outputs: out, name: `srresnet_x${scale}` });
}

function buildDiscriminator(_scale: number, o: ArchOptions): tf.LayersModel {
  const p = num(o, 'patch');
  const input = tf.input({ shape: [p, p, 3], name: 'hr' });
  const lrelu = (x: S, name: string): S => tf.layers.leakyReLU({ alpha: 0.2, name }).apply(x) as S;
  let x = lrelu(conv(input, 64, 3, 'd0'), 'd0_lrelu');
  const plan: [number, number][] = [
    [64, 2],
    [128, 1],
    [128, 2],
    [256, 1],
    [256, 2],
    [512, 1],
    [512, 2],
  ];
  plan.forEach(([filters, stride], i) => {
    x = lrelu(bn(conv(x, filters, 3, `d${i + 1}`, stride), `d${i + 1}_bn`), `d${i + 1}_lrelu`);
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as S;
  x = lrelu(tf.layers.dense({ units: 1024, name: 'fc1' }).apply(x) as S, 'fc1_lrelu');
  const out = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'fc2' }).apply(x) as S;
  return tf.model({ inputs: input, outputs: out, name: 'srgan_discriminator' });
}

registerArch({
  id: 'srresnet',
  description: 'SRResNet / SRGAN generator: residual blocks with BN + PReLU, sub-pixel upsampling',
  scales: [2, 4, 8],
  defaults: { channels: 64, blocks: 16 },
  build: buildGenerator,
  receptiveRadius: (o) => 8 + 2 * num(o, 'blocks') + 2,
});

registerArch({
  id: 'srgan-discriminator',
  role: 'discriminator',
  description: 'SRGAN discriminator: 8 conv3x3 (64 -> 512, strided), LeakyReLU, dense 1024, dense 1, sigmoid',
  scales: [1, 2, 4, 8],
  defaults: { patch: 96 },
  build: buildDiscriminator,
  receptiveRadius: () => 0,
});
