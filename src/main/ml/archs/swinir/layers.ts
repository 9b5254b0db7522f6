/**
 * SwinIR's pieces that tfjs has no layer for, registered with tfjs serialization so an
 * imported SwinIR saves and loads as an ordinary layers model:
 *
 * - SwinTransformerBlock: one Swin layer of a residual group (LayerNorm, window multi-head
 *   self-attention with the relative position bias, optionally on windows shifted by half a
 *   window, residual; LayerNorm, MLP with exact GELU, residual), all its weights its own.
 * - SwinirNormalize: (x - rgb_mean) * img_range on the way in, x / img_range + rgb_mean out.
 * - PadToWindow / CropToInput: the reference pads its input bottom/right with reflection
 *   to a multiple of the window and crops the output back; tiling already hands the model
 *   aligned tiles (so these do nothing there), but a whole image of any size (the importer's
 *   16x16 probe for a window-7 model, predictImage) goes through the same way.
 *
 * Every op in call() is a differentiable tfjs op that every backend has (reshape, transpose,
 * matMul, softmax, gather, slice + concat for the cyclic shift, which tfjs has no roll for),
 * and nothing reads tensors back: the constants (the relative position index and the shift
 * mask) are computed in JS from the input's concrete shape. The bias table's gather has its
 * gradient written as a one-hot product (tfjs's own needs UnsortedSegmentSum, which the wasm
 * backend lacks), so an imported SwinIR fine-tunes on wasm as on WebGPU.
 */
import * as tf from '@tensorflow/tfjs';
import { layerSetting, mirrorPadBottomRight } from '../layers.js';

/** The RGB mean of DIV2K every released SwinIR normalises with (the reference's constant for 3 channels). */
export const SWINIR_RGB_MEAN = [0.4488, 0.4371, 0.404] as const;

const MAX_CHANNELS = 4096;
const MAX_HEADS = 64;
const MAX_WINDOW = 64;
const MAX_SCALE = 16;
/** PyTorch's nn.LayerNorm default. */
const LN_EPS = 1e-5;
/** What the reference adds to the scores of token pairs a shifted window brought together from different regions. */
const MASKED = -100;

/** Disposes `prev` once `next` is made from it: inside call() this keeps one activation of each size alive, not every step's. */
function then<T extends tf.Tensor>(prev: tf.Tensor, next: T): T {
  if (prev !== next) prev.dispose();
  return next;
}

/** LayerNorm over the last axis (PyTorch's nn.LayerNorm): biased variance, eps inside the root; one copy of x alive at a time beside it. */
function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const mean = x.mean(-1, true);
    const centred = then(mean, x.sub(mean));
    const sq = centred.square();
    const variance = then(sq, sq.mean(-1, true));
    const inv = then(variance, tf.rsqrt(variance.add(eps)));
    let y = centred.mul(inv);
    centred.dispose();
    y = then(y, y.mul(gamma));
    return then(y, y.add(beta));
  });
}

/** [M, K] @ [K, N] + [N] as one fused product (XNNPACK's fast path on wasm). */
function dense(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  return tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias }) as tf.Tensor2D;
}

/** PyTorch's nn.GELU (exact): x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let e = x.mul(Math.SQRT1_2);
    e = then(e, tf.erf(e));
    e = then(e, e.add(1));
    e = then(e, e.mul(x));
    return then(e, e.mul(0.5));
  });
}

/** torch.roll(x, [k, k], [1, 2]) on NHWC: a cyclic shift of rows and columns by k (k < 0 shifts up / left). */
function roll2d(x: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const ph = ((-k % h) + h) % h;
    const pw = ((-k % w) + w) % w;
    let y = x;
    const swap = (first: tf.Tensor4D, second: tf.Tensor4D, axis: number) => {
      const z = tf.concat([first, second], axis);
      first.dispose();
      second.dispose();
      if (y !== x) y.dispose();
      y = z;
    };
    if (ph) swap(y.slice([0, ph, 0, 0], [b, h - ph, w, c]), y.slice([0, 0, 0, 0], [b, ph, w, c]), 1);
    if (pw) swap(y.slice([0, 0, pw, 0], [b, h, w - pw, c]), y.slice([0, 0, 0, 0], [b, h, pw, c]), 2);
    return y;
  });
}

const indexCache = new Map<number, Int32Array>();

/**
 * The relative position index of a w x w window (the reference's relative_position_index
 * buffer): for tokens i = (yi, xi), j = (yj, xj), row-major, (yi - yj + w - 1) * (2w - 1) + (xi - xj + w - 1).
 */
export function relativePositionIndex(w: number): Int32Array {
  let idx = indexCache.get(w);
  if (idx) return idx;
  const n = w * w;
  idx = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / w) - Math.floor(j / w) + w - 1;
      const dx = (i % w) - (j % w) + w - 1;
      idx[i * n + j] = dy * (2 * w - 1) + dx;
    }
  }
  indexCache.set(w, idx);
  return idx;
}

const kindCache = new Map<string, Float32Array>();

/**
 * The shifted-window mask, as the reference computes it for an input of any size: the image
 * is cut into regions [0, H-w), [H-w, H-s), [H-s, H) along each side (3 x 3 regions); after
 * the cyclic shift only the windows of the last window row and column hold tokens of more
 * than one region, and scores between tokens of different regions get -100. So there are
 * four kinds of window (interior, last column, last row, corner): `kinds` holds their
 * [N, N] masks, `of` each window's kind, row-major over the windows.
 */
export function shiftMask(h: number, w: number, ws: number, s: number): { kinds: Float32Array; of: Int32Array } {
  const key = `${ws},${s}`;
  let kinds = kindCache.get(key);
  const n = ws * ws;
  if (!kinds) {
    kinds = new Float32Array(4 * n * n);
    const label = (last: boolean, o: number) => (!last ? 0 : o < ws - s ? 1 : 2);
    for (let kind = 0; kind < 4; kind++) {
      const lastRow = kind >= 2;
      const lastCol = kind % 2 === 1;
      const region = (t: number) => label(lastRow, Math.floor(t / ws)) * 3 + label(lastCol, t % ws);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) kinds[(kind * n + i) * n + j] = region(i) === region(j) ? 0 : MASKED;
    }
    kindCache.set(key, kinds);
  }
  const rows = h / ws;
  const cols = w / ws;
  const of = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) of[r * cols + c] = (r === rows - 1 ? 2 : 0) + (c === cols - 1 ? 1 : 0);
  return { kinds, of };
}

/** The last size's whole mask [nW, N, N], laid out in JS (every shifted layer of a forward asks for the same one). */
let lastMask: { key: string; data: Float32Array } | null = null;

function fullShiftMask(h: number, w: number, ws: number, s: number): Float32Array {
  const key = `${h},${w},${ws},${s}`;
  if (lastMask?.key === key) return lastMask.data;
  const { kinds, of } = shiftMask(h, w, ws, s);
  const nn = ws ** 4;
  const data = new Float32Array(of.length * nn);
  of.forEach((kind, i) => {
    if (kind) data.set(kinds.subarray(kind * nn, (kind + 1) * nn), i * nn);
  });
  lastMask = { key, data };
  return data;
}

/**
 * table[index] as [heads, N, N]: a gather forward; backward, the gather's transpose as a
 * one-hot product (tfjs's gather gradient needs UnsortedSegmentSum, which wasm lacks).
 */
function relativeBias(table: tf.Tensor, w: number): tf.Tensor {
  const idx = relativePositionIndex(w);
  const n = w * w;
  const rows = (2 * w - 1) ** 2;
  const heads = table.shape[1]!;
  const gathered = tf.customGrad((...args) => {
    const t = args[0] as tf.Tensor2D;
    const value = tf.gather(t, tf.tensor1d(idx, 'int32'));
    const gradFunc = (dy: tf.Tensor) => tf.tidy(() => tf.matMul(tf.oneHot(tf.tensor1d(idx, 'int32'), rows).toFloat(), dy as tf.Tensor2D, true, false));
    return { value, gradFunc };
  });
  return tf.tidy(() => gathered(table).reshape([n, n, heads]).transpose([2, 0, 1]));
}

interface BlockConfig extends tf.serialization.ConfigDict {
  heads: number;
  window: number;
  shift: boolean;
  hidden: number;
}

/**
 * One Swin transformer layer of SwinIR (the reference's SwinTransformerBlock) on NHWC
 * features whose sides are multiples of the window:
 *   y = x + roll(+s, WindowAttention(roll(-s, norm1(x))));  out = y + fc2(GELU(fc1(norm2(y))))
 * with s = window / 2 when `shift` (odd layers of each group), 0 otherwise. Window attention:
 * qkv per token, heads split head-major (channel = head * C/heads + i), scores
 * q k^T * (C/heads)^-0.5 + bias[head, i, j] (+ the shift mask), softmax, times v, proj.
 * Weights in getWeights() order, as ./torch.ts fills them: norm1 gamma / beta, qkv kernel
 * [C, 3C] / bias, the relative position bias table [(2w-1)^2, heads], proj kernel / bias,
 * norm2 gamma / beta, fc1 kernel [C, hidden] / bias, fc2 kernel [hidden, C] / bias.
 */
export class SwinTransformerBlock extends tf.layers.Layer {
  static className = 'RestoraSwinTransformerBlock';
  readonly cfg: BlockConfig;
  private w: Record<string, tf.LayerVariable> = {};
  constructor(config: { heads: number; window: number; shift?: boolean; hidden: number; name?: string }) {
    super(config);
    this.cfg = {
      heads: layerSetting(config, 'heads', 1, MAX_HEADS, SwinTransformerBlock.className),
      window: layerSetting(config, 'window', 1, MAX_WINDOW, SwinTransformerBlock.className),
      shift: config.shift === true,
      hidden: layerSetting(config, 'hidden', 1, 16 * MAX_CHANNELS, SwinTransformerBlock.className),
    };
    if (this.cfg.shift && this.cfg.window < 2) throw new Error(`layer ${String(config.name ?? SwinTransformerBlock.className)} (${SwinTransformerBlock.className}): a window of 1 cannot shift`);
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const c = (shape as tf.Shape)[3];
    if (typeof c !== 'number' || c < 1 || c > MAX_CHANNELS) throw new Error(`layer ${this.name} (${SwinTransformerBlock.className}): ${String(c)} channels`);
    if (c % this.cfg.heads !== 0) throw new Error(`layer ${this.name} (${SwinTransformerBlock.className}): ${c} channels do not split into ${this.cfg.heads} heads`);
    const { heads, window: ws, hidden } = this.cfg;
    const add = (name: string, s: number[], init: ReturnType<typeof tf.initializers.zeros>) => (this.w[name] = this.addWeight(name, s, 'float32', init));
    const kernel = () => tf.initializers.glorotUniform({});
    add('norm1_gamma', [c], tf.initializers.ones());
    add('norm1_beta', [c], tf.initializers.zeros());
    add('qkv_kernel', [c, 3 * c], kernel());
    add('qkv_bias', [3 * c], tf.initializers.zeros());
    add('relative_position_bias_table', [(2 * ws - 1) ** 2, heads], tf.initializers.truncatedNormal({ stddev: 0.02 }));
    add('proj_kernel', [c, c], kernel());
    add('proj_bias', [c], tf.initializers.zeros());
    add('norm2_gamma', [c], tf.initializers.ones());
    add('norm2_beta', [c], tf.initializers.zeros());
    add('fc1_kernel', [c, hidden], kernel());
    add('fc1_bias', [hidden], tf.initializers.zeros());
    add('fc2_kernel', [hidden, c], kernel());
    add('fc2_bias', [c], tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return shape as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    const [b, h, w, c] = x.shape;
    const { heads, window: ws } = this.cfg;
    if (h % ws !== 0 || w % ws !== 0) throw new Error(`layer ${this.name} (${SwinTransformerBlock.className}): a ${h}x${w} input is no multiple of the ${ws}-pixel window`);
    const r = (name: string) => this.w[name]!.read();
    const s = this.cfg.shift ? Math.floor(ws / 2) : 0;
    const n = ws * ws;
    const nW = (h / ws) * (w / ws);
    const d = c / heads;
    return tf.tidy(() => {
      // Windows of the (shifted) normalised input: [B * nW * N, C], window-major, row-major within.
      let t: tf.Tensor = layerNorm(x, r('norm1_gamma'), r('norm1_beta'), LN_EPS);
      if (s) t = then(t, roll2d(t as tf.Tensor4D, -s));
      t = then(
        t,
        t
          .reshape([b, h / ws, ws, w / ws, ws, c])
          .transpose([0, 1, 3, 2, 4, 5])
          .reshape([b * nW * n, c]),
      );
      // q, k as [B * nW, heads, N, d], v as [B * nW, heads, d, N], from the one qkv weight's column blocks:
      // both products below then read their operands contiguously.
      const wqkv = r('qkv_kernel');
      const bqkv = r('qkv_bias');
      const part = (i: number, perm: number[]) =>
        tf.tidy(() => {
          const p = dense(t, wqkv.slice([0, i * c], [c, c]), bqkv.slice([i * c], [c]));
          return then(p, p.reshape([b * nW, n, heads, d]).transpose(perm));
        });
      let q = part(0, [0, 2, 1, 3]);
      q = then(q, q.mul(d ** -0.5));
      const k = part(1, [0, 2, 1, 3]);
      const vt = part(2, [0, 2, 3, 1]);
      t.dispose();
      let scores: tf.Tensor = tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true); // [B * nW, heads, N, N]
      q.dispose();
      k.dispose();
      scores = then(scores, scores.add(relativeBias(r('relative_position_bias_table'), ws)));
      if (s) {
        const mask = tf.tidy(() => {
          const m = tf.tensor4d(fullShiftMask(h, w, ws, s), [nW, 1, n, n]);
          return b > 1 ? tf.tile(m, [b, 1, 1, 1]) : m;
        });
        scores = then(scores, scores.add(mask));
        mask.dispose();
      }
      scores = then(scores, tf.softmax(scores, -1));
      let o: tf.Tensor = then(scores, tf.matMul(scores as tf.Tensor4D, vt as tf.Tensor4D, false, true)); // [B * nW, heads, N, d]
      vt.dispose();
      o = then(o, o.transpose([0, 2, 1, 3]).reshape([b * nW * n, c]));
      o = then(o, dense(o, r('proj_kernel'), r('proj_bias')));
      o = then(
        o,
        o
          .reshape([b, h / ws, w / ws, ws, ws, c])
          .transpose([0, 1, 3, 2, 4, 5])
          .reshape([b, h, w, c]),
      );
      if (s) o = then(o, roll2d(o as tf.Tensor4D, s));
      const y = then(o, x.add(o));
      // MLP
      let m: tf.Tensor = layerNorm(y, r('norm2_gamma'), r('norm2_beta'), LN_EPS);
      m = then(m, dense(m.reshape([b * h * w, c]), r('fc1_kernel'), r('fc1_bias')));
      m = then(m, gelu(m));
      m = then(m, dense(m, r('fc2_kernel'), r('fc2_bias')).reshape([b, h, w, c]));
      return then(m, y.add(m));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

/** PyTorch's nn.LayerNorm over channels (patch_embed.norm, norm): gamma and beta, eps 1e-5; without tfjs's tiles of the statistics. */
export class SwinirLayerNorm extends tf.layers.Layer {
  static className = 'RestoraSwinirLayerNorm';
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  override build(shape: tf.Shape | tf.Shape[]): void {
    const c = (shape as tf.Shape)[3];
    if (typeof c !== 'number' || c < 1 || c > MAX_CHANNELS) throw new Error(`layer ${this.name} (${SwinirLayerNorm.className}): ${String(c)} channels`);
    this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return shape as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return layerNorm(x, this.gamma.read(), this.beta.read(), LN_EPS);
  }
}

interface NormalizeConfig extends tf.serialization.ConfigDict {
  imgRange: number;
  inverse: boolean;
}

/** (x - rgb_mean) * imgRange, or with `inverse` x / imgRange + rgb_mean (SwinIR's input and output mapping). */
export class SwinirNormalize extends tf.layers.Layer {
  static className = 'RestoraSwinirNormalize';
  readonly cfg: NormalizeConfig;
  constructor(config: { imgRange: number; inverse?: boolean; name?: string }) {
    super(config);
    const range = config.imgRange;
    if (typeof range !== 'number' || !Number.isFinite(range) || range <= 0 || range > 65535) {
      throw new Error(`layer ${String(config.name ?? SwinirNormalize.className)} (${SwinirNormalize.className}) has imgRange ${JSON.stringify(range)}: expected a number in (0, 65535]`);
    }
    this.cfg = { imgRange: range, inverse: config.inverse === true };
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return shape as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const { imgRange, inverse } = this.cfg;
    return tf.tidy(() => {
      const mean = tf.tensor4d([...SWINIR_RGB_MEAN], [1, 1, 1, 3]);
      return inverse ? x.div(imgRange).add(mean) : x.sub(mean).mul(imgRange);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

/** Pads bottom / right by reflection to a multiple of `window` (the reference's check_image_size); aligned inputs pass unchanged. */
export class PadToWindow extends tf.layers.Layer {
  static className = 'RestoraSwinirPadToWindow';
  readonly window: number;
  constructor(config: { window: number; name?: string }) {
    super(config);
    this.window = layerSetting(config, 'window', 1, MAX_WINDOW, PadToWindow.className);
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = shape as tf.Shape;
    const up = (v: number | null) => (v == null ? null : Math.ceil(v / this.window) * this.window);
    return [b!, up(h!), up(w!), c!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    const m = this.window;
    const padH = (m - (x.shape[1] % m)) % m;
    const padW = (m - (x.shape[2] % m)) % m;
    if (!padH && !padW) return x.clone();
    return tf.tidy(() => mirrorPadBottomRight(x, padH, padW, 'reflect'));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), window: this.window };
  }
}

/** Inputs [y, x]: y cropped to x's sides times `scale` (undoes PadToWindow after the upscale). */
export class CropToInput extends tf.layers.Layer {
  static className = 'RestoraSwinirCropToInput';
  readonly scale: number;
  constructor(config: { scale: number; name?: string }) {
    super(config);
    this.scale = layerSetting(config, 'scale', 1, MAX_SCALE, CropToInput.className);
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const [ys, xs] = shape as tf.Shape[];
    const side = (v: number | null | undefined) => (v == null ? null : v * this.scale);
    return [ys![0]!, side(xs![1]), side(xs![2]), ys![3]!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [y, x] = inputs as tf.Tensor4D[];
    const [b, h, w] = x!.shape;
    const c = y!.shape[3];
    if (y!.shape[1] === h * this.scale && y!.shape[2] === w * this.scale) return y!.clone();
    return y!.slice([0, 0, 0, 0], [b, h * this.scale, w * this.scale, c]);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}

for (const cls of [SwinTransformerBlock, SwinirLayerNorm, SwinirNormalize, PadToWindow, CropToInput]) tf.serialization.registerClass(cls);
