/**
 * tfjs's gradient for FusedBatchNorm builds d/dx by tiling the per-channel
 * 1/sqrt(var + eps) out to the full activation shape (a Tile kernel writing a
 * whole activation-sized tensor per BN layer and step: 12% of an srresnet training
 * step on wasm), then multiplying. The same values come from one broadcast multiply
 * by the per-channel factor scale / sqrt(var + eps). The other gradients are tfjs's
 * formulas, with the per-channel factors applied after the reductions.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs';

export const batchNormGradConfig: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const g = dy as tf.Tensor;
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const perChannel = mean.rank === 1;
    const axes = perChannel ? [...Array(x.rank - 1).keys()] : [];
    const reduce = (t: tf.Tensor) => (perChannel ? tf.sum(t, axes) : t);
    const rstd = tf.rsqrt(tf.add(variance, varianceEpsilon));
    const scaleValue = scale ?? tf.scalar(1);
    const xMinusMean = () => tf.sub(x, mean);
    return {
      x: () => tf.reshape(tf.mul(g, tf.mul(rstd, scaleValue)), x.shape),
      mean: () => tf.reshape(tf.mul(tf.mul(tf.neg(rstd), scaleValue), reduce(g)), mean.shape),
      variance: () => tf.reshape(tf.mul(tf.mul(tf.mul(tf.pow(rstd, 3), -0.5), scaleValue), reduce(tf.mul(xMinusMean(), g))), mean.shape),
      scale: () => tf.reshape(tf.mul(rstd, reduce(tf.mul(xMinusMean(), g))), mean.shape),
      offset: () => tf.reshape(reduce(g), mean.shape),
    };
  },
};

let original: GradConfig | null = null;

/** Installs the gradient (once); returns tfjs's own, which the tests compare against. */
export function registerBatchNormGradient(): GradConfig | null {
  if (!original) {
    original = tf.getGradient('FusedBatchNorm') ?? null;
    tf.registerGradient(batchNormGradConfig);
  }
  return original;
}
