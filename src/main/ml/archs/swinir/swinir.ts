/**
 * SwinIR (Liang et al., "SwinIR: Image Restoration Using Swin Transformer", ICCVW 2021):
 * a 3x3 conv (conv_first), LayerNorm'd tokens (patch_embed.norm; patch size 1, so the
 * "tokens" are the pixels and everything here stays NHWC), stages of Swin transformer layers
 * (RSTB: window attention on odd layers shifted by half a window, each stage closed by its
 * conv and a residual), a LayerNorm, conv_after_body plus the long skip from conv_first, and
 * one of the reference's reconstruction heads:
 *   'pixelshuffle' (classical SR): conv_before_upsample (3x3 + LeakyReLU 0.01), per x2 a
 *       3x3 conv to 4x the features + pixel shuffle (x3: one to 9x), conv_last;
 *   'pixelshuffledirect' (lightweight SR): one 3x3 conv to 3 * scale^2 + pixel shuffle;
 *   'nearest+conv' (real-world SR): conv_before_upsample, per x2 a nearest upsample + 3x3
 *       conv + LeakyReLU 0.2, conv_hr + LeakyReLU 0.2, conv_last;
 *   'none' (the reference's '': x1 denoising and JPEG): input + conv_last.
 * The resi connections ('1conv', or '3conv': 3x3 to C/4, LeakyReLU 0.2, 1x1, LeakyReLU 0.2,
 * 3x3 back) close each stage and the body. The input is normalised (x - rgb_mean) * imgRange
 * and the output mapped back by / imgRange + rgb_mean, as the reference does.
 *
 * Sides must be multiples of the window: the model pads bottom/right by reflection and crops
 * its output (the reference's check_image_size); tiling hands it aligned tiles, padded the
 * same way (padMode 'reflect').
 *
 * Layers are named after the PyTorch state-dict prefixes ('.' -> '_'): conv_first,
 * patch_embed_norm, layers_I_residual_group_blocks_J, layers_I_conv[_K], norm,
 * conv_after_body[_K], conv_before_upsample_0, upsample_K, conv_up1.., conv_hr, conv_last.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { PixelShuffle } from '../layers.js';
import { num, numList, registerArch, wholeNum, type ArchOptions } from '../registry.js';
import { CropToInput, PadToWindow, SwinirLayerNorm, SwinirNormalize, SwinTransformerBlock } from './layers.js';

type S = tf.SymbolicTensor;

export const SWINIR_UPSAMPLERS = ['pixelshuffle', 'pixelshuffledirect', 'nearest+conv', 'none'] as const;
export type SwinirUpsampler = (typeof SWINIR_UPSAMPLERS)[number];

/** The scales each reconstruction head can give. */
const HEAD_SCALES: Record<SwinirUpsampler, readonly number[]> = {
  pixelshuffle: [2, 3, 4, 8],
  pixelshuffledirect: [2, 3, 4, 8],
  'nearest+conv': [2, 4, 8],
  none: [1],
};

export interface SwinirConfig {
  embedDim: number;
  depths: number[];
  heads: number[];
  window: number;
  /** The MLP's hidden width, int(embedDim * mlpRatio) as the reference computes it. */
  hidden: number;
  upsampler: SwinirUpsampler;
  resiConnection: '1conv' | '3conv';
  features: number;
  imgRange: number;
  patchNorm: boolean;
}

function usage(message: string): never {
  throw new RestoraError('USAGE', `swinir: ${message}`);
}

/** The options read and checked (every build and the tiling read them through here). */
export function swinirConfig(o: ArchOptions, scale?: number): SwinirConfig {
  const embedDim = wholeNum(o, 'embedDim', 4096, 'swinir');
  const depths = numList(o, 'depths', 'swinir', false);
  const heads = numList(o, 'heads', 'swinir', false);
  if (heads.length !== depths.length) usage(`heads lists ${heads.length} stages, depths ${depths.length}`);
  if (depths.some((d) => d > 64) || depths.length > 64) usage('at most 64 stages of at most 64 layers');
  for (const h of heads) if (h > 64 || embedDim % h !== 0) usage(`embedDim ${embedDim} does not split into ${h} heads`);
  const window = wholeNum(o, 'window', 64, 'swinir');
  if (window < 2) usage('window must be at least 2 (odd layers shift by half a window)');
  const ratio = num(o, 'mlpRatio');
  if (!Number.isFinite(ratio) || ratio <= 0 || ratio > 16) usage(`mlpRatio must be a number in (0, 16], not ${ratio}`);
  // int(dim * mlp_ratio), tolerant of the float a ratio read off a file carries.
  const hidden = Math.max(1, Math.floor(embedDim * ratio + 1e-6));
  const upsampler = o.upsampler as SwinirUpsampler;
  if (!SWINIR_UPSAMPLERS.includes(upsampler)) usage(`upsampler must be one of ${SWINIR_UPSAMPLERS.join(', ')}, not ${JSON.stringify(o.upsampler)}`);
  const resiConnection = o.resiConnection;
  if (resiConnection !== '1conv' && resiConnection !== '3conv') usage(`resiConnection must be 1conv or 3conv, not ${JSON.stringify(resiConnection)}`);
  const features = wholeNum(o, 'features', 4096, 'swinir');
  const imgRange = num(o, 'imgRange');
  if (!Number.isFinite(imgRange) || imgRange <= 0 || imgRange > 65535) usage(`imgRange must be a positive number, not ${imgRange}`);
  if (scale !== undefined && !HEAD_SCALES[upsampler].includes(scale)) {
    usage(`the ${upsampler} head gives x${HEAD_SCALES[upsampler].join(', x')}, not x${scale}${scale === 1 ? ' (x1 models use upsampler none)' : ''}`);
  }
  return { embedDim, depths, heads, window, hidden, upsampler, resiConnection, features, imgRange, patchNorm: o.patchNorm !== false };
}

function build(scale: number, o: ArchOptions): tf.LayersModel {
  const c = swinirConfig(o, scale);
  const conv = (x: S, filters: number, name: string, kernelSize = 3): S => tf.layers.conv2d({ filters, kernelSize, padding: 'same', name }).apply(x) as S;
  const lrelu = (x: S, alpha: number, name: string): S => tf.layers.leakyReLU({ alpha, name }).apply(x) as S;
  const add = (a: S, b: S, name: string): S => tf.layers.add({ name }).apply([a, b]) as S;
  /** '1conv': one 3x3; '3conv': 3x3 to C/4, LeakyReLU 0.2, 1x1, LeakyReLU 0.2, 3x3 back (named as the Sequential's indices). */
  const resi = (x: S, name: string): S => {
    if (c.resiConnection === '1conv') return conv(x, c.embedDim, name);
    const q = Math.floor(c.embedDim / 4);
    const a = lrelu(conv(x, q, `${name}_0`), 0.2, `${name}_1`);
    const b = lrelu(conv(a, q, `${name}_2`, 1), 0.2, `${name}_3`);
    return conv(b, c.embedDim, `${name}_4`);
  };
  const layerNorm = (x: S, name: string): S => new SwinirLayerNorm({ name }).apply(x) as S;

  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  const padded = new PadToWindow({ window: c.window, name: 'pad_to_window' }).apply(input) as S;
  const x = new SwinirNormalize({ imgRange: c.imgRange, name: 'sub_mean' }).apply(padded) as S;
  const first = conv(x, c.embedDim, 'conv_first');
  let t = c.patchNorm ? layerNorm(first, 'patch_embed_norm') : first;
  c.depths.forEach((depth, i) => {
    const stageIn = t;
    for (let j = 0; j < depth; j++) {
      t = new SwinTransformerBlock({ heads: c.heads[i]!, window: c.window, shift: j % 2 === 1, hidden: c.hidden, name: `layers_${i}_residual_group_blocks_${j}` }).apply(t) as S;
    }
    t = add(resi(t, `layers_${i}_conv`), stageIn, `layers_${i}_add`);
  });
  const body = add(resi(layerNorm(t, 'norm'), 'conv_after_body'), first, 'body_add');

  let y: S;
  if (c.upsampler === 'pixelshuffle') {
    y = lrelu(conv(body, c.features, 'conv_before_upsample_0'), 0.01, 'conv_before_upsample_1');
    const steps = scale === 3 ? [3] : Array.from({ length: Math.log2(scale) }, () => 2);
    steps.forEach((r, k) => {
      y = conv(y, r * r * c.features, `upsample_${2 * k}`);
      y = new PixelShuffle({ scale: r, name: `upsample_${2 * k + 1}` }).apply(y) as S;
    });
    y = conv(y, 3, 'conv_last');
  } else if (c.upsampler === 'pixelshuffledirect') {
    y = new PixelShuffle({ scale, name: 'upsample_1' }).apply(conv(body, 3 * scale * scale, 'upsample_0')) as S;
  } else if (c.upsampler === 'nearest+conv') {
    y = lrelu(conv(body, c.features, 'conv_before_upsample_0'), 0.01, 'conv_before_upsample_1');
    for (let k = 1; k <= Math.log2(scale); k++) {
      y = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `up${k}_nearest` }).apply(y) as S;
      y = lrelu(conv(y, c.features, `conv_up${k}`), 0.2, `conv_up${k}_lrelu`);
    }
    y = conv(lrelu(conv(y, c.features, 'conv_hr'), 0.2, 'conv_hr_lrelu'), 3, 'conv_last');
  } else {
    y = add(x, conv(body, 3, 'conv_last'), 'residual_add');
  }
  const out = new SwinirNormalize({ imgRange: c.imgRange, inverse: true, name: 'add_mean' }).apply(y) as S;
  const cropped = new CropToInput({ scale, name: 'crop' }).apply([out, input]) as S;
  return tf.model({ inputs: input, outputs: cropped, name: `swinir_x${scale}` });
}

/**
 * Bytes per input pixel of the widest single tensor: a window's attention scores are
 * heads x N x N floats for its N = window^2 pixels, so heads * N per pixel (384 for the
 * released 6 heads at window 8), beside the widest plain activation (the MLP's hidden layer,
 * or q/k/v at C each). Counted together, as the score matrix and the activations feeding it
 * are alive at once; ~192 px tiles (~270 with their context) for the released models on wasm.
 */
function activationBytes(_scale: number, o: ArchOptions): number {
  const c = swinirConfig(o);
  return 4 * (Math.max(...c.heads) * c.window * c.window + Math.max(3 * c.embedDim, c.hidden));
}

registerArch({
  id: 'swinir',
  importName: 'SwinIR',
  description: 'SwinIR (Swin Transformer image restoration): shifted-window attention stages with residual convs; classical, lightweight and real-world upscalers and x1 denoisers; import SwinIR models into it',
  scales: [1, 2, 3, 4, 8],
  // The released classical x2 model (001_classicalSR_DF2K_s64w8_SwinIR-M_x2): 11.75 M parameters.
  defaults: { embedDim: 180, depths: '6,6,6,6,6,6', heads: '6,6,6,6,6,6', window: 8, mlpRatio: 2, upsampler: 'pixelshuffle', resiConnection: '1conv', features: 64, imgRange: 1, patchNorm: true },
  build,
  // Windows partition the tile: its sides (and origins) on the window grid, padded by
  // reflection as the reference pads (F.pad 'reflect').
  sizeMultiple: (_scale, o) => wholeNum(o, 'window', 64, 'swinir'),
  padMode: 'reflect',
  // The reference runs on the image as it is; no replicated border.
  edgePad: 0,
  // Strictly, attention reaches a window further per layer (36 layers: the whole tile), so no
  // overlap makes tiles exact; what matters is a pixel's own window and the shifted windows
  // across its edges, a window each way per pair of layers. Two windows of context (16 px at
  // window 8) plus the cross-fade band is more than the official test script's tiles get (they
  // overlap by 32 px, 16 each side) and keeps seams below what the eye or PSNR sees.
  receptiveRadius: (o) => 2 * wholeNum(o, 'window', 64, 'swinir'),
  activationBytes,
});
