/**
 * Restoration U-Net: the compact net's bicubic-anchored residual output, but the
 * body works at 1, 1/2 and 1/4 resolution. Old photos need context (blur up to
 * sigma 5, noise up to 50/255, faded colour): a plain 3x3 stack sees 7 px, this
 * one sees ~30 px for about 1.7x the compact net's FLOPs, because each 3x3 conv at
 * 1/4 resolution costs the same as one at full resolution but covers 4x the span.
 * Down- and up-sampling are a pixel (un)shuffle plus a 1x1 conv, so every conv is
 * stride 1: the fast wasm gradient path (kernels/wasmGradients.ts) covers them all.
 * Skips are additions, not concatenations, to keep the decoder convs narrow.
 * With `global: true` it also takes whole-image statistics (conditioning.ts): they
 * shift the 1/4-resolution features (so the body knows the noise level and how
 * faded the photo is) and set a per-channel gain/offset of the bicubic anchor (the
 * fade and yellowing themselves). Both start at zero, so a conditioned model
 * initialised from an unconditioned one computes the same image at step 0.
 */
import * as tf from '@tensorflow/tfjs';
import { num, registerArch, type ArchOptions } from './registry.js';
import { BicubicAnchor, ChannelAffine, PixelShuffle, PixelUnshuffle, RepeatChannels } from './layers.js';
import { GLOBAL_STATS } from '../core/conditioning.js';
import { MaskBlend, TakeChannels } from './maskLayers.js';

/**
 * What the U-Net's last layer gives: 'image' (the bicubic-anchored residual), 'mask' (one
 * sigmoid channel: scratch detection), or 'inpaint' (input is RGB + mask; the filled
 * image, pixels outside the mask passed through unchanged).
 */
export type UnetHead = 'image' | 'mask' | 'inpaint';

type S = tf.SymbolicTensor;

function build(scale: number, o: ArchOptions): tf.LayersModel {
  const c = num(o, 'channels');
  const mid = num(o, 'midBlocks');
  const head = (o.head ?? 'image') as UnetHead;
  if (head !== 'image' && (scale !== 1 || o.global)) throw new Error(`the unet's ${head} head works at the photo's own size (scale 1) without whole-image statistics`);
  const input = tf.input({ shape: [null, null, head === 'inpaint' ? 4 : 3], name: 'lr' });
  const conv = (x: S, filters: number, k: number, name: string, act: 'relu' | 'linear' = 'relu'): S => tf.layers.conv2d({ filters, kernelSize: k, padding: 'same', activation: act, name, kernelInitializer: 'heNormal' }).apply(x) as S;
  const add = (a: S, b: S, name: string): S => tf.layers.add({ name }).apply([a, b]) as S;

  const e1 = conv(conv(input, c, 3, 'head'), c, 3, 'enc1');
  const h2 = conv(new PixelUnshuffle({ scale: 2, name: 'down1_unshuffle' }).apply(e1) as S, 2 * c, 1, 'down1');
  const e2 = conv(h2, 2 * c, 3, 'enc2');
  let m = conv(new PixelUnshuffle({ scale: 2, name: 'down2_unshuffle' }).apply(e2) as S, 4 * c, 1, 'down2');
  const cond = o.global ? tf.input({ shape: [GLOBAL_STATS], name: 'stats' }) : null;
  const condFeatures = cond ? (tf.layers.dense({ units: 4 * c, activation: 'relu', name: 'cond_fc' }).apply(cond) as S) : null;
  if (condFeatures) {
    const shift = tf.layers.dense({ units: 4 * c, kernelInitializer: 'zeros', name: 'cond_mid' }).apply(condFeatures) as S;
    m = add(m, tf.layers.reshape({ targetShape: [1, 1, 4 * c], name: 'cond_mid_map' }).apply(shift) as S, 'cond_mid_add');
  }
  const m0 = m;
  for (let i = 0; i < mid; i++) m = conv(m, 4 * c, 3, `mid${i}`);
  m = add(m, m0, 'mid_skip');
  let d2 = new PixelShuffle({ scale: 2, name: 'up2_shuffle' }).apply(conv(m, 8 * c, 1, 'up2', 'linear')) as S;
  d2 = conv(add(d2, e2, 'skip2'), 2 * c, 3, 'dec2');
  let d1 = new PixelShuffle({ scale: 2, name: 'up1_shuffle' }).apply(conv(d2, 4 * c, 1, 'up1', 'linear')) as S;
  d1 = conv(add(d1, e1, 'skip1'), c, 3, 'dec1');
  if (head === 'mask') {
    const logits = tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', name: 'tail', activation: 'sigmoid' }).apply(d1) as S;
    return tf.model({ inputs: input, outputs: logits, name: 'unet_mask' });
  }
  const tail = tf.layers.conv2d({ filters: 3 * scale * scale, kernelSize: 3, padding: 'same', name: 'tail', kernelInitializer: tf.initializers.varianceScaling({ scale: 0.1 }) }).apply(d1) as S;
  const rgb = head === 'inpaint' ? (new TakeChannels({ start: 0, count: 3, name: 'rgb' }).apply(input) as S) : input;
  let anchor = (scale === 1 ? new RepeatChannels({ times: 1, name: 'anchor' }) : new BicubicAnchor({ scale, name: 'anchor' })).apply(rgb) as S;
  if (condFeatures) {
    const affine = tf.layers.dense({ units: 6, kernelInitializer: 'zeros', name: 'cond_affine' }).apply(condFeatures) as S;
    anchor = new ChannelAffine({ phases: scale * scale, name: 'anchor_affine' }).apply([anchor, affine]) as S;
  }
  let out = new PixelShuffle({ scale, name: 'shuffle' }).apply(add(tail, anchor, 'residual')) as S;
  if (head === 'inpaint') out = new MaskBlend({ name: 'blend' }).apply([out, input]) as S;
  return tf.model({ inputs: cond ? [input, cond] : input, outputs: out, name: `unet_x${scale}` });
}

registerArch({
  id: 'unet',
  description: 'Restoration U-Net at 1, 1/2, 1/4 resolution, ~30 px context, bicubic-anchored residual (old photos, noise, blur)',
  scales: [1, 2, 4],
  defaults: { channels: 32, midBlocks: 4, global: false },
  sizeMultiple: 4,
  build,
  // 3x3 convs: 4 at full resolution (1 px each), 2 at 1/2 (2 px), midBlocks at 1/4 (4 px), plus the 2x2 and 4x4 (un)shuffle blocks.
  receptiveRadius: (o) => 4 + 4 + 4 * num(o, 'midBlocks') + 6,
});
