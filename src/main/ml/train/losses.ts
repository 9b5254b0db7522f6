import * as tf from '@tensorflow/tfjs';
import type { PixelLoss } from '../../../shared/api.js';

export type { PixelLoss };

export function pixelLoss(kind: PixelLoss, pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const d = tf.sub(pred, target);
    if (kind === 'l1') return tf.mean(tf.abs(d));
    if (kind === 'mse') return tf.mean(tf.square(d));
    // Charbonnier: smooth L1, eps = 1e-3 as in LapSRN/EDVR.
    return tf.mean(tf.sqrt(tf.add(tf.square(d), 1e-6)));
  }) as tf.Scalar;
}
