/**
 * SPAN's two weight-free pieces as tfjs layers, registered with tfjs serialization so an
 * imported SPAN saves and loads as an ordinary layers model.
 */
import * as tf from '@tensorflow/tfjs';

/** The RGB mean and range SPAN's released models normalise their input with (the reference's defaults). */
export const SPAN_RGB_MEAN = [0.4488, 0.4371, 0.404] as const;
export const SPAN_IMG_RANGE = 255;

/**
 * (x - rgb_mean) * 255: the input normalisation of SPAN models trained with norm on (the
 * released ones). The output is not de-normalised: the network learnt to give [0, 1].
 */
export class SpanNormalize extends tf.layers.Layer {
  static className = 'RestoraSpanNormalize';
  private mean: tf.Tensor | null = null;
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    this.mean ??= tf.keep(tf.tensor4d([...SPAN_RGB_MEAN], [1, 1, 1, 3]));
    const mean = this.mean;
    return tf.tidy(() => x.sub(mean).mul(SPAN_IMG_RANGE));
  }
  override dispose(): tf.serialization.ConfigDict & { refCountAfterDispose: number; numDisposedVariables: number } {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      this.mean?.dispose();
      this.mean = null;
    }
    return result as never;
  }
}

/**
 * SPAN's parameter-free attention: inputs [out3, x] -> (out3 + x) * (sigmoid(out3) - 0.5),
 * the last step of each SPAB block (x is the block's input).
 */
export class SpanAttention extends tf.layers.Layer {
  static className = 'RestoraSpanAttention';
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    return (s as tf.Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [out3, x] = inputs as tf.Tensor[];
    return tf.tidy(() => out3!.add(x!).mul(tf.sigmoid(out3!).sub(0.5)));
  }
}

tf.serialization.registerClass(SpanNormalize);
tf.serialization.registerClass(SpanAttention);
