/**
 * DAT's pieces as tfjs layers, registered with tfjs serialization so an imported DAT saves and
 * loads as an ordinary layers model:
 *
 * - DatNormalize: (x - rgb_mean) * img_range on the way in, x / img_range + rgb_mean on the way out.
 * - DatSpatialAttention: the adaptive spatial self-attention of the even blocks (two window
 *   branches with a dynamic position bias, shifted windows on some blocks, a depthwise-conv
 *   branch and the channel / spatial interactions between the two).
 * - DatChannelAttention: the adaptive channel self-attention of the odd blocks.
 * - DatSGFN: the spatial-gate feed-forward network.
 *
 * Every weight is a layer weight and every op a differentiable tfjs op (matMul, reshape,
 * transpose, slice, concat, pad, softmax, erf), so an imported DAT can be fine-tuned and runs on
 * WebGPU as on wasm. Inputs are NHWC, tokens row-major as the reference flattens them, and the
 * channels of a head are contiguous (channel = head * head_dim + i), as in PyTorch. Constants
 * that depend on the input's size (the shifted-window masks) are made in call() from the
 * concrete shape. BatchNorm (eval mode, running statistics) is held as its per-channel affine,
 * scale = w / sqrt(var + eps) and offset = b - mean * scale: the same two parameters per
 * channel as PyTorch counts, trained as an affine when fine-tuned (frozen statistics).
 */
import * as tf from '@tensorflow/tfjs';
import { layerSetting } from '../layers.js';

/** The RGB mean DAT's released models normalise their input with (the reference's, for 3 channels). */
export const DAT_RGB_MEAN = [0.4488, 0.4371, 0.404] as const;

const MAX_HEADS = 64;
const MAX_SPLIT = 256;
const MAX_CHANNELS = 4096;
/** nn.LayerNorm's and nn.BatchNorm2d's default epsilon. */
export const DAT_EPS = 1e-5;

// ---- ops ----------------------------------------------------------------------------

/** x [.., C] @ kernel [C, N] (+ bias [N]) over the last axis, as one 2-D product. */
function dense(x: tf.Tensor, kernel: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const c = shape[shape.length - 1]!;
  let y: tf.Tensor = tf.matMul(x.reshape([-1, c]) as tf.Tensor2D, kernel as tf.Tensor2D);
  if (bias) y = y.add(bias);
  return y.reshape([...shape.slice(0, -1), kernel.shape[1]!]);
}

/** nn.GELU (exact, erf). */
function gelu(x: tf.Tensor): tf.Tensor {
  return x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
}

/** nn.LayerNorm over the last axis (biased variance). */
function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = DAT_EPS): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x
    .sub(mean)
    .mul(tf.rsqrt(variance.add(eps)))
    .mul(gamma)
    .add(beta);
}

/**
 * A 3x3 depthwise conv, stride 1, zero padding 1 (PyTorch's Conv2d(C, C, 3, padding=1,
 * groups=C)). The forward is the backend's own kernel; the gradient is written with standard
 * ops (the wasm backend has no depthwise backprop kernels): dx is the same conv with the
 * kernel turned 180 degrees, dk[kh,kw,c] sums x shifted by the tap times dy.
 */
const depthwise3x3 = tf.customGrad((...args: (tf.Tensor | ((save: tf.Tensor[]) => void))[]) => {
  const x = args[0] as tf.Tensor4D;
  const k = args[1] as tf.Tensor4D;
  const save = args[2] as (s: tf.Tensor[]) => void;
  save([x, k]);
  return {
    value: tf.depthwiseConv2d(x, k, 1, 'same'),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = (Array.isArray(dy) ? dy[0]! : dy) as tf.Tensor4D;
      const [xs, ks] = saved as [tf.Tensor4D, tf.Tensor4D];
      const [b, h, w, c] = xs.shape;
      const dx = tf.depthwiseConv2d(g, tf.reverse(ks, [0, 1]), 1, 'same');
      const xp = tf.pad(xs, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]);
      const taps: tf.Tensor[] = [];
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) taps.push(xp.slice([0, i, j, 0], [b, h, w, c]).mul(g).sum([0, 1, 2]));
      return [dx, tf.stack(taps).reshape([3, 3, c, 1])];
    },
  };
});

/** Rolls [B, H, W, C] by (dy, dx) along H and W, as torch.roll: out[y] = in[(y - dy) mod H]. */
function roll(x: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  let y = x;
  const sy = ((dy % h) + h) % h;
  const sx = ((dx % w) + w) % w;
  if (sy) y = tf.concat([y.slice([0, h - sy, 0, 0], [-1, sy, -1, -1]), y.slice([0, 0, 0, 0], [-1, h - sy, -1, -1])], 1);
  if (sx) y = tf.concat([y.slice([0, 0, w - sx, 0], [-1, -1, sx, -1]), y.slice([0, 0, 0, 0], [-1, -1, w - sx, -1])], 2);
  return y;
}

/** [B, H, W, C] -> [B * nWin, heads, wh * ww, C / heads]: windows of wh rows x ww columns, row-major. */
function toWindows(x: tf.Tensor4D, wh: number, ww: number, heads: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const t = x.reshape([b * (h / wh), wh, w / ww, ww * c]).transpose([0, 2, 1, 3]);
  const win = t.reshape([-1, wh * ww, heads, c / heads]);
  return (heads === 1 ? win.reshape([-1, 1, wh * ww, c]) : win.transpose([0, 2, 1, 3])) as tf.Tensor4D;
}

/** The inverse of toWindows. */
function fromWindows(x: tf.Tensor4D, b: number, h: number, w: number, wh: number, ww: number): tf.Tensor4D {
  const [, heads, n, hd] = x.shape;
  const c = heads * hd;
  const t = heads === 1 ? x.reshape([-1, n, c]) : x.transpose([0, 2, 1, 3]);
  return t
    .reshape([b * (h / wh), w / ww, wh, ww * c])
    .transpose([0, 2, 1, 3])
    .reshape([b, h, w, c]);
}

/**
 * The shifted-window masks: after the roll, tokens of one window that come from different
 * regions of the grid, [0, H - wh), [H - wh, H - sh), [H - sh, H) by the same along W, were
 * not neighbours in the image, and the reference keeps them apart with -100 on their scores.
 * Only the last row and the last column of windows straddle regions, so there are four masks:
 * type 0 (inside: none), 1 (last row), 2 (last column), 3 (both); [4, N * N].
 */
export function shiftMasks(wh: number, ww: number, sh: number, sw: number): Float32Array {
  const n = wh * ww;
  const out = new Float32Array(4 * n * n);
  for (let t = 1; t < 4; t++) {
    const label = (i: number) => (t & 1 ? (Math.floor(i / ww) < wh - sh ? 1 : 2) : 0) * 3 + (t & 2 ? (i % ww < ww - sw ? 1 : 2) : 0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (label(i) !== label(j)) out[(t * n + i) * n + j] = -100;
  }
  return out;
}

/** Each window's mask type (see shiftMasks) on a grid of nh x nw windows, row-major, for `batch` images. */
export function windowTypes(nh: number, nw: number, batch: number): Int32Array {
  const out = new Int32Array(batch * nh * nw);
  for (let k = 0; k < out.length; k++) {
    const r = Math.floor(k / nw) % nh;
    const c = k % nw;
    out[k] = (r === nh - 1 ? 1 : 0) + (c === nw - 1 ? 2 : 0);
  }
  return out;
}

/** Every (query, key) pair's offset (dy, dx) inside a wh x ww window, row (i * N + j): [N * N, 2]. */
export function pairOffsets(wh: number, ww: number): Float32Array {
  const n = wh * ww;
  const out = new Float32Array(n * n * 2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      out[(i * n + j) * 2] = Math.floor(i / ww) - Math.floor(j / ww);
      out[(i * n + j) * 2 + 1] = (i % ww) - (j % ww);
    }
  }
  return out;
}

// ---- layers -------------------------------------------------------------------------

interface NormalizeConfig extends tf.serialization.ConfigDict {
  imgRange: number;
  inverse: boolean;
}

/** (x - rgb_mean) * img_range, or with `inverse` x / img_range + rgb_mean. */
export class DatNormalize extends tf.layers.Layer {
  static className = 'RestoraDatNormalize';
  readonly cfg: NormalizeConfig;
  constructor(config: { imgRange: number; inverse?: boolean; name?: string }) {
    super(config);
    const r = config.imgRange;
    if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0 || r > 65535) throw new Error(`layer ${String(config.name ?? DatNormalize.className)} (${DatNormalize.className}) has imgRange ${JSON.stringify(r)}: expected a number in (0, 65535]`);
    this.cfg = { imgRange: r, inverse: config.inverse === true };
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => {
      const mean = tf.tensor1d([...DAT_RGB_MEAN]);
      return this.cfg.inverse ? x.div(this.cfg.imgRange).add(mean) : x.sub(mean).mul(this.cfg.imgRange);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

/**
 * nn.LayerNorm over the channels (weights gamma, beta). tfjs's LayerNormalization tiles its
 * statistics and weights to the input's full shape (four activation-sized copies per norm,
 * slow on wasm); this broadcasts them.
 */
export class DatLayerNorm extends tf.layers.Layer {
  static className = 'RestoraDatLayerNorm';
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  constructor(config: { epsilon?: number; name?: string }) {
    super(config);
    const eps = config.epsilon ?? DAT_EPS;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0 || eps > 1) throw new Error(`layer ${String(config.name ?? DatLayerNorm.className)} (${DatLayerNorm.className}) has epsilon ${JSON.stringify(eps)}: expected a number in (0, 1]`);
    this.epsilon = eps;
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const s = shape as tf.Shape;
    const c = s[s.length - 1]!;
    this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => layerNorm(x, this.gamma.read(), this.beta.read(), this.epsilon));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

interface AttentionConfig extends tf.serialization.ConfigDict {
  heads: number;
  qkvBias: boolean;
}

type Init = ReturnType<typeof tf.initializers.zeros>;

/**
 * What both attentions share: qkv and proj linears, the depthwise-conv branch on v
 * (dwconv 3x3, BN, GELU), the channel interaction (average pool, 1x1 to C/8, BN, GELU, 1x1
 * back) and the spatial interaction (1x1 to C/16, BN, GELU, 1x1 to one map).
 */
abstract class DatAttention<C extends AttentionConfig> extends tf.layers.Layer {
  readonly cfg: C;
  protected w: Record<string, tf.LayerVariable> = {};
  protected channels = 0;
  constructor(config: { name?: string }, cfg: C) {
    super(config);
    this.cfg = cfg;
  }
  protected add(name: string, shape: number[], init: Init): void {
    this.w[name] = this.addWeight(name, shape, 'float32', init);
  }
  protected r(name: string): tf.Tensor {
    return this.w[name]!.read();
  }
  protected buildShared(c: number): void {
    const className = (this.constructor as unknown as { className: string }).className;
    if (!Number.isInteger(c) || c < 16 || c > MAX_CHANNELS) throw new Error(`layer ${this.name} (${className}): ${c} channels (expected 16 to ${MAX_CHANNELS})`);
    this.channels = c;
    const linear = tf.initializers.truncatedNormal({ stddev: 0.02 });
    const conv = tf.initializers.glorotUniform({});
    this.add('qkv_kernel', [c, 3 * c], linear);
    if (this.cfg.qkvBias) this.add('qkv_bias', [3 * c], tf.initializers.zeros());
    this.add('proj_kernel', [c, c], linear);
    this.add('proj_bias', [c], tf.initializers.zeros());
    this.add('dwconv_kernel', [3, 3, c, 1], conv);
    this.add('dwconv_bias', [c], tf.initializers.zeros());
    const c8 = Math.floor(c / 8);
    const c16 = Math.floor(c / 16);
    const bn = (n: string, k: number) => {
      this.add(`${n}_bn_scale`, [k], tf.initializers.ones());
      this.add(`${n}_bn_offset`, [k], tf.initializers.zeros());
    };
    bn('dwconv', c);
    this.add('ci_conv1_kernel', [c, c8], conv);
    this.add('ci_conv1_bias', [c8], tf.initializers.zeros());
    bn('ci', c8);
    this.add('ci_conv2_kernel', [c8, c], conv);
    this.add('ci_conv2_bias', [c], tf.initializers.zeros());
    this.add('si_conv1_kernel', [c, c16], conv);
    this.add('si_conv1_bias', [c16], tf.initializers.zeros());
    bn('si', c16);
    this.add('si_conv2_kernel', [c16, 1], conv);
    this.add('si_conv2_bias', [1], tf.initializers.zeros());
  }
  protected affine(x: tf.Tensor, n: string): tf.Tensor {
    return x.mul(this.r(`${n}_bn_scale`)).add(this.r(`${n}_bn_offset`));
  }
  /** [B, H, W, 3C] */
  protected qkv(x: tf.Tensor): tf.Tensor4D {
    return dense(x, this.r('qkv_kernel'), this.cfg.qkvBias ? this.r('qkv_bias') : undefined) as tf.Tensor4D;
  }
  /** GELU(BN(dwconv(v))) */
  protected convBranch(v: tf.Tensor4D): tf.Tensor4D {
    return gelu(this.affine(depthwise3x3(v, this.r('dwconv_kernel') as tf.Tensor4D).add(this.r('dwconv_bias')), 'dwconv')) as tf.Tensor4D;
  }
  /** Channel interaction, before the sigmoid: [B, 1, 1, C]. */
  protected channelMap(x: tf.Tensor4D): tf.Tensor {
    const pooled = x.mean([1, 2], true);
    const hidden = gelu(this.affine(dense(pooled, this.r('ci_conv1_kernel'), this.r('ci_conv1_bias')), 'ci'));
    return dense(hidden, this.r('ci_conv2_kernel'), this.r('ci_conv2_bias'));
  }
  /** Spatial interaction, before the sigmoid: [B, H, W, 1]. */
  protected spatialMap(x: tf.Tensor4D): tf.Tensor {
    const hidden = gelu(this.affine(dense(x, this.r('si_conv1_kernel'), this.r('si_conv1_bias')), 'si'));
    return dense(hidden, this.r('si_conv2_kernel'), this.r('si_conv2_bias'));
  }
  protected project(x: tf.Tensor): tf.Tensor {
    return dense(x, this.r('proj_kernel'), this.r('proj_bias'));
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return shape as tf.Shape;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

interface SpatialConfig extends AttentionConfig {
  /** split_size: branch 0 attends in windows of splitH rows x splitW columns, branch 1 in splitW x splitH. */
  splitH: number;
  splitW: number;
  /** Whether this block works on windows shifted by half a window (the reference's rule by group and block index). */
  shifted: boolean;
  /** DynamicPosBias's residual form (pos + pos1(pos) ...); the released DAT builds it without. */
  posResidual: boolean;
}

/**
 * DAT's Adaptive Spatial Attention. The channels split in halves; branch i attends, with
 * floor(heads / 2) heads scaled by head_dim^-0.5, within windows of (splitH x splitW) for
 * branch 0 and (splitW x splitH) for branch 1, plus a dynamic position bias: an MLP
 * (pos_proj, then LayerNorm-ReLU-Linear three times) of each pair's offset (dy, dx). The MLP
 * runs here on the offsets of all N x N pairs, which is the reference's table of
 * (2h-1)(2w-1) offsets gathered per pair, without the gather. As the reference, q/k/v are
 * zero-padded at the bottom/right to a multiple of max(split) (zeros after the qkv linear),
 * shifted blocks roll them by -(split / 2) (branch 1 transposed), mask pairs of different
 * regions with -100 and roll back, and the output is cropped: exact for any input size.
 * Weights: the shared ones (DatAttention), then per branch attns_<i>_pos_{proj_kernel,
 * proj_bias, 1_gamma, 1_beta, 1_kernel, 1_bias, 2_..., 3_...}.
 */
export class DatSpatialAttention extends DatAttention<SpatialConfig> {
  static className = 'RestoraDatSpatialAttention';
  private offsets: (tf.Tensor | null)[] = [null, null];
  constructor(config: { heads: number; splitH: number; splitW: number; shifted?: boolean; qkvBias?: boolean; posResidual?: boolean; name?: string }) {
    const cls = DatSpatialAttention.className;
    super(config, {
      heads: layerSetting(config, 'heads', 2, MAX_HEADS, cls),
      splitH: layerSetting(config, 'splitH', 2, MAX_SPLIT, cls),
      splitW: layerSetting(config, 'splitW', 2, MAX_SPLIT, cls),
      shifted: config.shifted === true,
      qkvBias: config.qkvBias !== false,
      posResidual: config.posResidual === true,
    });
  }
  /** floor(heads / 2) heads per branch. */
  get branchHeads(): number {
    return Math.floor(this.cfg.heads / 2);
  }
  /** DynamicPosBias's width: (C/2 // 4) // 4. */
  static posDim(c: number): number {
    return Math.floor(Math.floor(Math.floor(c / 2) / 4) / 4);
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const c = (shape as tf.Shape)[3]!;
    const h2 = this.branchHeads;
    if (c % 2 !== 0 || (c / 2) % h2 !== 0) throw new Error(`layer ${this.name} (${DatSpatialAttention.className}): ${c} channels do not split into two branches of ${h2} heads`);
    const p = DatSpatialAttention.posDim(c);
    if (p < 1) throw new Error(`layer ${this.name} (${DatSpatialAttention.className}): ${c} channels leave the position bias MLP no width (DAT needs 32 or more)`);
    this.buildShared(c);
    const linear = tf.initializers.truncatedNormal({ stddev: 0.02 });
    for (const i of [0, 1]) {
      const n = `attns_${i}_pos`;
      this.add(`${n}_proj_kernel`, [2, p], linear);
      this.add(`${n}_proj_bias`, [p], tf.initializers.zeros());
      for (const k of [1, 2, 3]) {
        this.add(`${n}${k}_gamma`, [p], tf.initializers.ones());
        this.add(`${n}${k}_beta`, [p], tf.initializers.zeros());
        this.add(`${n}${k}_kernel`, [p, k === 3 ? h2 : p], linear);
        this.add(`${n}${k}_bias`, [k === 3 ? h2 : p], tf.initializers.zeros());
      }
    }
    this.built = true;
  }
  /** Branch i's window: rows x columns. */
  private window(i: number): [number, number] {
    const { splitH, splitW } = this.cfg;
    return i === 0 ? [splitH, splitW] : [splitW, splitH];
  }
  /** The position bias of branch i: [heads', N, N]. */
  private positionBias(i: number): tf.Tensor {
    const [wh, ww] = this.window(i);
    const n = wh * ww;
    this.offsets[i] ??= tf.keep(tf.tensor2d(pairOffsets(wh, ww), [n * n, 2]));
    const p = `attns_${i}_pos`;
    const stage = (x: tf.Tensor, k: number) => dense(tf.relu(layerNorm(x, this.r(`${p}${k}_gamma`), this.r(`${p}${k}_beta`))), this.r(`${p}${k}_kernel`), this.r(`${p}${k}_bias`));
    let pos = dense(this.offsets[i], this.r(`${p}_proj_kernel`), this.r(`${p}_proj_bias`));
    if (this.cfg.posResidual) {
      pos = pos.add(stage(pos, 1));
      pos = pos.add(stage(pos, 2));
    } else {
      pos = stage(stage(pos, 1), 2);
    }
    return stage(pos, 3).reshape([n, n, this.branchHeads]).transpose([2, 0, 1]);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const half = c / 2;
      const heads = this.branchHeads;
      const qkv = this.qkv(x);
      const v = qkv.slice([0, 0, 0, 2 * c], [b, h, w, c]);
      const m = Math.max(this.cfg.splitH, this.cfg.splitW);
      const ph = (m - (h % m)) % m;
      const pw = (m - (w % m)) % m;
      const H = h + ph;
      const W = w + pw;
      const padded =
        ph || pw
          ? tf.pad(qkv, [
              [0, 0],
              [0, ph],
              [0, pw],
              [0, 0],
            ])
          : qkv;
      const outs: tf.Tensor4D[] = [];
      for (const i of [0, 1]) {
        const [wh, ww] = this.window(i);
        const [sh, sw] = this.cfg.shifted ? [Math.floor(wh / 2), Math.floor(ww / 2)] : [0, 0];
        const n = wh * ww;
        const nWin = (H / wh) * (W / ww);
        const part = (offset: number) => {
          const t = padded.slice([0, 0, 0, offset + i * half], [b, H, W, half]);
          return toWindows(this.cfg.shifted ? roll(t, -sh, -sw) : t, wh, ww, heads);
        };
        const q = part(0).mul((half / heads) ** -0.5);
        const k = part(c);
        const vv = part(2 * c);
        // Large tensors [B*nWin, heads, N, N]: each step disposes the one before.
        let s: tf.Tensor = tf.matMul(q, k, false, true);
        const step = (next: tf.Tensor) => {
          s.dispose();
          s = next;
        };
        step(s.add(this.positionBias(i)));
        if (this.cfg.shifted) {
          // The reference's -100 between regions, as one of four masks per window (see shiftMasks).
          const masks = tf.tensor2d(shiftMasks(wh, ww, sh, sw), [4, n * n]);
          const mask = tf.gather(masks, tf.tensor1d(windowTypes(H / wh, W / ww, b), 'int32')).reshape([b * nWin, 1, n, n]);
          step(s.add(mask));
          mask.dispose();
        }
        step(tf.softmax(s));
        const o = fromWindows(tf.matMul(s, vv) as tf.Tensor4D, b, H, W, wh, ww);
        s.dispose();
        const back = this.cfg.shifted ? roll(o, sh, sw) : o;
        outs.push(ph || pw ? back.slice([0, 0, 0, 0], [b, h, w, half]) : back);
      }
      const att = tf.concat(outs, 3);
      const conv = this.convBranch(v);
      // The conv branch's channel map gates the attention, the attention's spatial map the conv branch.
      const gatedAtt = att.mul(tf.sigmoid(this.channelMap(conv)));
      const gatedConv = conv.mul(tf.sigmoid(this.spatialMap(att)));
      return this.project(gatedAtt.add(gatedConv));
    });
  }
  override dispose(): tf.serialization.ConfigDict & { refCountAfterDispose: number; numDisposedVariables: number } {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      for (const t of this.offsets) t?.dispose();
      this.offsets = [null, null];
    }
    return result as never;
  }
}

/**
 * DAT's Adaptive Channel Attention (after XCiT): per head, q and k as head_dim x tokens,
 * L2-normalised over the tokens, scores (q k^T) * temperature[head] between channels,
 * softmax, times v. The conv branch as in the spatial attention, but here the attention's
 * channel map gates the conv branch and the conv branch's spatial map the attention.
 * Weights: the shared ones (DatAttention), then temperature [heads].
 */
export class DatChannelAttention extends DatAttention<AttentionConfig> {
  static className = 'RestoraDatChannelAttention';
  constructor(config: { heads: number; qkvBias?: boolean; name?: string }) {
    super(config, { heads: layerSetting(config, 'heads', 1, MAX_HEADS, DatChannelAttention.className), qkvBias: config.qkvBias !== false });
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const c = (shape as tf.Shape)[3]!;
    if (c % this.cfg.heads !== 0) throw new Error(`layer ${this.name} (${DatChannelAttention.className}): ${c} channels do not split into ${this.cfg.heads} heads`);
    this.buildShared(c);
    this.add('temperature', [this.cfg.heads], tf.initializers.ones());
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const heads = this.cfg.heads;
      const hd = c / heads;
      const qkv = this.qkv(x);
      const part = (i: number) => qkv.slice([0, 0, 0, i * c], [b, h, w, c]);
      // [B, heads, hd, L]
      const perHead = (t: tf.Tensor) => t.reshape([b, h * w, heads, hd]).transpose([0, 2, 3, 1]);
      // F.normalize: t / max(|t|, 1e-12) over the tokens.
      const unit = (t: tf.Tensor) => t.div(tf.maximum(t.square().sum(-1, true).sqrt(), 1e-12));
      const v = part(2);
      const q = unit(perHead(part(0)));
      const k = unit(perHead(part(1)));
      const scores = tf.matMul(q, k, false, true).mul(this.r('temperature').reshape([1, heads, 1, 1]));
      const att = tf.matMul(tf.softmax(scores), perHead(v)).transpose([0, 3, 1, 2]).reshape([b, h, w, c]) as tf.Tensor4D;
      const conv = this.convBranch(v as tf.Tensor4D);
      const gatedAtt = att.mul(tf.sigmoid(this.spatialMap(conv)));
      const gatedConv = conv.mul(tf.sigmoid(this.channelMap(att)));
      return this.project(gatedAtt.add(gatedConv));
    });
  }
}

/**
 * The Spatial-Gate Feed-Forward Network: fc1 to `hidden`, GELU, split in halves x1, x2;
 * x2 = depthwise 3x3 (LayerNorm(x2)); fc2(x1 * x2). Weights: fc1_kernel, fc1_bias,
 * norm_gamma, norm_beta, conv_kernel [3, 3, hidden/2, 1], conv_bias, fc2_kernel, fc2_bias.
 */
export class DatSGFN extends tf.layers.Layer {
  static className = 'RestoraDatSGFN';
  readonly hidden: number;
  private w: Record<string, tf.LayerVariable> = {};
  constructor(config: { hidden: number; name?: string }) {
    super(config);
    this.hidden = layerSetting(config, 'hidden', 2, 4 * MAX_CHANNELS, DatSGFN.className);
    if (this.hidden % 2 !== 0) throw new Error(`layer ${String(config.name ?? DatSGFN.className)} (${DatSGFN.className}): hidden width ${this.hidden} does not split in halves`);
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const c = (shape as tf.Shape)[3]!;
    const g = this.hidden / 2;
    const add = (name: string, s: number[], init: Init) => (this.w[name] = this.addWeight(name, s, 'float32', init));
    const linear = tf.initializers.truncatedNormal({ stddev: 0.02 });
    add('fc1_kernel', [c, this.hidden], linear);
    add('fc1_bias', [this.hidden], tf.initializers.zeros());
    add('norm_gamma', [g], tf.initializers.ones());
    add('norm_beta', [g], tf.initializers.zeros());
    add('conv_kernel', [3, 3, g, 1], tf.initializers.glorotUniform({}));
    add('conv_bias', [g], tf.initializers.zeros());
    add('fc2_kernel', [g, c], linear);
    add('fc2_bias', [c], tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return shape as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const r = (n: string) => this.w[n]!.read();
      const [b, h, w] = x.shape;
      const g = this.hidden / 2;
      const y = gelu(dense(x, r('fc1_kernel'), r('fc1_bias')));
      const x1 = y.slice([0, 0, 0, 0], [b, h, w, g]);
      const x2 = layerNorm(y.slice([0, 0, 0, g], [b, h, w, g]), r('norm_gamma'), r('norm_beta'));
      const gate = depthwise3x3(x2 as tf.Tensor4D, r('conv_kernel') as tf.Tensor4D).add(r('conv_bias'));
      return dense(x1.mul(gate), r('fc2_kernel'), r('fc2_bias'));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), hidden: this.hidden };
  }
}

for (const cls of [DatNormalize, DatLayerNorm, DatSpatialAttention, DatChannelAttention, DatSGFN]) tf.serialization.registerClass(cls);
