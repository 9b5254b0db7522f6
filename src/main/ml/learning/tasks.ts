/**
 * What a model is trained to do, read from its architecture and options (no new setting
 * to keep in sync): 'restore' (image -> image, the SR and restoration nets), 'detect'
 * (image -> damage probability, the unet's mask head), 'inpaint' (image + mask -> filled
 * image, the unet's inpaint head). A VAE restores too, with a KL term on its latent.
 * Each task has its loss and its validation score.
 */
import * as tf from '@tensorflow/tfjs';
import type { ArchOptions } from '../archs/registry.js';
import { LatentSample } from '../archs/maskLayers.js';
import { pixelErrors, type PixelLoss } from './losses.js';
import { psnrOf } from '../eval/metrics.js';
import type { FloatImage } from '../../imaging/imresize.js';
import { RestoraError } from '../../../shared/errors.js';

export type TrainTask = 'restore' | 'detect' | 'inpaint';

export function taskOf(arch: string, options: ArchOptions): TrainTask {
  if (arch === 'unet' && options.head === 'mask') return 'detect';
  if (arch === 'unet' && options.head === 'inpaint') return 'inpaint';
  return 'restore';
}

/** The latent sampler of a VAE (null for every other net). */
export function latentSampler(model: tf.LayersModel): LatentSample | null {
  return (model.layers.find((l) => l instanceof LatentSample) as LatentSample | undefined) ?? null;
}

/**
 * Weight of damaged pixels in the detector's BCE: scratches cover a few per cent of a photo,
 * and a net that answers "no damage" everywhere would otherwise be nearly optimal. It makes the
 * net over-call damage (the bundled detector's best threshold came out at 0.9 after its first
 * phase and 0.75 after its second, never 0.5): the threshold is picked afterwards (bestThreshold). With 5 a 100-step net did not learn to find any.
 */
export const DAMAGE_POS_WEIGHT = 10;

/** Weighted binary cross-entropy plus the soft Dice loss (1 - Dice over the batch), for thin structures. */
export function bceDiceLoss(prob: tf.Tensor, target: tf.Tensor, posWeight = DAMAGE_POS_WEIGHT): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(prob, 1e-6, 1 - 1e-6);
    const bce = tf.neg(tf.mean(tf.add(tf.mul(posWeight, tf.mul(target, tf.log(p))), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))))));
    const dice = tf.sub(1, tf.div(tf.add(tf.mul(2, tf.sum(tf.mul(p, target))), 1), tf.add(tf.add(tf.sum(p), tf.sum(target)), 1)));
    return tf.add(bce, dice) as tf.Scalar;
  });
}

/** The pixel loss over the masked pixels only (the inpainter passes the rest through unchanged). */
export function maskedPixelLoss(kind: PixelLoss, pred: tf.Tensor, target: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(pixelErrors(kind, tf.sub(pred, target)), mask)), tf.add(tf.mul(tf.sum(mask), 3), 1e-6)) as tf.Scalar);
}

/** The inpainter's input: RGB 0..255 and the mask as a fourth channel (0 or 255, so both scale to 0..1 together). */
export function withMask(img: FloatImage, mask: ArrayLike<number>): FloatImage {
  const n = img.width * img.height;
  if (mask.length !== n) throw new RestoraError('USAGE', `The mask has ${mask.length} pixels; the photo has ${img.width}x${img.height} = ${n}.`);
  const data = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    data[i * 4] = img.data[i * img.channels]!;
    data[i * 4 + 1] = img.data[i * img.channels + 1]!;
    data[i * 4 + 2] = img.data[i * img.channels + 2]!;
    data[i * 4 + 3] = mask[i]! > 0 ? 255 : 0;
  }
  return { width: img.width, height: img.height, channels: 4, data };
}

/** Intersection and union of a probability map (0..255) thresholded at `threshold` (0..1) and a 0/1 mask. */
export function maskOverlap(prob: FloatImage, mask: ArrayLike<number>, threshold = 0.5): { intersection: number; union: number } {
  let intersection = 0;
  let union = 0;
  const cut = threshold * 255;
  for (let i = 0; i < mask.length; i++) {
    const p = prob.data[i * prob.channels]! >= cut;
    const t = mask[i]! > 0;
    if (p && t) intersection++;
    if (p || t) union++;
  }
  return { intersection, union };
}

/** The thresholds a detector's probability is cut at when one is picked. */
export const THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

/**
 * The threshold with the best IoU over a set of (probability map, mask) pairs, and that IoU.
 * The weighted BCE leans towards calling a pixel damaged, so the best cut is usually above
 * one half; it is picked on held-out photos and kept in the model's card.
 */
export function bestThreshold(items: readonly { prob: FloatImage; mask: ArrayLike<number> }[]): { threshold: number; iou: number } {
  let best = { threshold: 0.5, iou: -1 };
  for (const threshold of THRESHOLDS) {
    let intersection = 0;
    let union = 0;
    for (const { prob, mask } of items) {
      const o = maskOverlap(prob, mask, threshold);
      intersection += o.intersection;
      union += o.union;
    }
    const iou = union ? intersection / union : 1;
    if (iou > best.iou) best = { threshold, iou };
  }
  return best;
}

/** PSNR (RGB, 0..255) over the pixels where `mask` is set; Infinity when they match exactly. */
export function maskedPsnr(a: FloatImage, b: FloatImage, mask: ArrayLike<number>): number {
  let se = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    for (let c = 0; c < 3; c++) {
      const d = a.data[i * a.channels + c]! - b.data[i * b.channels + c]!;
      se += d * d;
      n++;
    }
  }
  return psnrOf(n ? se / n : 0);
}
