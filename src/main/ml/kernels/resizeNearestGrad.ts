/**
 * The gradient of a nearest-neighbour upsampling by whole factors (Keras'
 * UpSampling2D, RRDBNet's upsampling steps): every input pixel was copied into an
 * sh x sw block, so its gradient is the block's sum. Composed from reshapes and two
 * rank-3 sums, it is exact on every backend. tfjs-backend-cpu 4.22's
 * ResizeNearestNeighborGrad kernel is wrong for more than one image or channel (max
 * error 5.3 against a brute-force block sum, test/resizeNearestGrad.test.ts), and the
 * cpu backend is the reference the gradient tests trust. Other resizes keep tfjs's own.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs';

let original: GradConfig | null = null;

export const resizeNearestGradConfig: GradConfig = {
  kernelName: 'ResizeNearestNeighbor',
  inputsToSave: ['images'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const g = dy as tf.Tensor4D;
    const [images] = saved as [tf.Tensor4D];
    const [b, h, w, c] = images.shape;
    const [, outH, outW] = g.shape;
    const { alignCorners } = attrs as unknown as { alignCorners: boolean };
    if (alignCorners || outH % h !== 0 || outW % w !== 0) return original!.gradFunc(dy, saved, attrs);
    const sh = outH / h;
    const sw = outW / w;
    return {
      images: () => {
        const rows = tf.sum(tf.reshape(g, [b * h, sh, w * sw * c]), 1);
        return tf.reshape(tf.sum(tf.reshape(rows, [b * h * w, sw, c]), 1), [b, h, w, c]);
      },
    };
  },
};

/** Installs the gradient (once); returns tfjs's own. */
export function registerResizeNearestGradient(): GradConfig | null {
  if (!original) {
    original = tf.getGradient('ResizeNearestNeighbor') ?? null;
    tf.registerGradient(resizeNearestGradConfig);
  }
  return original;
}
