/**
 * RRDBNet, the generator of ESRGAN (Wang et al. 2018) and Real-ESRGAN (2021):
 * a 3x3 head, B residual-in-residual dense blocks (three dense blocks of five
 * 3x3 convs with growth G, LeakyReLU 0.2, each residual scaled by 0.2), a trunk
 * conv with a long skip, then nearest x2 + conv + LeakyReLU per upsampling step,
 * a 3x3 conv and the 3x3 output conv. Real-ESRGAN's x2 / x1 models pixel-unshuffle
 * the input by 2 / 4 first, so every variant runs the same x4 trunk.
 * Layers are named after Real-ESRGAN's state-dict keys ('.' -> '_') so imported
 * weights map by name.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { num, registerArch, type ArchOptions } from '../registry.js';
import { PixelUnshuffle, ScaledAdd } from '../layers.js';

type S = tf.SymbolicTensor;

/** The input pixel-unshuffle factor: the trunk upsamples 2^upsamples, the model `scale`. */
export function rrdbUnshuffle(scale: number, o: ArchOptions): number {
  const up = 2 ** num(o, 'upsamples');
  if (up % scale !== 0) throw new RestoraError('USAGE', `rrdbnet with ${num(o, 'upsamples')} upsampling steps cannot be built for x${scale}`);
  return up / scale;
}

function build(scale: number, o: ArchOptions): tf.LayersModel {
  const nf = num(o, 'features');
  const gc = num(o, 'growth');
  const unshuffle = rrdbUnshuffle(scale, o);
  const conv = (x: S, filters: number, name: string, lrelu = false): S => {
    const y = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name, kernelInitializer: tf.initializers.varianceScaling({ scale: 0.1, mode: 'fanIn', distribution: 'normal' }) }).apply(x) as S;
    return lrelu ? (tf.layers.leakyReLU({ alpha: 0.2, name: `${name}_lrelu` }).apply(y) as S) : y;
  };
  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  let x: S = input;
  if (unshuffle > 1) x = new PixelUnshuffle({ scale: unshuffle, name: 'unshuffle' }).apply(x) as S;
  const head = conv(x, nf, 'conv_first');
  let feat = head;
  for (let b = 0; b < num(o, 'blocks'); b++) {
    const blockIn = feat;
    for (let r = 1; r <= 3; r++) {
      const p = `body_${b}_rdb${r}`;
      const feats: S[] = [feat];
      for (let c = 1; c <= 4; c++) {
        const inp = feats.length === 1 ? feats[0]! : (tf.layers.concatenate({ axis: -1, name: `${p}_cat${c}` }).apply([...feats]) as S);
        feats.push(conv(inp, gc, `${p}_conv${c}`, true));
      }
      const last = conv(tf.layers.concatenate({ axis: -1, name: `${p}_cat5` }).apply([...feats]) as S, nf, `${p}_conv5`);
      feat = new ScaledAdd({ factor: 0.2, name: `${p}_res` }).apply([last, feat]) as S;
    }
    feat = new ScaledAdd({ factor: 0.2, name: `body_${b}_res` }).apply([feat, blockIn]) as S;
  }
  feat = tf.layers.add({ name: 'trunk_skip' }).apply([conv(feat, nf, 'conv_body'), head]) as S;
  for (let u = 1; u <= num(o, 'upsamples'); u++) {
    feat = tf.layers.upSampling2d({ size: [2, 2], name: `up${u}_nearest` }).apply(feat) as S;
    feat = conv(feat, nf, `conv_up${u}`, true);
  }
  const out = conv(conv(feat, nf, 'conv_hr', true), 3, 'conv_last');
  return tf.model({ inputs: input, outputs: out, name: `rrdbnet_x${scale}` });
}

registerArch({
  id: 'rrdbnet',
  importName: 'RRDBNet (ESRGAN, Real-ESRGAN x4plus / x2plus)',
  description: 'RRDBNet (ESRGAN / Real-ESRGAN generator): residual-in-residual dense blocks; import Real-ESRGAN and ESRGAN models into it',
  scales: [1, 2, 4, 8],
  defaults: { features: 64, blocks: 23, growth: 32, upsamples: 2 },
  sizeMultiple: (scale, o) => rrdbUnshuffle(scale, o),
  build,
  edgePad: 10,
  // The true receptive field is hundreds of pixels; contributions fade fast, and Real-ESRGAN's
  // own tiler uses 10 px of context. 16 px per unshuffle step keeps tile seams below 1/255.
  receptiveRadius: () => 16,
  // Its last convs run at output size with `features` channels (x4plus: 64 floats per output
  // pixel, 16 output pixels per input pixel): a 384 px tile would hold ~0.8 GB per activation.
  activationBytes: (scale, o) => 4 * num(o, 'features') * scale * scale,
});
