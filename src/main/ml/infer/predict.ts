/** A model on a whole image at once (validation, evaluation, the teacher's labels): no tiles. */
import * as tf from '@tensorflow/tfjs';
import { PixelUnshuffle } from '../archs/layers.js';
import { globalStats, isConditioned, runModel } from '../core/conditioning.js';
import type { FloatImage } from '../../imaging/imresize.js';
import { mirrorPadBottomRight } from './tiling.js';

/** Input sides a model needs to be a multiple of: the product of its pixel-unshuffle factors. */
export function sizeMultipleOf(model: tf.LayersModel): number {
  return model.layers.reduce((m, l) => (l instanceof PixelUnshuffle ? m * l.scale : m), 1);
}

/** Runs `model` on a whole LR image (0..255) and returns the SR image (0..255, rounded). */
export function predictImage(model: tf.LayersModel, lr: FloatImage): FloatImage {
  const m = sizeMultipleOf(model);
  const padH = (m - (lr.height % m)) % m;
  const padW = (m - (lr.width % m)) % m;
  const out = tf.tidy(() => {
    let x = tf.tensor4d(lr.data, [1, lr.height, lr.width, lr.channels]).div(255) as tf.Tensor4D;
    // Sides a pixel-unshuffling net cannot take are mirrored out, and the output cropped back.
    if (padH || padW) x = mirrorPadBottomRight(x, padH, padW);
    let y = runModel(model, x, isConditioned(model) ? globalStats(lr.data, lr.width, lr.height, 255) : null);
    if (padH || padW) {
      const s = y.shape[1] / x.shape[1];
      y = y.slice([0, 0, 0, 0], [1, lr.height * s, lr.width * s, y.shape[3]]);
    }
    return y.clipByValue(0, 1).mul(255).round();
  }) as tf.Tensor4D;
  const data = out.dataSync() as Float32Array;
  const [, h, w, c] = out.shape;
  out.dispose();
  return { width: w, height: h, channels: c, data: Float32Array.from(data) };
}
