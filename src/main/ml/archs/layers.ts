/**
 * Custom layers the architectures need, registered with tfjs serialization so a
 * saved `model.json` loads back with `tf.loadLayersModel`.
 */
import * as tf from '@tensorflow/tfjs';
import type { PadMode } from './registry.js';
import { axisWeights } from '../../imaging/imresize.js';

/**
 * Sub-pixel shuffle [B,H,W,r*r*C] -> [B,H*r,W*r,C], same element order as
 * tf.depthToSpace (NHWC). Written with reshape/transpose because tfjs has no
 * gradient for depthToSpace.
 */
export function pixelShuffle(x: tf.Tensor4D, r: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const out = c / (r * r);
  return tf.tidy(() =>
    x
      .reshape([b, h, w, r, r, out])
      .transpose([0, 1, 3, 2, 4, 5])
      .reshape([b, h * r, w * r, out]),
  );
}

/** Inverse of pixelShuffle: [B,H,W,C] -> [B,H/r,W/r,r*r*C] (tf.spaceToDepth's order; H, W multiples of r). */
export function pixelUnshuffle(x: tf.Tensor4D, r: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  return tf.tidy(() =>
    x
      .reshape([b, h / r, r, w / r, r, c])
      .transpose([0, 1, 3, 2, 4, 5])
      .reshape([b, h / r, w / r, r * r * c]),
  );
}

/**
 * A whole-number setting of a layer's config, within what any real net uses: a model.json
 * is a file from anywhere, and these numbers size tensors the layer builds (a scale of
 * 65536 would ask the 16x16 import probe for gigabytes).
 */
export function layerSetting(config: Record<string, unknown>, key: string, min: number, max: number, layer: string): number {
  const v = config[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new Error(`layer ${String(config.name ?? layer)} (${layer}) has ${key} ${JSON.stringify(v)}: expected a whole number from ${min} to ${max}`);
  }
  return v;
}

/** Pixel (un)shuffle and bicubic factors: Restora's nets scale x2..x4 per layer; 16 leaves room. */
const MAX_LAYER_SCALE = 16;
/** Channel counts a settings-sized layer may produce. */
const MAX_LAYER_CHANNELS = 4096;

interface ScaleConfig extends tf.serialization.ConfigDict {
  scale: number;
}

/** The pixel (un)shuffle layers: a factor r, the side change of each, and the op. */
abstract class ShuffleLayer extends tf.layers.Layer {
  readonly scale: number;
  constructor(config: { scale: number; name?: string }) {
    super(config);
    this.scale = layerSetting(config, 'scale', 1, MAX_LAYER_SCALE, 'pixel shuffle');
  }
  /** True for the shuffle (sides x r, channels / r^2), false for the unshuffle. */
  protected abstract readonly upscales: boolean;
  protected abstract op(x: tf.Tensor4D, r: number): tf.Tensor4D;
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = s as tf.Shape;
    const r = this.scale;
    const side = (n: number | null) => (n == null ? null : this.upscales ? n * r : n / r);
    return [b!, side(h!), side(w!), this.upscales ? c! / (r * r) : c! * r * r];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return this.op(x as tf.Tensor4D, this.scale);
  }
  override getConfig(): ScaleConfig {
    return { ...super.getConfig(), scale: this.scale };
  }
}

export class PixelShuffle extends ShuffleLayer {
  static className = 'RestoraPixelShuffle';
  protected readonly upscales = true;
  protected op(x: tf.Tensor4D, r: number): tf.Tensor4D {
    return pixelShuffle(x, r);
  }
}

/** Pixel unshuffle as a layer (the U-Net's downsampling, before a 1x1 conv). */
export class PixelUnshuffle extends ShuffleLayer {
  static className = 'RestoraPixelUnshuffle';
  protected readonly upscales = false;
  protected op(x: tf.Tensor4D, r: number): tf.Tensor4D {
    return pixelUnshuffle(x, r);
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
    this.times = layerSetting(config, 'times', 1, MAX_LAYER_CHANNELS, RepeatChannels.className);
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

/**
 * Per-phase 1-D taps of the reference (MATLAB) bicubic upscale by `scale`, over
 * LR offsets -2..2: phase a of output pixel s*i + a reads LR pixels i-2..i+2.
 */
export function bicubicPhaseTaps(scale: number): Float32Array[] {
  const n = 16;
  const mid = 8;
  const w = axisWeights(n, n * scale, scale, false);
  const phases: Float32Array[] = [];
  for (let a = 0; a < scale; a++) {
    const taps = new Float32Array(5);
    const o = mid * scale + a;
    for (let t = 0; t < w.taps; t++) {
      const off = w.indices[o * w.taps + t]! - mid;
      const wt = w.weights[o * w.taps + t]!;
      if (wt === 0) continue;
      if (off < -2 || off > 2) throw new Error(`bicubic tap outside the 5x5 window (scale ${scale})`);
      taps[off + 2]! += wt;
    }
    phases.push(taps);
  }
  return phases;
}

/** Pads H and W by repeating the edge pixels (imresize's border rule); works for 1-px images. */
export function replicatePad(x: tf.Tensor4D, p: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const rows = tf.concat([tf.tile(x.slice([0, 0, 0, 0], [-1, 1, -1, -1]), [1, p, 1, 1]), x, tf.tile(x.slice([0, h - 1, 0, 0], [-1, 1, -1, -1]), [1, p, 1, 1])], 1);
    return tf.concat([tf.tile(rows.slice([0, 0, 0, 0], [-1, -1, 1, -1]), [1, 1, p, 1]), rows, tf.tile(rows.slice([0, 0, w - 1, 0], [-1, -1, 1, -1]), [1, 1, p, 1])], 2) as tf.Tensor4D;
  });
}

/**
 * Fixed (not trained) layer giving the reference bicubic upscale as s*s*3 phase
 * channels, ready for the pixel shuffle. Added to the net's output it makes the
 * net learn only a residual over bicubic, so training starts at bicubic quality.
 * Borders are replicated, as imresize does.
 */
export class BicubicAnchor extends tf.layers.Layer {
  static className = 'RestoraBicubicAnchor';
  readonly scale: number;
  private kernel: tf.Tensor4D | null = null;
  constructor(config: { scale: number; name?: string }) {
    super({ ...config, trainable: false });
    this.scale = layerSetting(config, 'scale', 1, MAX_LAYER_SCALE, BicubicAnchor.className);
  }
  private getKernel(): tf.Tensor4D {
    if (!this.kernel) {
      const s = this.scale;
      const phases = bicubicPhaseTaps(s);
      const k = new Float32Array(5 * 5 * 3 * 3 * s * s);
      for (let a = 0; a < s; a++) {
        for (let b = 0; b < s; b++) {
          for (let dy = 0; dy < 5; dy++) {
            for (let dx = 0; dx < 5; dx++) {
              const wt = phases[a]![dy]! * phases[b]![dx]!;
              for (let c = 0; c < 3; c++) {
                const outCh = (a * s + b) * 3 + c;
                k[((dy * 5 + dx) * 3 + c) * 3 * s * s + outCh] = wt;
              }
            }
          }
        }
      }
      this.kernel = tf.keep(tf.tensor4d(k, [5, 5, 3, 3 * s * s]));
    }
    return this.kernel;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w] = shape as tf.Shape;
    return [b!, h!, w!, 3 * this.scale * this.scale];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => tf.conv2d(replicatePad(x, 2), this.getKernel(), 1, 'valid'));
  }
  override dispose(): tf.serialization.ConfigDict & { refCountAfterDispose: number; numDisposedVariables: number } {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      this.kernel?.dispose();
      this.kernel = null;
    }
    return result as never;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}

/**
 * Per-channel gain and offset of an image tensor whose channels are `phases`
 * groups of RGB (the bicubic anchor's s*s phases): x * (1 + g_c) + b_c, with
 * [g_r, g_g, g_b, b_r, b_g, b_b] per batch item from the second input. A faded,
 * yellowed photo is, to first order, such a per-channel affine map of the original.
 */
export class ChannelAffine extends tf.layers.Layer {
  static className = 'RestoraChannelAffine';
  readonly phases: number;
  constructor(config: { phases: number; name?: string }) {
    super(config);
    this.phases = layerSetting(config, 'phases', 1, MAX_LAYER_CHANNELS, ChannelAffine.className);
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    return (s as tf.Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, p] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const b = p!.shape[0]!;
      const gain = tf.tile(p!.slice([0, 0], [b, 3]), [1, this.phases]).reshape([b, 1, 1, 3 * this.phases]);
      const offset = tf.tile(p!.slice([0, 3], [b, 3]), [1, this.phases]).reshape([b, 1, 1, 3 * this.phases]);
      return x!.mul(gain.add(1)).add(offset);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), phases: this.phases };
  }
}

/**
 * inputs[0] * factor + inputs[1]: the scaled residual of ESRGAN's dense blocks
 * (factor 0.2), one op where tfjs would need a Rescaling layer and an Add.
 */
export class ScaledAdd extends tf.layers.Layer {
  static className = 'RestoraScaledAdd';
  readonly factor: number;
  constructor(config: { factor: number; name?: string }) {
    super(config);
    if (!Number.isFinite(config.factor)) throw new Error(`layer ${config.name ?? ScaledAdd.className} has factor ${JSON.stringify(config.factor)}: expected a number`);
    this.factor = config.factor;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    return (s as tf.Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a, b] = inputs as tf.Tensor[];
    return tf.tidy(() => a!.mul(this.factor).add(b!));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
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
tf.serialization.registerClass(PixelUnshuffle);
tf.serialization.registerClass(ChannelAffine);
tf.serialization.registerClass(RepeatChannels);
tf.serialization.registerClass(ClipUnit);
tf.serialization.registerClass(ScaledAdd);
tf.serialization.registerClass(BicubicAnchor);

/**
 * Mirrors `padH` rows and `padW` columns onto the bottom and right of x: 'symmetric' repeats
 * the edge pixel, 'reflect' does not (PyTorch's F.pad 'reflect': SwinIR pads to its window so). tf.mirrorPad mirrors at most
 * the tensor's own size at once (one less for reflect), so a photo smaller than the pad (a
 * 1x1 image for a net that needs sides of 4) is mirrored in several passes.
 */
export function mirrorPadBottomRight(x: tf.Tensor4D, padH: number, padW: number, mode: Exclude<PadMode, 'inside'> = 'symmetric'): tf.Tensor4D {
  let y = x;
  while (padH > 0 || padW > 0) {
    // A side of 1 cannot be reflected: that pass repeats its pixel, as reflecting would if it could.
    const reflectH = mode === 'reflect' && y.shape[1] > 1;
    const reflectW = mode === 'reflect' && y.shape[2] > 1;
    const h = Math.min(padH, reflectH ? y.shape[1] - 1 : y.shape[1]);
    const w = Math.min(padW, reflectW ? y.shape[2] - 1 : y.shape[2]);
    if (h > 0)
      y = tf.mirrorPad(
        y,
        [
          [0, 0],
          [0, h],
          [0, 0],
          [0, 0],
        ],
        reflectH ? 'reflect' : 'symmetric',
      );
    if (w > 0)
      y = tf.mirrorPad(
        y,
        [
          [0, 0],
          [0, 0],
          [0, w],
          [0, 0],
        ],
        reflectW ? 'reflect' : 'symmetric',
      );
    padH -= h;
    padW -= w;
  }
  return y;
}
