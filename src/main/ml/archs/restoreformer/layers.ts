/**
 * The pieces of RestoreFormer++ (Wang et al., TPAMI 2023) that neither tfjs nor CodeFormer's
 * layers (../codeformer/layers.ts: GroupNorm, attend) provide, registered with tfjs
 * serialization so the network saves and loads as an ordinary layers model:
 *
 * - MultiHeadCrossAttention: the whole attention block of RestoreFormer's VQVAE. Its
 *   self-attention form (encoder) attends over norm1(x); its cross-attention form (decoder)
 *   takes its queries from norm2(y), y the encoder's features at the same resolution, and
 *   its keys and values from norm1(x). Either way the result is x + proj_out(attention).
 * - NearestCode: the vector quantiser, each latent vector replaced by its nearest codebook
 *   row in squared L2 distance.
 *
 * Every op is a differentiable tfjs op except the quantiser's argmin, which has no
 * gradient by nature; as in PyTorch (z + (z_q - z).detach()), the gradient passes straight
 * through the quantiser to the encoder and none reaches the codebook.
 */
import * as tf from '@tensorflow/tfjs';
import { layerSetting } from '../layers.js';
import { attend } from '../codeformer/layers.js';

const MAX_CHANNELS = 4096;
const MAX_CODES = 65536;
const MAX_HEADS = 64;

/** PyTorch's nn.GroupNorm on NHWC, its statistics folded into one per-channel gain and offset. */
function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, eps: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const g = groups;
  const { mean, variance } = tf.moments(x.reshape([b, h, w, g, c / g]), [1, 2, 4], true);
  const gain = tf.rsqrt(variance.add(eps)).mul(gamma.reshape([1, 1, 1, g, c / g]));
  const offset = beta.reshape([1, 1, 1, g, c / g]).sub(mean.mul(gain));
  return x.mul(gain.reshape([b, 1, 1, c])).add(offset.reshape([b, 1, 1, c]));
}

/** [B, L, C] @ [C, N] + [N] as one 2-D product (which every backend has). */
function dense(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const [b, l, c] = x.shape as [number, number, number];
  return tf
    .matMul(x.reshape([b * l, c]) as tf.Tensor2D, kernel as tf.Tensor2D)
    .add(bias)
    .reshape([b, l, kernel.shape[1]!]);
}

interface AttentionConfig extends tf.serialization.ConfigDict {
  heads: number;
  groups: number;
  epsilon: number;
  cross: boolean;
}

/**
 * RestoreFormer's MultiHeadAttnBlock. Inputs: x [B, H, W, C] (self-attention), or [x, y]
 * with y [B, H, W, C] the encoder's features (cross-attention). Heads split the channels
 * head-major (channel = head * C/heads + i); scores are scaled by (C/heads)^-0.5.
 * Weights in getWeights() order, which ./torch.ts fills: norm1 gamma / beta, norm2 gamma /
 * beta, then q, k, v and proj_out as [C_in, C_out] kernels (PyTorch's 1x1 convs) and biases.
 * The self-attention form holds norm2 too and never uses it, as the PyTorch block does.
 */
export class MultiHeadCrossAttention extends tf.layers.Layer {
  static className = 'RestoraMultiHeadCrossAttention';
  readonly cfg: AttentionConfig;
  private w: Record<string, tf.LayerVariable> = {};
  constructor(config: Partial<AttentionConfig> & { heads: number; groups: number; name?: string }) {
    super(config);
    const eps = config.epsilon ?? 1e-6;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0 || eps > 1) {
      throw new Error(`layer ${String(config.name ?? MultiHeadCrossAttention.className)} (${MultiHeadCrossAttention.className}) has epsilon ${JSON.stringify(eps)}: expected a number in (0, 1]`);
    }
    this.cfg = {
      heads: layerSetting(config, 'heads', 1, MAX_HEADS, MultiHeadCrossAttention.className),
      groups: layerSetting(config, 'groups', 1, MAX_CHANNELS, MultiHeadCrossAttention.className),
      epsilon: eps,
      cross: config.cross === true,
    };
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const s = (this.cfg.cross ? (shape as tf.Shape[])[0]! : shape) as tf.Shape;
    const c = s[3]!;
    if (c % this.cfg.groups !== 0) throw new Error(`layer ${this.name} (${MultiHeadCrossAttention.className}): ${c} channels do not split into ${this.cfg.groups} groups`);
    if (c % this.cfg.heads !== 0) throw new Error(`layer ${this.name} (${MultiHeadCrossAttention.className}): ${c} channels do not split into ${this.cfg.heads} heads`);
    const add = (name: string, s2: number[], init: ReturnType<typeof tf.initializers.zeros>) => (this.w[name] = this.addWeight(name, s2, 'float32', init));
    for (const n of ['norm1', 'norm2']) {
      add(`${n}_gamma`, [c], tf.initializers.ones());
      add(`${n}_beta`, [c], tf.initializers.zeros());
    }
    for (const n of ['q', 'k', 'v', 'proj_out']) {
      add(`${n}_kernel`, [c, c], tf.initializers.glorotUniform({}));
      add(`${n}_bias`, [c], tf.initializers.zeros());
    }
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return (this.cfg.cross ? (shape as tf.Shape[])[0]! : shape) as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const x = list[0] as tf.Tensor4D;
    const y = list[1] as tf.Tensor4D | undefined;
    if (this.cfg.cross !== (y !== undefined)) throw new Error(`layer ${this.name} (${MultiHeadCrossAttention.className}) takes ${this.cfg.cross ? '[x, y]' : 'x alone'}`);
    return tf.tidy(() => {
      const r = (n: string) => this.w[n]!.read();
      const { groups, epsilon } = this.cfg;
      const [b, h, w, c] = x.shape;
      const flat = (t: tf.Tensor4D) => t.reshape([b, h * w, c]);
      const hx = flat(groupNorm(x, r('norm1_gamma'), r('norm1_beta'), groups, epsilon));
      const hy = y ? flat(groupNorm(y, r('norm2_gamma'), r('norm2_beta'), groups, epsilon)) : hx;
      const q = dense(hy, r('q_kernel'), r('q_bias'));
      const k = dense(hx, r('k_kernel'), r('k_bias'));
      const v = dense(hx, r('v_kernel'), r('v_bias'));
      const a = attend(q, k, v, this.cfg.heads);
      return x.add(dense(a, r('proj_out_kernel'), r('proj_out_bias')).reshape([b, h, w, c]));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

/**
 * The vector quantiser: each vector z of a [B, h, w, D] latent becomes the codebook row e
 * of least |z|^2 + |e|^2 - 2 z.e (the squared L2 distance, computed as PyTorch computes it),
 * returned as z + (e - z) with PyTorch's straight-through gradient: d/dz = identity, none
 * to the codebook (the argmin has no gradient).
 */
export class NearestCode extends tf.layers.Layer {
  static className = 'RestoraNearestCode';
  readonly codes: number;
  readonly dim: number;
  private codebook!: tf.LayerVariable;
  constructor(config: { codes: number; dim: number; name?: string }) {
    super(config);
    this.codes = layerSetting(config, 'codes', 1, MAX_CODES, NearestCode.className);
    this.dim = layerSetting(config, 'dim', 1, MAX_CHANNELS, NearestCode.className);
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const d = (shape as tf.Shape)[3];
    if (d !== this.dim) throw new Error(`layer ${this.name} (${NearestCode.className}): a ${String(d)}-channel latent for ${this.dim}-dimensional codes`);
    this.codebook = this.addWeight('embeddings', [this.codes, this.dim], 'float32', tf.initializers.randomUniform({ minval: -1 / this.codes, maxval: 1 / this.codes }));
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const z = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const quantise = tf.customGrad((...args) => {
        const zt = args[0] as tf.Tensor4D;
        const e = args[1] as tf.Tensor2D;
        const [b, h, w, d] = zt.shape;
        const flat = zt.reshape([b * h * w, d]) as tf.Tensor2D;
        const dist = flat
          .square()
          .sum(1, true)
          .add(e.square().sum(1))
          .sub(tf.matMul(flat, e, false, true).mul(2));
        const idx = tf.argMin(dist, 1) as tf.Tensor1D;
        // A one-hot product rather than tf.gather: the same rows, on every backend.
        const picked = tf.matMul(tf.oneHot(idx, this.codes).toFloat(), e).reshape([b, h, w, d]);
        return { value: zt.add(picked.sub(zt)), gradFunc: (dy: tf.Tensor) => [dy, tf.zerosLike(e)] };
      });
      return quantise(z, this.codebook.read());
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), codes: this.codes, dim: this.dim };
  }
}

for (const cls of [MultiHeadCrossAttention, NearestCode]) tf.serialization.registerClass(cls);
