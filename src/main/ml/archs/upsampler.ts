/**
 * The seed design: a 2x encoder/decoder upsampler, and its 8x stack.
 * Encoder: three 5x5 stride-2 convs (3 -> 16 -> 64 -> 256, channels x4 per step),
 * each BN + ReLU. Decoder: three 4x4 stride-2 transposed convs with BN + ReLU
 * (back to the input size), then a 4x4 stride-2 transposed conv to RGB with tanh,
 * which gives the 2x output. Inputs must be a multiple of 8 px (tiling pads).
 * I/O in [0,1]; tanh's [-1,1] is mapped inside the graph.
 *
 * `residual: true` (the default) adds one thing the seed lacks: the stage's output
 * is the reference bicubic 2x of its input plus the net's tanh output (half range),
 * whose last layer starts near zero. The seed form (`residual: false`) must rebuild
 * the whole image through the 1/8-resolution bottleneck and scored 9.6 dB under
 * bicubic at 8x after 150 steps per stage (bench/README.md); with the skip every
 * stage starts at bicubic quality and learns only the detail bicubic misses.
 * `skips: true` (the default) adds the encoder's 1/2 and 1/4 resolution maps to the
 * decoder's maps of the same size (a U-Net): without them the residual stack still
 * added nothing over bicubic after 800 steps per stage, because every output detail
 * had to pass through the 1/8 bottleneck.
 */
import * as tf from '@tensorflow/tfjs';
import { num, registerArch, type ArchOptions } from './registry.js';
import { BicubicAnchor, PixelShuffle } from './layers.js';

/** Both archs' defaults; stackUpsamplers fills in from them too. */
const UPSAMPLER_DEFAULTS = { width: 16, residual: true, skips: true };

interface StageOptions {
  width: number;
  residual: boolean;
  skips: boolean;
}

function stage(x: tf.SymbolicTensor, prefix: string, { width, residual, skips }: StageOptions): tf.SymbolicTensor {
  let h = tf.layers.rescaling({ scale: 2, offset: -1, name: `${prefix}_in` }).apply(x) as tf.SymbolicTensor;
  const encoded: tf.SymbolicTensor[] = [];
  for (const [i, f] of [width, width * 4, width * 16].entries()) {
    h = tf.layers.conv2d({ filters: f, kernelSize: 5, strides: 2, padding: 'same', name: `${prefix}_down${i}` }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: `${prefix}_down${i}_bn` }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reLU({ name: `${prefix}_down${i}_relu` }).apply(h) as tf.SymbolicTensor;
    encoded.push(h);
  }
  for (const [i, f] of [width * 4, width, width].entries()) {
    h = tf.layers.conv2dTranspose({ filters: f, kernelSize: 4, strides: 2, padding: 'same', name: `${prefix}_up${i}` }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: `${prefix}_up${i}_bn` }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reLU({ name: `${prefix}_up${i}_relu` }).apply(h) as tf.SymbolicTensor;
    // U-Net skips: the 1/4 and 1/2 resolution decoder maps get the encoder's maps of the same size and width.
    const same = encoded[1 - i];
    if (skips && same) h = tf.layers.add({ name: `${prefix}_skip${i}` }).apply([h, same]) as tf.SymbolicTensor;
  }
  h = tf.layers
    .conv2dTranspose({
      filters: 3,
      kernelSize: 4,
      strides: 2,
      padding: 'same',
      activation: 'tanh',
      name: `${prefix}_out`,
      // Residual stages start close to plain bicubic.
      ...(residual ? { kernelInitializer: tf.initializers.varianceScaling({ scale: 0.01 }) } : {}),
    })
    .apply(h) as tf.SymbolicTensor;
  if (!residual) return tf.layers.rescaling({ scale: 0.5, offset: 0.5, name: `${prefix}_unit` }).apply(h) as tf.SymbolicTensor;
  const detail = tf.layers.rescaling({ scale: 0.5, offset: 0, name: `${prefix}_detail` }).apply(h) as tf.SymbolicTensor;
  const phases = new BicubicAnchor({ scale: 2, name: `${prefix}_anchor` }).apply(x) as tf.SymbolicTensor;
  const anchor = new PixelShuffle({ scale: 2, name: `${prefix}_anchor_shuffle` }).apply(phases) as tf.SymbolicTensor;
  return tf.layers.add({ name: `${prefix}_residual` }).apply([anchor, detail]) as tf.SymbolicTensor;
}

function buildStack(stages: number, o: ArchOptions): tf.LayersModel {
  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  let x: tf.SymbolicTensor = input;
  const options: StageOptions = { width: num(o, 'width'), residual: o.residual === true, skips: o.skips === true };
  for (let s = 0; s < stages; s++) x = stage(x, `s${s}`, options);
  return tf.model({ inputs: input, outputs: x, name: `upsampler${2 ** stages}x` });
}

registerArch({
  id: 'upsampler2x',
  description: 'Seed design: strided-conv encoder, transposed-conv decoder, 2x; plus a bicubic skip and U-Net skips unless residual/skips: false (inputs multiple of 8 px)',
  scales: [2],
  defaults: UPSAMPLER_DEFAULTS,
  sizeMultiple: 8,
  build: (_scale, o) => buildStack(1, o),
  receptiveRadius: () => 48,
});

registerArch({
  id: 'upsampler8x',
  description: 'Three upsampler2x stages stacked (64 -> 512), fine-tuned end to end',
  scales: [8],
  defaults: UPSAMPLER_DEFAULTS,
  sizeMultiple: 8,
  build: (_scale, o) => buildStack(3, o),
  receptiveRadius: () => 64,
});

/** Builds the 8x stack from three trained 2x stages (weights copied layer by layer). */
export function stackUpsamplers(stages: readonly tf.LayersModel[], options: ArchOptions = {}): tf.LayersModel {
  const stacked = buildStack(stages.length, { ...UPSAMPLER_DEFAULTS, ...options });
  stages.forEach((m, s) => {
    for (const layer of m.layers) {
      if (layer.name === 'lr') continue;
      const target = stacked.getLayer(layer.name.replace(/^s0_/, `s${s}_`));
      target.setWeights(layer.getWeights());
    }
  });
  return stacked;
}
