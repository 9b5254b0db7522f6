import * as tf from '@tensorflow/tfjs';
import type { PixelLoss } from '../../../shared/api.js';

export type { PixelLoss };

/** The loss of each element of a difference `d`. */
export function pixelErrors(kind: PixelLoss, d: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (kind === 'l1') return tf.abs(d);
    if (kind === 'mse') return tf.square(d);
    // Charbonnier: smooth L1, eps = 1e-3 as in LapSRN/EDVR.
    return tf.sqrt(tf.add(tf.square(d), 1e-6));
  });
}

export function pixelLoss(kind: PixelLoss, pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(pixelErrors(kind, tf.sub(pred, target)))) as tf.Scalar;
}
