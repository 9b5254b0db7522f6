/**
 * Custom layers the architectures need, registered with tfjs serialization so a
 * saved `model.json` loads back with `tf.loadLayersModel`.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Sub-pixel shuffle [B,H,W,r*r*C] -> [B,H*r,W*r,C], same element order as
 * tf.depthToSpace (NHWC). Written with reshape/transpose because tfjs has no
 * gradient for depthToSpace.
 */
export function pixelShuffle(x: tf.Tensor4D, r: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const out = c / (r * r);
  return tf.tidy(() =>
    x.reshape([b, h, w, r, r, out]).transpose([0, 1, 3, 2, 4, 5]).reshape([b, h * r, w * r, out]),
  );
}

interface ScaleConfig extends tf.serialization.ConfigDict {
  scale: number;
}

export class PixelShuffle extends tf.layers.Layer {
  static className = 'RestoraPixelShuffle';
  readonly scale: number;
  constructor(config: { scale: number; name?: string }) {
    super(config);
    this.scale = config.scale;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = s as tf.Shape;
    const r = this.scale;
    return [b!, h == null ? null : h * r, w == null ? null : w * r, c! / (r * r)];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return pixelShuffle(x as tf.Tensor4D, this.scale);
  }
  override getConfig(): ScaleConfig {
    return { ...super.getConfig(), scale: this.scale };
  }
}

/**
 * Repeats the input's channels r*r times. Added before the pixel shuffle, it makes
 * the network predict a residual over nearest-neighbour upscaling, which trains
 * much faster than predicting the image (anchor trick of compact SR nets).
 */
export class RepeatChannels extends tf.layers.Layer {
  static className = 'RestoraRepeatChannels';
  readonly times: number;
  constructor(config: { times: number; name?: string }) {
    super(config);
    this.times = config.times;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = s as tf.Shape;
    return [b!, h!, w!, c! * this.times];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => tf.tile(x, [1, 1, 1, this.times]));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), times: this.times };
  }
}

/** Clamps to [0, 1]; used only at the output of inference graphs. */
export class ClipUnit extends tf.layers.Layer {
  static className = 'RestoraClipUnit';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.clipByValue(x, 0, 1);
  }
}

tf.serialization.registerClass(PixelShuffle);
tf.serialization.registerClass(RepeatChannels);
tf.serialization.registerClass(ClipUnit);
