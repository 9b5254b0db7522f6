/**
 * The StyleGAN2 pieces of GFPGAN's decoder as tfjs layers, so a face model saves and
 * loads as an ordinary layers model (worker, WebGPU page, model store).
 *
 * The modulated convolution is computed as StyleGAN2's paper writes it, without a
 * per-sample copy of the kernel: scale the input's channels by the style, run the one
 * shared convolution, then scale each output channel by the demodulation factor
 * rsqrt(sum_{i,k} (w_oik * s_i)^2 + eps) = rsqrt((s^2) @ sum_k w^2 + eps). Every op is a
 * differentiable tfjs op, so these layers train as they are.
 */
import * as tf from '@tensorflow/tfjs';
import { layerSetting } from '../layers.js';

const MAX_CHANNELS = 4096;
const MAX_LATENTS = 64;
const DEMOD_EPS = 1e-8;

/** PyTorch's F.interpolate(scale_factor=2, mode='bilinear', align_corners=False). */
export function upsampleBilinear2(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeBilinear(x, [h * 2, w * 2], false, true);
}

/** The style vector of one layer: latents[:, index] through the layer's affine map. */
function styleOf(latents: tf.Tensor, index: number, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  const [b, , d] = latents.shape as [number, number, number];
  return tf.matMul(latents.slice([0, index, 0], [b, 1, d]).reshape([b, d]), kernel as tf.Tensor2D).add(bias) as tf.Tensor2D;
}

function modulatedConv(x: tf.Tensor4D, style: tf.Tensor2D, kernel: tf.Tensor4D, demodulate: boolean): tf.Tensor4D {
  const [b, , , cin] = x.shape;
  const cout = kernel.shape[3];
  const y = tf.conv2d(x.mul(style.reshape([b, 1, 1, cin])) as tf.Tensor4D, kernel, 1, 'same');
  if (!demodulate) return y;
  const energy = tf.matMul(style.square(), kernel.square().sum([0, 1]) as tf.Tensor2D);
  return y.mul(tf.rsqrt(energy.add(DEMOD_EPS)).reshape([b, 1, 1, cout]));
}

interface ModulatedConfig extends tf.serialization.ConfigDict {
  filters: number;
  kernelSize: number;
  styleIndex: number;
  upsample: boolean;
}

function readModulated(config: ModulatedConfig, cls: string): ModulatedConfig {
  return {
    filters: layerSetting(config, 'filters', 1, MAX_CHANNELS, cls),
    kernelSize: layerSetting(config, 'kernelSize', 1, 7, cls),
    styleIndex: layerSetting(config, 'styleIndex', 0, MAX_LATENTS - 1, cls),
    upsample: config.upsample === true,
  };
}

/**
 * StyleGAN2's StyleConv as GFPGAN's clean decoder has it: optional bilinear x2, a
 * demodulated modulated conv, x sqrt(2), plus the layer's fixed noise map times its
 * strength, plus bias, LeakyReLU 0.2. Inputs: [features, latents [B, L, D]].
 * The noise is the map stored with the weights (PyTorch's randomize_noise=False), so a
 * photo restores the same way every time.
 */
export class StyleConv extends tf.layers.Layer {
  static className = 'RestoraStyleConv';
  readonly cfg: ModulatedConfig;
  private modKernel!: tf.LayerVariable;
  private modBias!: tf.LayerVariable;
  private kernel!: tf.LayerVariable;
  private noiseStrength!: tf.LayerVariable;
  private bias!: tf.LayerVariable;
  private noise!: tf.LayerVariable;

  constructor(config: ModulatedConfig & { name?: string }) {
    super(config);
    this.cfg = readModulated(config, StyleConv.className);
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const [xs, ls] = shape as tf.Shape[];
    const cin = xs![3]!;
    const d = ls![2]!;
    const side = xs![1]! * (this.cfg.upsample ? 2 : 1);
    const { filters, kernelSize: k } = this.cfg;
    this.modKernel = this.addWeight('modulation_kernel', [d, cin], 'float32', tf.initializers.heNormal({}));
    this.modBias = this.addWeight('modulation_bias', [cin], 'float32', tf.initializers.ones());
    this.kernel = this.addWeight('kernel', [k, k, cin, filters], 'float32', tf.initializers.randomNormal({ stddev: 1 / Math.sqrt(cin * k * k) }));
    this.noiseStrength = this.addWeight('noise_strength', [1], 'float32', tf.initializers.zeros());
    this.bias = this.addWeight('bias', [filters], 'float32', tf.initializers.zeros());
    this.noise = this.addWeight('noise', [side, side], 'float32', tf.initializers.randomNormal({}), undefined, false);
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w] = (shape as tf.Shape[])[0]!;
    const f = this.cfg.upsample ? 2 : 1;
    return [b!, h === null ? null : h! * f, w === null ? null : w! * f, this.cfg.filters];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x0, latents] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const x = this.cfg.upsample ? upsampleBilinear2(x0 as tf.Tensor4D) : (x0 as tf.Tensor4D);
      const style = styleOf(latents!, this.cfg.styleIndex, this.modKernel.read(), this.modBias.read());
      const y = modulatedConv(x, style, this.kernel.read() as tf.Tensor4D, true);
      const [, h, w] = y.shape;
      const noise = this.noise.read().reshape([1, h, w, 1]).mul(this.noiseStrength.read());
      return tf.leakyRelu(y.mul(Math.SQRT2).add(noise).add(this.bias.read()), 0.2);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

/**
 * StyleGAN2's ToRGB: a 1x1 modulated conv without demodulation, plus bias, plus the
 * previous resolution's RGB upsampled bilinearly x2. Inputs: [features, latents] or
 * [features, latents, skip].
 */
export class ToRGB extends tf.layers.Layer {
  static className = 'RestoraToRGB';
  readonly cfg: ModulatedConfig;
  private modKernel!: tf.LayerVariable;
  private modBias!: tf.LayerVariable;
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  constructor(config: ModulatedConfig & { name?: string }) {
    super(config);
    this.cfg = readModulated(config, ToRGB.className);
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const [xs, ls] = shape as tf.Shape[];
    const cin = xs![3]!;
    const d = ls![2]!;
    const { filters, kernelSize: k } = this.cfg;
    this.modKernel = this.addWeight('modulation_kernel', [d, cin], 'float32', tf.initializers.heNormal({}));
    this.modBias = this.addWeight('modulation_bias', [cin], 'float32', tf.initializers.ones());
    this.kernel = this.addWeight('kernel', [k, k, cin, filters], 'float32', tf.initializers.randomNormal({ stddev: 1 / Math.sqrt(cin * k * k) }));
    this.bias = this.addWeight('bias', [filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w] = (shape as tf.Shape[])[0]!;
    return [b!, h!, w!, this.cfg.filters];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, latents, skip] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const style = styleOf(latents!, this.cfg.styleIndex, this.modKernel.read(), this.modBias.read());
      const y = modulatedConv(x as tf.Tensor4D, style, this.kernel.read() as tf.Tensor4D, false).add(this.bias.read());
      return skip ? y.add(this.cfg.upsample ? upsampleBilinear2(skip as tf.Tensor4D) : skip) : y;
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

/** StyleGAN2's learned 4x4 start, repeated for each item of the batch its input (the latents) has. */
export class ConstantInput extends tf.layers.Layer {
  static className = 'RestoraConstantInput';
  readonly channels: number;
  readonly size: number;
  private constant!: tf.LayerVariable;
  constructor(config: { channels: number; size: number; name?: string }) {
    super(config);
    this.channels = layerSetting(config, 'channels', 1, MAX_CHANNELS, ConstantInput.className);
    this.size = layerSetting(config, 'size', 1, 64, ConstantInput.className);
  }
  override build(): void {
    this.constant = this.addWeight('constant', [this.size, this.size, this.channels], 'float32', tf.initializers.randomNormal({}));
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return [(shape as tf.Shape)[0]!, this.size, this.size, this.channels];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const latents = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => tf.tile(this.constant.read().expandDims(0), [latents.shape[0]!, 1, 1, 1]));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), channels: this.channels, size: this.size };
  }
}

/**
 * GFPGAN's spatial feature transform: features * scale + shift, on all channels or
 * (sftHalf) only on the second half, the first half passing through untouched.
 * Inputs: [features, scale, shift].
 */
export class SpatialFeatureTransform extends tf.layers.Layer {
  static className = 'RestoraSFT';
  readonly half: boolean;
  constructor(config: { half: boolean; name?: string }) {
    super(config);
    this.half = config.half === true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return (shape as tf.Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, scale, shift] = inputs as tf.Tensor4D[];
    return tf.tidy(() => {
      if (!this.half) return x!.mul(scale!).add(shift!);
      const c = x!.shape[3];
      const [same, sft] = tf.split(x!, [c / 2, c - c / 2], 3);
      return tf.concat([same!, sft!.mul(scale!).add(shift!)], 3);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), half: this.half };
  }
}

/**
 * PyTorch's bilinear F.interpolate by 2 or 0.5 (align_corners=False). Halving even
 * sides samples each output pixel exactly between four input pixels, so it is a 2x2
 * average pool.
 */
export class TorchResize extends tf.layers.Layer {
  static className = 'RestoraTorchResize';
  readonly up: boolean;
  constructor(config: { up: boolean; name?: string }) {
    super(config);
    this.up = config.up === true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = shape as tf.Shape;
    const f = (v: number | null) => (v === null ? null : this.up ? v * 2 : Math.floor(v / 2));
    return [b!, f(h!), f(w!), c!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => (this.up ? upsampleBilinear2(x) : tf.avgPool(x, 2, 2, 'valid')));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), up: this.up };
  }
}

/** x * scale + offset: a face model's [0,1] <-> [-1,1] at its input and output. */
export class Affine extends tf.layers.Layer {
  static className = 'RestoraAffine';
  readonly scale: number;
  readonly offset: number;
  constructor(config: { scale: number; offset: number; name?: string }) {
    super(config);
    if (!Number.isFinite(config.scale) || !Number.isFinite(config.offset)) throw new Error(`layer ${config.name ?? Affine.className} needs a finite scale and offset`);
    this.scale = config.scale;
    this.offset = config.offset;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => x.mul(this.scale).add(this.offset));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

for (const cls of [StyleConv, ToRGB, ConstantInput, SpatialFeatureTransform, TorchResize, Affine]) tf.serialization.registerClass(cls);
