/**
 * Layers of the damage nets (scratch detection, inpainting) and of the VAE, registered
 * with tfjs serialization like layers.ts so saved models load back.
 */
import * as tf from '@tensorflow/tfjs';
import { klToUnitGaussian, reparameterise } from '../core/latent.js';
import { layerSetting } from './layers.js';

/** Channels [start, start + count) of a [B,H,W,C] tensor (the RGB of an image+mask input). */
export class TakeChannels extends tf.layers.Layer {
  static className = 'RestoraTakeChannels';
  readonly start: number;
  readonly count: number;
  constructor(config: { start: number; count: number; name?: string }) {
    super(config);
    this.start = layerSetting(config, 'start', 0, 4096, TakeChannels.className);
    this.count = layerSetting(config, 'count', 1, 4096, TakeChannels.className);
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w] = s as tf.Shape;
    return [b!, h!, w!, this.count];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.slice(x, [0, 0, 0, this.start], [-1, -1, -1, this.count]);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), start: this.start, count: this.count };
  }
}

/**
 * [fill, image+mask] -> mask * fill + (1 - mask) * image: the inpainter changes only the
 * masked pixels, so everything the detector left alone comes out exactly as it went in.
 */
export class MaskBlend extends tf.layers.Layer {
  static className = 'RestoraMaskBlend';
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    return (s as tf.Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [fill, x] = inputs as tf.Tensor4D[];
    return tf.tidy(() => {
      const rgb = tf.slice(x!, [0, 0, 0, 0], [-1, -1, -1, 3]);
      const m = tf.slice(x!, [0, 0, 0, 3], [-1, -1, -1, 1]);
      return tf.add(rgb, tf.mul(m, tf.sub(fill!, rgb)));
    });
  }
}

/**
 * The VAE's latent: [mean, logVar] -> a reparameterised sample mean + exp(logVar/2) * eps
 * while training, the mean at inference (a restoration should not be random). The noise
 * comes from `noiseSeed`, which the training step sets from the run's RNG, so a resumed
 * run draws the same noise. The KL of the last training call is kept in `lastKl` for the
 * step's loss (kept, not disposed with the model's intermediates): Keras layers cannot return a second, non-image output through one model
 * output, and the step reads it inside the same gradient tape.
 */
export class LatentSample extends tf.layers.Layer {
  static className = 'RestoraLatentSample';
  noiseSeed = 0;
  lastKl: tf.Scalar | null = null;
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    return (s as tf.Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const [mean, logVar] = inputs as tf.Tensor4D[];
    if (!kwargs?.training) return tf.clone(mean!);
    // Clamped: exp of a large log-variance early in training would overflow the sample.
    const lv = tf.clipByValue(logVar!, -10, 10);
    // Per latent element, so its weight does not depend on the patch size.
    // Kept past the model's tidy; whoever reads it (step.ts batchLoss's caller) disposes it.
    this.lastKl?.dispose();
    this.lastKl = tf.keep(tf.div(klToUnitGaussian(mean!, lv), mean!.size / mean!.shape[0]) as tf.Scalar);
    const eps = tf.randomNormal(mean!.shape, 0, 1, 'float32', this.noiseSeed);
    return reparameterise(mean!, lv, eps);
  }
}

tf.serialization.registerClass(TakeChannels);
tf.serialization.registerClass(MaskBlend);
tf.serialization.registerClass(LatentSample);
