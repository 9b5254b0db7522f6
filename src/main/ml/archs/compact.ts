/**
 * The default fast model: a plain stack of 3x3 convs at LR resolution with a
 * sub-pixel output, added to a fixed anchor: the reference bicubic upscale (default)
 * or nearest neighbour. The net only predicts the residual, so it starts at bicubic
 * quality and trains fast.
 * ESPCN/ABPN-class, ~50K params at the defaults: cheap enough to train on CPU.
 */
import * as tf from '@tensorflow/tfjs';
import { num, registerArch, type ArchOptions } from './registry.js';
import { BicubicAnchor, PixelShuffle, RepeatChannels } from './layers.js';

function build(scale: number, o: ArchOptions): tf.LayersModel {
  const channels = num(o, 'channels');
  const blocks = num(o, 'blocks');
  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  const conv = (filters: number, name: string, act: 'relu' | 'linear') => tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: act, name, kernelInitializer: 'heNormal' });
  let x = conv(channels, 'head', 'relu').apply(input) as tf.SymbolicTensor;
  for (let i = 0; i < blocks; i++) x = conv(channels, `body${i}`, 'relu').apply(x) as tf.SymbolicTensor;
  const tail = tf.layers.conv2d({ filters: 3 * scale * scale, kernelSize: 3, padding: 'same', name: 'tail', kernelInitializer: tf.initializers.varianceScaling({ scale: 0.1 }) }).apply(x) as tf.SymbolicTensor;
  const anchor = (o.anchor === 'nearest' || scale === 1 ? new RepeatChannels({ times: scale * scale, name: 'anchor' }) : new BicubicAnchor({ scale, name: 'anchor' })).apply(input) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'residual' }).apply([tail, anchor]) as tf.SymbolicTensor;
  const out = new PixelShuffle({ scale, name: 'shuffle' }).apply(sum) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: `compact_x${scale}` });
}

registerArch({
  id: 'compact',
  description: 'Plain 3x3 conv stack, pixel shuffle, residual over a fixed bicubic anchor (default, fast)',
  scales: [1, 2, 3, 4],
  defaults: { channels: 32, blocks: 5, anchor: 'bicubic' },
  build,
  receptiveRadius: (o) => num(o, 'blocks') + 2,
  // LR-size convs of `channels`; the output is 3 floats per output pixel.
  activationBytes: (scale, o) => 4 * Math.max(num(o, 'channels'), 3 * scale * scale),
});
