/**
 * DAT, the Dual Aggregation Transformer (Chen et al., ICCV 2023; zhengchen1999/DAT): a 3x3
 * head, LayerNorm, residual groups of blocks alternating adaptive spatial attention (two
 * window branches, rectangular windows split_size and transposed, half of the spatial blocks
 * on shifted windows) and adaptive channel attention, each followed by the spatial-gate FFN;
 * a conv after each group ('1conv' or '3conv') and after the body, then 'pixelshuffle'
 * (conv_before_upsample, pixel-shuffle stages at 64 features, conv_last; DAT, DAT-S, DAT-2)
 * or 'pixelshuffledirect' (one conv + pixel shuffle; DAT-light). The input is normalised
 * (x - rgb_mean) * img_range and the output mapped back.
 *
 * Layers are named after the PyTorch state-dict prefixes ('.' -> '_'): conv_first,
 * before_RG_1, layers_I_blocks_J_{norm1,attn,norm2,ffn}, layers_I_conv[_K], norm,
 * conv_after_body[_K], conv_before_upsample_0, upsample_K, conv_last.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { PixelShuffle } from '../layers.js';
import { num, numList, registerArch, wholeNum, type ArchOptions } from '../registry.js';
import { DatChannelAttention, DatLayerNorm, DatNormalize, DatSGFN, DatSpatialAttention } from './layers.js';

type S = tf.SymbolicTensor;

export const DAT_UPSAMPLERS = ['pixelshuffle', 'pixelshuffledirect'] as const;
export type DatUpsampler = (typeof DAT_UPSAMPLERS)[number];

export interface DatConfig {
  embedDim: number;
  depths: number[];
  heads: number[];
  /** split_size: [rows, columns] of branch 0's windows (branch 1's are transposed). */
  split: [number, number];
  /** The FFN's hidden width, int(embedDim * expansion) as the reference computes it. */
  hidden: number;
  qkvBias: boolean;
  resiConnection: '1conv' | '3conv';
  upsampler: DatUpsampler;
  features: number;
  imgRange: number;
}

function usage(message: string): never {
  throw new RestoraError('USAGE', `dat: ${message}`);
}

/** The reference's rule for the blocks on shifted windows: 2, 6, 10, ... in even groups, 0, 4, 8, ... in odd ones. */
export function datShifted(group: number, block: number): boolean {
  return group % 2 === 0 ? block > 0 && (block - 2) % 4 === 0 : block % 4 === 0;
}

/** The options read and checked (the build, the tiling and the importer read them through here). */
export function datConfig(o: ArchOptions): DatConfig {
  const embedDim = wholeNum(o, 'embedDim', 4096, 'dat');
  // DynamicPosBias is (embedDim / 2 // 4) // 4 wide: no width below 32.
  if (embedDim < 32 || embedDim % 2 !== 0) usage(`embedDim must be an even number of 32 or more, not ${embedDim}`);
  const depths = numList(o, 'depths', 'dat', false);
  const heads = numList(o, 'heads', 'dat', false);
  if (heads.length !== depths.length) usage(`heads lists ${heads.length} groups, depths ${depths.length}`);
  if (depths.length > 64 || depths.some((d) => d > 64)) usage('at most 64 groups of at most 64 blocks');
  for (const h of heads) {
    const h2 = Math.floor(h / 2);
    if (h < 2 || h > 64 || embedDim % h !== 0 || (embedDim / 2) % h2 !== 0) usage(`${h} heads do not divide ${embedDim} channels (and ${embedDim / 2} in two spatial branches)`);
  }
  const split = numList(o, 'splitSize', 'dat', false);
  if (split.length !== 2 || split.some((s) => s < 2 || s > 256)) usage(`splitSize must be two window sides from 2 to 256, as "8,32", not ${JSON.stringify(o.splitSize)}`);
  const expansion = num(o, 'expansion');
  const hidden = Math.floor(embedDim * expansion + 1e-9);
  if (!(expansion > 0) || hidden < 2 || hidden % 2 !== 0 || hidden > 4 * 4096) usage(`expansion ${expansion} gives an FFN width of ${hidden}: it must be even`);
  const resiConnection = o.resiConnection;
  if (resiConnection !== '1conv' && resiConnection !== '3conv') usage(`resiConnection must be 1conv or 3conv, not ${JSON.stringify(resiConnection)}`);
  const upsampler = o.upsampler;
  if (!DAT_UPSAMPLERS.includes(upsampler as DatUpsampler)) usage(`upsampler must be ${DAT_UPSAMPLERS.join(' or ')}, not ${JSON.stringify(upsampler)}`);
  const imgRange = num(o, 'imgRange');
  if (!(imgRange > 0 && imgRange <= 65535)) usage(`imgRange must be a positive number, not ${imgRange}`);
  return {
    embedDim,
    depths,
    heads,
    split: [split[0]!, split[1]!],
    hidden,
    qkvBias: o.qkvBias !== false,
    resiConnection,
    upsampler: upsampler as DatUpsampler,
    features: wholeNum(o, 'features', 4096, 'dat'),
    imgRange,
  };
}

function build(scale: number, o: ArchOptions): tf.LayersModel {
  const c = datConfig(o);
  const e = c.embedDim;
  const conv = (x: S, filters: number, name: string, kernelSize = 3): S => tf.layers.conv2d({ filters, kernelSize, padding: 'same', name }).apply(x) as S;
  const lrelu = (x: S, alpha: number, name: string): S => tf.layers.leakyReLU({ alpha, name }).apply(x) as S;
  const layerNorm = (x: S, name: string): S => new DatLayerNorm({ name }).apply(x) as S;
  const add = (a: S, b: S, name: string): S => tf.layers.add({ name }).apply([a, b]) as S;
  /** '1conv': one 3x3; '3conv': 3x3 to C/4, LeakyReLU 0.2, 1x1, LeakyReLU 0.2, 3x3 back. */
  const resiConv = (x: S, p: string): S => {
    if (c.resiConnection === '1conv') return conv(x, e, p);
    let y = lrelu(conv(x, Math.floor(e / 4), `${p}_0`), 0.2, `${p}_1`);
    y = lrelu(conv(y, Math.floor(e / 4), `${p}_2`, 1), 0.2, `${p}_3`);
    return conv(y, e, `${p}_4`);
  };

  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  const x = new DatNormalize({ imgRange: c.imgRange, name: 'normalize' }).apply(input) as S;
  const head = conv(x, e, 'conv_first');
  let y = layerNorm(head, 'before_RG_1');
  c.depths.forEach((depth, i) => {
    const groupIn = y;
    for (let j = 0; j < depth; j++) {
      const p = `layers_${i}_blocks_${j}`;
      const attn =
        j % 2 === 0
          ? new DatSpatialAttention({ heads: c.heads[i]!, splitH: c.split[0], splitW: c.split[1], shifted: datShifted(i, j), qkvBias: c.qkvBias, name: `${p}_attn` })
          : new DatChannelAttention({ heads: c.heads[i]!, qkvBias: c.qkvBias, name: `${p}_attn` });
      y = add(y, attn.apply(layerNorm(y, `${p}_norm1`)) as S, `${p}_add1`);
      y = add(y, new DatSGFN({ hidden: c.hidden, name: `${p}_ffn` }).apply(layerNorm(y, `${p}_norm2`)) as S, `${p}_add2`);
    }
    y = add(groupIn, resiConv(y, `layers_${i}_conv`), `layers_${i}_add`);
  });
  y = add(resiConv(layerNorm(y, 'norm'), 'conv_after_body'), head, 'body_add');
  let out: S;
  if (c.upsampler === 'pixelshuffle') {
    let u = lrelu(conv(y, c.features, 'conv_before_upsample_0'), 0.01, 'conv_before_upsample_1');
    // Upsample: (conv to 4F + pixel shuffle 2) per factor of 2, or conv to 9F + pixel shuffle 3.
    const stages = scale === 3 ? [3] : Array.from({ length: Math.round(Math.log2(scale)) }, () => 2);
    stages.forEach((r, k) => {
      u = conv(u, r * r * c.features, `upsample_${2 * k}`);
      u = new PixelShuffle({ scale: r, name: `upsample_${2 * k + 1}` }).apply(u) as S;
    });
    out = conv(u, 3, 'conv_last');
  } else {
    out = new PixelShuffle({ scale, name: 'upsample_1' }).apply(conv(y, 3 * scale * scale, 'upsample_0')) as S;
  }
  out = new DatNormalize({ imgRange: c.imgRange, inverse: true, name: 'denormalize' }).apply(out) as S;
  return tf.model({ inputs: input, outputs: out, name: `dat_x${scale}` });
}

/**
 * Bytes per input pixel of the widest tensors alive at once: a spatial branch's scores
 * (floor(heads/2) x window pixels per pixel: 3 x 256 = 768 floats for the released 8x32
 * windows) beside qkv (3C), or the FFN's hidden width beside its input, or an upsampling
 * stage (4F per pixel of its input, x4 the LR pixels at the second stage of x4). The released
 * DAT x2: 4 x (768 + 540) B, ~128 px tiles (256 with their context: ~200 MB of scores) on wasm.
 */
function activationBytes(scale: number, o: ArchOptions): number {
  const c = datConfig(o);
  const scores = Math.floor(Math.max(...c.heads) / 2) * c.split[0] * c.split[1];
  let up = 3 * scale * scale;
  if (c.upsampler === 'pixelshuffle') up = scale === 3 ? 9 * c.features : scale >= 2 ? c.features * scale * scale : c.features;
  return 4 * Math.max(scores + 3 * c.embedDim, c.hidden + c.embedDim, up);
}

registerArch({
  id: 'dat',
  importName: 'DAT',
  description: 'DAT (Dual Aggregation Transformer): residual groups alternating window spatial attention and channel attention with a spatial-gate FFN; DAT, DAT-S, DAT-2 and DAT-light; import DAT models into it',
  scales: [1, 2, 3, 4],
  // The released DAT x2 (DAT_x2.pth): 14.65 M parameters.
  defaults: { embedDim: 180, depths: '6,6,6,6,6,6', heads: '6,6,6,6,6,6', splitSize: '8,32', expansion: 4, qkvBias: true, resiConnection: '1conv', upsampler: 'pixelshuffle', features: 64, imgRange: 1 },
  build,
  // The reference zero-pads q/k/v to a multiple of max(split) inside every spatial block, and
  // the layers here do the same, so the model is exact at any size: tiles start on that grid
  // (whole windows) and are not padded, so the photo's last row and column of windows are
  // padded as the reference pads them.
  sizeMultiple: (_scale, o) => Math.max(...datConfig(o).split),
  padMode: 'inside',
  // The reference runs on the image as it is; no replicated border.
  edgePad: 0,
  // Channel attention and the interactions' average pooling are global, and window attention
  // reaches a further half window per shifted block, so no overlap makes tiles exact. What
  // matters most is a pixel's own windows and the shifted ones across its edges: one long
  // window side of context (the 2 px margin tilingFor adds makes it 32 px at 8x32 windows:
  // one long side, four short ones), on the window grid, plus the cross-fade band.
  receptiveRadius: (o) => Math.max(...datConfig(o).split) - 2,
  activationBytes,
});
