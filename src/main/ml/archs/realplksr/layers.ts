/**
 * RealPLKSR's weight-free pieces as tfjs layers, registered with tfjs serialization so an
 * imported RealPLKSR saves and loads as an ordinary layers model: the channel slice of the
 * partial large-kernel conv, PyTorch's repeat_interleave over channels (the DySample form's
 * input skip), and DySample's bilinear sampler. Convolutions, norms, products and sums are
 * tfjs's own layers (see ./realplksr.ts); every op is a standard, differentiable tfjs op.
 */
import * as tf from '@tensorflow/tfjs';
import { layerSetting } from '../layers.js';

const MAX_CHANNELS = 4096;
const MAX_SCALE = 16;
const MAX_KERNEL = 63;

interface ConvConfig extends tf.serialization.ConfigDict {
  filters: number;
  kernelSize: number;
  activation: 'linear' | 'mish' | 'sigmoid';
}

/**
 * A k x k conv, stride 1, zero 'same' padding, with bias and an optional Mish or sigmoid: the
 * arithmetic of tfjs's Conv2D layer, but on the wasm backend each call convolves with a copy
 * of the kernel. The wasm backend caches an XNNPACK operator per kernel tensor, and each
 * keeps an indirection buffer of kernel-area pointers per output pixel for the last input it
 * saw: 1.2 KB per pixel for a 17x17 kernel, ~40 KB per pixel over a released RealPLKSR's
 * convs, never released while the model lives (a 512 px tile would ask for 10 GB). A kernel
 * copy's operator is freed with the copy as the call ends, so only one conv's buffer exists
 * at a time; packing the kernel again costs microseconds.
 */
export class UncachedConv2D extends tf.layers.Layer {
  static className = 'RestoraUncachedConv2D';
  readonly cfg: ConvConfig;
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;
  constructor(config: Partial<ConvConfig> & { filters: number; kernelSize: number; name?: string }) {
    super(config);
    const activation = config.activation ?? 'linear';
    if (!['linear', 'mish', 'sigmoid'].includes(activation)) throw new Error(`layer ${config.name ?? UncachedConv2D.className} (${UncachedConv2D.className}) has activation ${JSON.stringify(activation)}: expected linear, mish or sigmoid`);
    this.cfg = {
      filters: layerSetting(config, 'filters', 1, MAX_CHANNELS, UncachedConv2D.className),
      kernelSize: layerSetting(config, 'kernelSize', 1, MAX_KERNEL, UncachedConv2D.className),
      activation,
    };
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const cin = (shape as tf.Shape)[3]!;
    const k = this.cfg.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, cin, this.cfg.filters], 'float32', tf.initializers.glorotUniform({}));
    this.bias = this.addWeight('bias', [this.cfg.filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w] = s as tf.Shape;
    return [b!, h!, w!, this.cfg.filters];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const k = this.kernel.read() as tf.Tensor4D;
      const filter = tf.getBackend() === 'wasm' ? tf.clone(k) : k;
      const y = tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', bias: this.bias.read() });
      if (this.cfg.activation === 'mish') return y.mul(tf.tanh(tf.softplus(y)));
      return this.cfg.activation === 'sigmoid' ? tf.sigmoid(y) : y;
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

/** Channels [start, start + size) of an NHWC tensor. */
export class ChannelSlice extends tf.layers.Layer {
  static className = 'RestoraChannelSlice';
  readonly start: number;
  readonly size: number;
  constructor(config: { start: number; size: number; name?: string }) {
    super(config);
    this.start = layerSetting(config, 'start', 0, MAX_CHANNELS, ChannelSlice.className);
    this.size = layerSetting(config, 'size', 1, MAX_CHANNELS, ChannelSlice.className);
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w] = s as tf.Shape;
    return [b!, h!, w!, this.size];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.slice(x, [0, 0, 0, this.start], [-1, -1, -1, this.size]);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), start: this.start, size: this.size };
  }
}

/**
 * torch.repeat_interleave(x, times, dim=1) on NHWC: channel c becomes channels
 * c*times .. c*times + times - 1 (RepeatChannels in ../layers.ts tiles instead: c + k*C).
 */
export class RepeatInterleave extends tf.layers.Layer {
  static className = 'RestoraRepeatInterleave';
  readonly times: number;
  constructor(config: { times: number; name?: string }) {
    super(config);
    this.times = layerSetting(config, 'times', 1, MAX_CHANNELS, RepeatInterleave.className);
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = s as tf.Shape;
    return [b!, h!, w!, c! * this.times];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      return tf.tile(x.reshape([b, h, w, c, 1]), [1, 1, 1, 1, this.times]).reshape([b, h, w, c * this.times]);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), times: this.times };
  }
}

/**
 * DySample's fixed grid (init_pos): for the s x s outputs of an LR pixel, output (i, j)
 * starts at the centre of its sub-pixel, (j - (s-1)/2) / s across and (i - (s-1)/2) / s down,
 * in LR pixels; the same for each of `groups` groups. Channels (xy, group, i, j), as the
 * reference's offset conv gives them.
 */
export function dysampleInitPos(scale: number, groups: number): Float32Array {
  const s = scale;
  const n = groups * s * s;
  const pos = new Float32Array(2 * n);
  for (let g = 0; g < groups; g++) {
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) {
        const k = (g * s + i) * s + j;
        pos[k] = (j - (s - 1) / 2) / s;
        pos[n + k] = (i - (s - 1) / 2) / s;
      }
    }
  }
  return pos;
}

/**
 * Bilinear sampling of src [M, C] (M = B*G*H*W rows, one per pixel of each group's plane) at
 * the float pixel coordinates ix, iy [B, G, Ho, Wo] (already clamped to the plane, which is
 * grid_sample's border padding): out [B, G, Ho, Wo, C]. Its gradient is written out: the
 * gather's own needs UnsortedSegmentSum, which the wasm backend lacks, and its integer
 * indices would otherwise reach the tape through the offsets. dx scatters dy back with
 * scatterND (duplicates summed), d/dix and d/diy are the bilinear weights' derivatives.
 */
function bilinearSample(h: number, w: number): (src: tf.Tensor, ix: tf.Tensor, iy: tf.Tensor) => tf.Tensor {
  // Index arithmetic stays in int32 (a JS number would make it float32, which gather refuses).
  const int = (v: number) => tf.scalar(v, 'int32');
  return tf.customGrad((...args: unknown[]) => {
    const [src, ix, iy, save] = args as [tf.Tensor2D, tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    const [b, g, ho, wo] = ix.shape;
    const c = src.shape[1];
    // Row of pixel (0, 0) of each (batch, group) plane (made in each pass: the forward's tensors are gone by the backward).
    const planes = () =>
      tf
        .range(0, b * g, 1, 'int32')
        .mul(int(h * w))
        .reshape([b, g, 1, 1]);
    const plane = planes();
    const x0f = tf.floor(ix);
    const y0f = tf.floor(iy);
    const x0 = tf.cast(x0f, 'int32');
    const y0 = tf.cast(y0f, 'int32');
    const x1 = tf.minimum(x0.add(int(1)), int(w - 1));
    const y1 = tf.minimum(y0.add(int(1)), int(h - 1));
    const rowsY0 = plane.add(y0.mul(int(w)));
    const rowsY1 = plane.add(y1.mul(int(w)));
    const idx = [rowsY0.add(x0), rowsY0.add(x1), rowsY1.add(x0), rowsY1.add(x1)].map((t) => t.reshape([-1]));
    const [v00, v01, v10, v11] = idx.map((t) => tf.gather(src, t).reshape([b, g, ho, wo, c]));
    const wx = ix.sub(x0f).expandDims(4);
    const wy = iy.sub(y0f).expandDims(4);
    const top = v00!.add(v01!.sub(v00!).mul(wx));
    const bottom = v10!.add(v11!.sub(v10!).mul(wx));
    const value = top.add(bottom.sub(top).mul(wy));
    save([src, ix, iy]);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): tf.Tensor[] => {
      const g5 = (Array.isArray(dy) ? dy[0]! : dy) as tf.Tensor;
      const [s0, sx, sy] = saved as [tf.Tensor2D, tf.Tensor4D, tf.Tensor4D];
      return tf.tidy(() => {
        const fx0 = tf.floor(sx);
        const fy0 = tf.floor(sy);
        const ax = sx.sub(fx0).expandDims(4);
        const ay = sy.sub(fy0).expandDims(4);
        const ix0 = tf.cast(fx0, 'int32');
        const iy0 = tf.cast(fy0, 'int32');
        const ix1 = tf.minimum(ix0.add(int(1)), int(w - 1));
        const iy1 = tf.minimum(iy0.add(int(1)), int(h - 1));
        const base = planes();
        const r0 = base.add(iy0.mul(int(w)));
        const r1 = base.add(iy1.mul(int(w)));
        const corners = [r0.add(ix0), r0.add(ix1), r1.add(ix0), r1.add(ix1)].map((t) => t.reshape([-1, 1]));
        const [u00, u01, u10, u11] = corners.map((t) => tf.gather(s0, t.reshape([-1])).reshape([b, g, ho, wo, c]));
        const bx = tf.sub(1, ax);
        const by = tf.sub(1, ay);
        const weights = [bx.mul(by), ax.mul(by), bx.mul(ay), ax.mul(ay)];
        const dSrc = tf.addN(corners.map((t, k) => tf.scatterND(t, g5.mul(weights[k]!).reshape([-1, c]), [s0.shape[0], c])));
        const dWx = u01!.sub(u00!).mul(by).add(u11!.sub(u10!).mul(ay));
        const dWy = u10!.sub(u00!).mul(bx).add(u11!.sub(u01!).mul(ax));
        return [dSrc, g5.mul(dWx).sum(4), g5.mul(dWy).sum(4)];
      });
    };
    return { value, gradFunc };
  }) as (src: tf.Tensor, ix: tf.Tensor, iy: tf.Tensor) => tf.Tensor;
}

interface DySampleConfig extends tf.serialization.ConfigDict {
  scale: number;
  groups: number;
}

/**
 * DySample's sampler (Liu et al. 2023, "Learning to Upsample by Learning to Sample"), as
 * RealPLKSR's 'dysample' upsampler runs it. Inputs [x, offset, scope]: x [B,H,W,C], offset and
 * scope the outputs of its two 1x1 convs [B,H,W,2*G*s*s]. Each output pixel (i, j) of LR
 * pixel (y, x) in channel group g samples x's group-g channels bilinearly at
 * (x + dx, y + dy), with (dx, dy) = offset * sigmoid(scope) * 0.5 + init_pos: PyTorch's
 * grid_sample with border padding and align_corners False (the +0.5 of the reference's pixel
 * centres and the -0.5 of that unnormalisation cancel). Output [B, s*H, s*W, C].
 */
export class DySampler extends tf.layers.Layer {
  static className = 'RestoraDySampler';
  readonly cfg: DySampleConfig;
  constructor(config: { scale: number; groups: number; name?: string }) {
    super(config);
    this.cfg = {
      scale: layerSetting(config, 'scale', 1, MAX_SCALE, DySampler.className),
      groups: layerSetting(config, 'groups', 1, MAX_CHANNELS, DySampler.className),
    };
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = (shape as tf.Shape[])[0]!;
    const s = this.cfg.scale;
    return [b!, h == null ? null : h * s, w == null ? null : w * s, c!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, offset, scope] = inputs as tf.Tensor4D[];
    return tf.tidy(() => {
      const { scale: s, groups: g } = this.cfg;
      const [b, h, w, c] = x!.shape;
      if (c % g !== 0) throw new Error(`layer ${this.name} (${DySampler.className}): ${c} channels do not split into ${g} groups`);
      const n = g * s * s;
      const pos = tf.tensor1d(dysampleInitPos(s, g));
      const o = offset!.mul(tf.sigmoid(scope!)).mul(0.5).add(pos);
      // (i, j) of each LR pixel to the HR grid: [B,H,W,G,s,s] -> [B,G,H*s,W*s].
      const toHr = (t: tf.Tensor) =>
        t
          .reshape([b, h, w, g, s, s])
          .transpose([0, 3, 1, 4, 2, 5])
          .reshape([b, g, h * s, w * s]);
      const baseX = tf
        .range(0, w)
        .reshape([w, 1])
        .tile([1, s])
        .reshape([1, 1, 1, w * s]);
      const baseY = tf
        .range(0, h)
        .reshape([h, 1])
        .tile([1, s])
        .reshape([1, 1, h * s, 1]);
      const ix = tf.clipByValue(baseX.add(toHr(o.slice([0, 0, 0, 0], [b, h, w, n]))), 0, w - 1);
      const iy = tf.clipByValue(baseY.add(toHr(o.slice([0, 0, 0, n], [b, h, w, n]))), 0, h - 1);
      // One row per pixel of each group's plane: [B,H,W,G,C/G] -> [B*G*H*W, C/G].
      const src = x!
        .reshape([b, h, w, g, c / g])
        .transpose([0, 3, 1, 2, 4])
        .reshape([b * g * h * w, c / g]);
      const out = bilinearSample(h, w)(src, ix, iy); // [B, G, sH, sW, C/G]
      return out.transpose([0, 2, 3, 1, 4]).reshape([b, h * s, w * s, c]);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

for (const cls of [UncachedConv2D, ChannelSlice, RepeatInterleave, DySampler]) tf.serialization.registerClass(cls);
