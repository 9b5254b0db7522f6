/**
 * SRVGGNetCompact (Real-ESRGAN's realesr-general-x4v3 / animevideov3): a 3x3 conv
 * and PReLU, `convs` more conv + PReLU pairs at LR size, a conv to 3*s*s channels,
 * pixel shuffle, plus the nearest-upsampled input. Layers are named after its
 * state-dict keys (body_0, body_1, ...) so imported weights map by name.
 */
import * as tf from '@tensorflow/tfjs';
import { num, registerArch, type ArchOptions } from '../registry.js';
import { PixelShuffle, RepeatChannels } from '../layers.js';

type S = tf.SymbolicTensor;

function build(scale: number, o: ArchOptions): tf.LayersModel {
  const nf = num(o, 'features');
  const convs = num(o, 'convs');
  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  let x: S = input;
  let i = 0;
  const conv = (filters: number, init?: ReturnType<typeof tf.initializers.varianceScaling>) => (x = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name: `body_${i++}`, ...(init ? { kernelInitializer: init } : {}) }).apply(x) as S);
  const prelu = () => (x = tf.layers.prelu({ sharedAxes: [1, 2], alphaInitializer: tf.initializers.constant({ value: 0.25 }), name: `body_${i++}` }).apply(x) as S);
  conv(nf);
  prelu();
  for (let c = 0; c < convs; c++) {
    conv(nf);
    prelu();
  }
  conv(3 * scale * scale, tf.initializers.varianceScaling({ scale: 0.1 }));
  // Nearest upsampling of the input = its channels repeated s*s times, then the same shuffle.
  const anchor = new RepeatChannels({ times: scale * scale, name: 'anchor' }).apply(input) as S;
  const sum = tf.layers.add({ name: 'residual' }).apply([x, anchor]) as S;
  const out = new PixelShuffle({ scale, name: 'shuffle' }).apply(sum) as S;
  return tf.model({ inputs: input, outputs: out, name: `srvgg_x${scale}` });
}

registerArch({
  id: 'srvgg',
  importName: 'SRVGGNetCompact (realesr-general-x4v3, animevideov3)',
  description: 'SRVGGNetCompact (Real-ESRGAN general-x4v3 / animevideov3): plain conv + PReLU stack, pixel shuffle over nearest upsampling',
  scales: [1, 2, 3, 4],
  defaults: { features: 64, convs: 32 },
  build,
  edgePad: 10,
  receptiveRadius: (o) => num(o, 'convs') + 2,
  // Every layer runs at LR size with `features` channels (the last conv's 3*s*s are fewer).
  activationBytes: (_scale, o) => 4 * num(o, 'features'),
});
