/**
 * GFPGAN's "clean" generator (Wang et al. 2021, GFPGANv1Clean, the architecture of
 * the released v1.3 and v1.4 files): a U-Net over the aligned face whose bottleneck
 * gives one style vector per decoder layer, and whose up path gives, at each
 * resolution, a scale and a shift for the spatial feature transform (SFT) of a
 * StyleGAN2 decoder. Input and output: a [B, S, S, 3] face in [0, 1] (S = 512 for the
 * released files); inside, the network works in [-1, 1] as trained. The output is not
 * clamped: the face step clamps when it writes pixels.
 *
 * Layers are named after the PyTorch state-dict keys ('.' -> '_'), see ./torch.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { num, registerArch, type ArchOptions } from '../registry.js';
import { Affine, ConstantInput, SpatialFeatureTransform, StyleConv, ToRGB, TorchResize } from './layers.js';

type S = tf.SymbolicTensor;

/** Channels per resolution 4, 8, ..., size, from an option written "512,512,...". */
export function channelList(o: ArchOptions, key: string, levels: number): number[] {
  const raw = o[key];
  const list = typeof raw === 'string' ? raw.split(',').map(Number) : [];
  if (list.length !== levels || list.some((c) => !Number.isInteger(c) || c < 1 || c > 4096)) {
    throw new RestoraError('USAGE', `gfpgan option ${key} must list ${levels} channel counts (resolutions 4 to ${2 ** (levels + 1)})`);
  }
  return list;
}

/** log2 of the face side, from 32 px (tests) to 1024 px. */
export function faceLevels(o: ArchOptions): number {
  const size = num(o, 'size');
  const log = Math.log2(size);
  if (!Number.isInteger(log) || log < 5 || log > 10) throw new RestoraError('USAGE', `gfpgan size must be a power of two from 32 to 1024, not ${size}`);
  return log;
}

function build(_scale: number, o: ArchOptions): tf.LayersModel {
  const log = faceLevels(o);
  const levels = log - 1; // resolutions 4 .. size
  const steps = log - 2; // down / up steps between size and 4
  const unet = channelList(o, 'unetChannels', levels);
  const dec = channelList(o, 'decoderChannels', levels);
  const styleDim = num(o, 'styleDim');
  const latents = 2 * log - 2;
  const sftHalf = o.sftHalf === true;
  const at = (list: number[], res: number) => list[Math.log2(res) - 2]!;

  const conv = (x: S, filters: number, kernelSize: number, name: string, lrelu = false, useBias = true): S => {
    const y = tf.layers.conv2d({ filters, kernelSize, padding: 'same', useBias, name }).apply(x) as S;
    return lrelu ? (tf.layers.leakyReLU({ alpha: 0.2, name: `${name}_lrelu` }).apply(y) as S) : y;
  };
  // conv1 (same width), resize, conv2 (to `out`), plus a resized 1x1 skip.
  const resBlock = (x: S, out: number, up: boolean, name: string): S => {
    const cin = x.shape[3]!;
    let y = conv(x, cin, 3, `${name}_conv1`, true);
    y = new TorchResize({ up, name: `${name}_resize` }).apply(y) as S;
    y = conv(y, out, 3, `${name}_conv2`, true);
    const skip = conv(new TorchResize({ up, name: `${name}_skip_resize` }).apply(x) as S, out, 1, `${name}_skip`, false, false);
    return tf.layers.add({ name: `${name}_add` }).apply([y, skip]) as S;
  };

  const size = 2 ** log;
  const input = tf.input({ shape: [size, size, 3], name: 'face' });
  let feat = conv(new Affine({ scale: 2, offset: -1, name: 'to_signed' }).apply(input) as S, at(unet, size), 1, 'conv_body_first', true);
  const skips: S[] = [];
  for (let i = 0; i < steps; i++) {
    feat = resBlock(feat, at(unet, size / 2 ** (i + 1)), false, `conv_body_down_${i}`);
    skips.unshift(feat);
  }
  feat = conv(feat, at(unet, 4), 3, 'final_conv', true);

  const flat = tf.layers.flatten({ name: 'style_flatten' }).apply(feat) as S;
  const styleCode =
    o.differentW === true
      ? tf.layers.reshape({ targetShape: [latents, styleDim], name: 'style_latents' }).apply(tf.layers.dense({ units: styleDim * latents, name: 'final_linear' }).apply(flat) as S)
      : tf.layers.repeatVector({ n: latents, name: 'style_latents' }).apply(tf.layers.dense({ units: styleDim, name: 'final_linear' }).apply(flat) as S);
  const code = styleCode as S;

  const conditions: [S, S][] = [];
  for (let j = 0; j < steps; j++) {
    const res = 2 ** (j + 3);
    feat = tf.layers.add({ name: `unet_skip_${j}` }).apply([feat, skips[j]!]) as S;
    feat = resBlock(feat, at(unet, res), true, `conv_body_up_${j}`);
    const c = at(unet, res);
    const sftOut = sftHalf ? at(dec, res) / 2 : at(dec, res);
    const branch = (kind: string) => conv(conv(feat, c, 3, `condition_${kind}_${j}_0`, true), sftOut, 3, `condition_${kind}_${j}_2`);
    conditions.push([branch('scale'), branch('shift')]);
  }

  const d = 'stylegan_decoder';
  let out = new ConstantInput({ channels: at(dec, 4), size: 4, name: `${d}_constant_input` }).apply(code) as S;
  out = new StyleConv({ filters: at(dec, 4), kernelSize: 3, styleIndex: 0, upsample: false, name: `${d}_style_conv1` }).apply([out, code]) as S;
  let rgb = new ToRGB({ filters: 3, kernelSize: 1, styleIndex: 1, upsample: false, name: `${d}_to_rgb1` }).apply([out, code]) as S;
  for (let k = 0; k < steps; k++) {
    const ch = at(dec, 2 ** (k + 3));
    out = new StyleConv({ filters: ch, kernelSize: 3, styleIndex: 1 + 2 * k, upsample: true, name: `${d}_style_convs_${2 * k}` }).apply([out, code]) as S;
    const [scale, shift] = conditions[k]!;
    out = new SpatialFeatureTransform({ half: sftHalf, name: `${d}_sft_${k}` }).apply([out, scale, shift]) as S;
    out = new StyleConv({ filters: ch, kernelSize: 3, styleIndex: 2 + 2 * k, upsample: false, name: `${d}_style_convs_${2 * k + 1}` }).apply([out, code]) as S;
    rgb = new ToRGB({ filters: 3, kernelSize: 1, styleIndex: 3 + 2 * k, upsample: true, name: `${d}_to_rgbs_${k}` }).apply([out, code, rgb]) as S;
  }
  const face = new Affine({ scale: 0.5, offset: 0.5, name: 'to_unit' }).apply(rgb) as S;
  return tf.model({ inputs: input, outputs: face, name: `gfpgan_${size}` });
}

/** The released v1.3 / v1.4 configuration (512 px, channel multiplier 2, narrow 1). */
export const GFPGAN_RELEASED: ArchOptions = {
  size: 512,
  styleDim: 512,
  unetChannels: '256,256,256,256,256,128,64,32',
  decoderChannels: '512,512,512,512,512,256,128,64',
  differentW: true,
  sftHalf: true,
};

registerArch({
  id: 'gfpgan',
  importName: 'GFPGAN v1.3 / v1.4',
  description: 'GFPGAN v1.3 / v1.4 (clean): face restoration on a 512 px aligned face; import-only',
  scales: [1],
  defaults: GFPGAN_RELEASED,
  role: 'face',
  sizeMultiple: (_s, o) => num(o, 'size'),
  build,
  receptiveRadius: (o) => num(o, 'size'),
});
