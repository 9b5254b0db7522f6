/**
 * RealPLKSR: the community's "Real" variant (neosr, traiNNer-redux) of PLKSR, Partial Large
 * Kernel CNNs for Efficient Super-Resolution (Lee et al. 2024). All of it runs at LR size:
 * a 3x3 head, n_blocks PLK blocks, a 3x3 conv to 3 * scale^2 channels, plus the input
 * repeated scale^2 times (a residual over nearest-neighbour upscaling), then a pixel shuffle
 * (or, in the 'dysample' form, DySample's learnt bilinear resampling and a 1x1 conv to RGB).
 *
 * A PLK block is x + norm(refine(attn(lk(channel_mixer(layer_norm(x)))))):
 *   layer_norm  channels-last LayerNorm (eps 1e-6), only in the layer_norm form;
 *   channel_mixer  conv 3x3 dim -> 2 dim, Mish, conv 3x3 2 dim -> dim (DCCM);
 *   lk          a kernel_size^2 conv (17x17 in releases) over the first
 *               pdim = int(dim * split_ratio) channels, the others passed through;
 *   attn        with use_ea: x * sigmoid(conv 3x3 (x));
 *   refine      conv 1x1;
 *   norm        GroupNorm(norm_groups = 4, eps 1e-5), in the GroupNorm form (the released
 *               models'); GroupNorm's statistics span the whole input, so a tile's output
 *               depends a little on the tile (the tiler cross-fades tiles, leaving no seam).
 * Dropout sits between the last block and the last conv in training only.
 *
 * Layers are named after the PyTorch state-dict prefixes ('.' -> '_'): feats_0,
 * feats_N_channel_mixer_0, feats_N_lk_conv, ..., feats_{n_blocks+2}, to_img_offset.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { PixelShuffle, RepeatChannels } from '../layers.js';
import { GroupNorm } from '../codeformer/layers.js';
import { num, registerArch, type ArchOptions } from '../registry.js';
import { ChannelSlice, DySampler, RepeatInterleave, UncachedConv2D } from './layers.js';

type S = tf.SymbolicTensor;

export interface RealPlksrConfig {
  dim: number;
  blocks: number;
  kernel: number;
  /** Channels the large kernel convolves: int(dim * split_ratio). */
  pdim: number;
  ea: boolean;
  layerNorm: boolean;
  normGroups: number;
  dysample: boolean;
  dysampleGroups: number;
}

/** int(dim * split_ratio) as the reference computes it, forgiving the float error of a ratio read off a file (pdim / dim). */
export function partialChannels(dim: number, splitRatio: number): number {
  return Math.floor(dim * splitRatio + 1e-9);
}

/** The options as a checked config. */
export function realPlksrConfig(scale: number, o: ArchOptions): RealPlksrConfig {
  const bad = (why: string): never => {
    throw new RestoraError('USAGE', `realplksr: ${why}`);
  };
  const whole = (key: string, max: number) => {
    const v = num(o, key);
    if (!Number.isInteger(v) || v < 1 || v > max) bad(`option ${key} must be a whole number from 1 to ${max}, not ${v}`);
    return v;
  };
  const flag = (key: string) => {
    if (typeof o[key] !== 'boolean') bad(`option ${key} must be true or false, not ${JSON.stringify(o[key])}`);
    return o[key] as boolean;
  };
  const dim = whole('dim', 1024);
  const kernel = whole('kernel_size', 63);
  if (kernel % 2 === 0) bad(`kernel_size must be odd (the reference pads it by kernel_size // 2 each side), not ${kernel}`);
  const ratio = num(o, 'split_ratio');
  const pdim = partialChannels(dim, ratio);
  if (!(ratio > 0 && ratio <= 1) || pdim < 1) bad(`split_ratio must give at least one large-kernel channel of ${dim} (0 < ratio <= 1), not ${ratio}`);
  const layerNorm = flag('layer_norm');
  const normGroups = whole('norm_groups', 1024);
  if (!layerNorm && dim % normGroups !== 0) bad(`${dim} channels do not split into ${normGroups} GroupNorm groups`);
  const upsampler = o.upsampler;
  if (upsampler !== 'pixelshuffle' && upsampler !== 'dysample') bad(`upsampler must be 'pixelshuffle' or 'dysample', not ${JSON.stringify(upsampler)}`);
  const dysample = upsampler === 'dysample';
  const dysampleGroups = whole('dysample_groups', 1024);
  if (dysample && scale === 1) bad('the DySample upsampler needs a scale of 2 or more');
  if (dysample && (3 * scale * scale) % dysampleGroups !== 0) bad(`DySample's ${3 * scale * scale} channels do not split into ${dysampleGroups} groups`);
  return { dim, blocks: whole('n_blocks', 256), kernel, pdim, ea: flag('use_ea'), layerNorm, normGroups, dysample, dysampleGroups };
}

function build(scale: number, o: ArchOptions): tf.LayersModel {
  const c = realPlksrConfig(scale, o);
  // The 1x1 convs are tfjs's own (no indirection buffer on wasm); the others see UncachedConv2D.
  const conv = (x: S, filters: number, name: string, kernelSize: number, activation?: 'mish' | 'sigmoid', useBias = true): S =>
    kernelSize === 1 ? (tf.layers.conv2d({ filters, kernelSize, padding: 'same', name, useBias }).apply(x) as S) : (new UncachedConv2D({ filters, kernelSize, name, ...(activation ? { activation } : {}) }).apply(x) as S);
  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  let feat = conv(input, c.dim, 'feats_0', 3);
  for (let b = 1; b <= c.blocks; b++) {
    const p = `feats_${b}`;
    let y = c.layerNorm ? (tf.layers.layerNormalization({ axis: -1, epsilon: 1e-6, name: `${p}_layer_norm` }).apply(feat) as S) : feat;
    y = conv(y, 2 * c.dim, `${p}_channel_mixer_0`, 3, 'mish');
    y = conv(y, c.dim, `${p}_channel_mixer_2`, 3);
    const lk = conv(new ChannelSlice({ start: 0, size: c.pdim, name: `${p}_lk_head` }).apply(y) as S, c.pdim, `${p}_lk_conv`, c.kernel);
    if (c.pdim < c.dim) {
      const rest = new ChannelSlice({ start: c.pdim, size: c.dim - c.pdim, name: `${p}_lk_rest` }).apply(y) as S;
      y = tf.layers.concatenate({ axis: -1, name: `${p}_lk` }).apply([lk, rest]) as S;
    } else {
      y = lk;
    }
    if (c.ea) y = tf.layers.multiply({ name: `${p}_attn` }).apply([y, conv(y, c.dim, `${p}_attn_f_0`, 3, 'sigmoid')]) as S;
    y = conv(y, c.dim, `${p}_refine`, 1);
    if (!c.layerNorm) y = new GroupNorm({ groups: c.normGroups, epsilon: 1e-5, name: `${p}_norm` }).apply(y) as S;
    feat = tf.layers.add({ name: `${p}_add` }).apply([y, feat]) as S;
  }
  const r2 = scale * scale;
  const last = conv(feat, 3 * r2, `feats_${c.blocks + 2}`, 3);
  let out: S;
  if (c.dysample) {
    // DySample reads the channels as features in PyTorch's order: the input repeated channel by channel.
    const skip = new RepeatInterleave({ times: r2, name: 'repeat' }).apply(input) as S;
    const sum = tf.layers.add({ name: 'skip_add' }).apply([last, skip]) as S;
    const n = 2 * c.dysampleGroups * r2;
    const sampled = new DySampler({ scale, groups: c.dysampleGroups, name: 'to_img_sample' }).apply([sum, conv(sum, n, 'to_img_offset', 1), conv(sum, n, 'to_img_scope', 1, undefined, false)]) as S;
    out = conv(sampled, 3, 'to_img_end_conv', 1);
  } else if (scale === 1) {
    out = tf.layers.add({ name: 'skip_add' }).apply([last, input]) as S;
  } else {
    // The last conv's channels are in Restora's phase-major shuffle order (./torch.ts permutes
    // them on import): the input tiled r^2 times lands each colour on its own channel there.
    const skip = new RepeatChannels({ times: r2, name: 'repeat' }).apply(input) as S;
    const sum = tf.layers.add({ name: 'skip_add' }).apply([last, skip]) as S;
    out = new PixelShuffle({ scale, name: 'to_img' }).apply(sum) as S;
  }
  return tf.model({ inputs: input, outputs: out, name: `realplksr_x${scale}` });
}

/**
 * Context a tile gets at most (LR pixels). The exact receptive radius of a released model is
 * 310 LR pixels (see below): tiles with that much context would spend over 90% of their work
 * on it, on a net that already takes seconds per 100x100 px on wasm. chaiNNer, where the
 * community runs and judges these models, tiles with 16 px of overlap and blends the seams;
 * 32 px (two 17x17 kernels' reach) plus the tiler's cross-fade band is more than that.
 * GroupNorm's whole-input statistics make the output depend on the tile in any case.
 */
export const REALPLKSR_MAX_CONTEXT = 32;

/**
 * The exact receptive radius in LR pixels: the head's and the last conv's 3x3 (1 each) and,
 * per block, the channel mixer's two 3x3 (2), the large kernel (kernel_size // 2: 8 at 17)
 * and EA's 3x3 (1); the 1x1 convs, norms and products are per pixel (GroupNorm's statistics
 * aside). Released x4: 1 + 28 * (2 + 8 + 1) + 1 = 310. DySample adds its bilinear neighbour
 * (1) and its learnt offsets, which the weights do not bound (small in trained models).
 */
export function realPlksrRadius(o: ArchOptions): number {
  const k = num(o, 'kernel_size');
  const perBlock = 2 + Math.floor(k / 2) + (o.use_ea === true ? 1 : 0);
  return 2 + num(o, 'n_blocks') * perBlock + (o.upsampler === 'dysample' ? 1 : 0);
}

registerArch({
  id: 'realplksr',
  importName: 'RealPLKSR',
  description:
    'RealPLKSR (partial large-kernel CNN, neosr / traiNNer-redux): blocks of a doubled 3x3 channel mixer, a 17x17 conv over a quarter of the channels, element-wise attention and GroupNorm or LayerNorm; pixel shuffle or DySample; import RealPLKSR models into it',
  scales: [1, 2, 3, 4],
  defaults: { dim: 64, n_blocks: 28, kernel_size: 17, split_ratio: 0.25, use_ea: true, layer_norm: false, norm_groups: 4, upsampler: 'pixelshuffle', dysample_groups: 4 },
  build,
  // chaiNNer / spandrel run RealPLKSR on the image as it is, the convs zero-padding their edges.
  edgePad: 0,
  receptiveRadius: (o) => Math.min(realPlksrRadius(o), REALPLKSR_MAX_CONTEXT),
  // The widest single buffer per LR pixel: the channel mixer's 2 * dim floats (128 at 64), or
  // on wasm the large conv's XNNPACK indirection buffer, kernel_size^2 pointers (289 at 17:
  // ~1.2 KB per pixel, so 349 px tiles, 417 with their context; see UncachedConv2D). DySample gathers four
  // s^2 * 3s^2-float corner planes (768 floats at x4). Measured on wasm, the whole graph peaks
  // near 3.4 KB per pixel at the released size: a 349 px tile with its context and blend band
  // (~450 px) adds ~560 MB to the process (bench/realplksr.ts).
  activationBytes: (scale, o) => 4 * Math.max(2 * num(o, 'dim'), num(o, 'kernel_size') ** 2, o.upsampler === 'dysample' ? 3 * scale ** 4 : 0),
});
