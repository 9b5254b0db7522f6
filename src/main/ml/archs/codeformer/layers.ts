/**
 * The pieces of CodeFormer (Zhou et al. 2022) that tfjs has no layer for, registered
 * with tfjs serialization so a CodeFormer saves and loads as an ordinary layers model:
 * GroupNorm (+ swish), the VQGAN's single-head spatial attention, the learned position
 * embedding, a pre-norm transformer layer, the code lookup with AdaIN, and the
 * fidelity-weighted feature fusion. Convolutions, dense maps, padding and upsampling are
 * tfjs's own layers (see ./codeformer.ts).
 *
 * Every op is a differentiable tfjs op; the one exception is the argmax of the code
 * lookup, which has no gradient by nature (the codebook row it picks is a choice, not a
 * function): gradients still reach the encoder through AdaIN's statistics.
 */
import * as tf from '@tensorflow/tfjs';
import { layerSetting } from '../layers.js';

const MAX_CHANNELS = 4096;
const MAX_TOKENS = 65536;
const MAX_CODES = 65536;
const MAX_HEADS = 64;

/** A small positive constant of a layer's config (an epsilon), or its default when not given. */
function positiveNumber(config: Record<string, unknown>, key: string, fallback: number, layer: string): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1) {
    throw new Error(`layer ${String(config.name ?? layer)} (${layer}) has ${key} ${JSON.stringify(v)}: expected a number in (0, 1]`);
  }
  return v;
}

function swish(x: tf.Tensor): tf.Tensor {
  return x.mul(tf.sigmoid(x));
}

/** LayerNorm over the last axis (PyTorch's nn.LayerNorm): biased variance, eps inside the root. */
function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x
    .sub(mean)
    .mul(tf.rsqrt(variance.add(eps)))
    .mul(gamma)
    .add(beta);
}

/** x [..., K] @ kernel [K, N] for any rank of x (as a 2-D product, which every backend has). */
function dense(x: tf.Tensor, kernel: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const k = shape[shape.length - 1]!;
  const y = tf.matMul(x.reshape([-1, k]) as tf.Tensor2D, kernel as tf.Tensor2D);
  const out = y.reshape([...shape.slice(0, -1), kernel.shape[1]!]);
  return bias ? out.add(bias) : out;
}

/**
 * Scaled dot-product attention of [B, L, E] queries, keys and values split into `heads`
 * heads of E / heads channels: softmax(q k^T / sqrt(E / heads)) v, as batched matMuls.
 */
export function attend(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, heads: number): tf.Tensor {
  const [b, l, e] = q.shape as [number, number, number];
  const d = e / heads;
  const split = (t: tf.Tensor) => t.reshape([b, -1, heads, d]).transpose([0, 2, 1, 3]);
  const scores = tf.matMul(split(q).mul(1 / Math.sqrt(d)), split(k), false, true); // [B, H, Lq, Lk]
  const o = tf.matMul(tf.softmax(scores, -1), split(v)); // [B, H, Lq, D]
  return o.transpose([0, 2, 1, 3]).reshape([b, l, e]);
}

interface GroupNormConfig extends tf.serialization.ConfigDict {
  groups: number;
  epsilon: number;
  swish: boolean;
}

/**
 * PyTorch's nn.GroupNorm on NHWC: mean and (biased) variance over H, W and each group's
 * channels, then a per-channel gain and offset; `swish` applies x * sigmoid(x) after it,
 * as every VQGAN norm but the last is followed by one.
 */
export class GroupNorm extends tf.layers.Layer {
  static className = 'RestoraGroupNorm';
  readonly cfg: GroupNormConfig;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  constructor(config: Partial<GroupNormConfig> & { groups: number; name?: string }) {
    super(config);
    this.cfg = {
      groups: layerSetting(config, 'groups', 1, MAX_CHANNELS, GroupNorm.className),
      epsilon: positiveNumber(config, 'epsilon', 1e-6, GroupNorm.className),
      swish: config.swish === true,
    };
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const c = (shape as tf.Shape)[3]!;
    if (c % this.cfg.groups !== 0) throw new Error(`layer ${this.name} (${GroupNorm.className}): ${c} channels do not split into ${this.cfg.groups} groups`);
    this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const g = this.cfg.groups;
      const grouped = x.reshape([b, h, w, g, c / g]);
      const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
      // Folded into one per-channel gain and offset, so the full-size map is touched twice, not four times.
      const gain = tf.rsqrt(variance.add(this.cfg.epsilon)).mul(this.gamma.read().reshape([1, 1, 1, g, c / g]));
      const offset = this.beta
        .read()
        .reshape([1, 1, 1, g, c / g])
        .sub(mean.mul(gain));
      const y = x.mul(gain.reshape([b, 1, 1, c])).add(offset.reshape([b, 1, 1, c]));
      return this.cfg.swish ? swish(y) : y;
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

/**
 * The VQGAN attention block's core: single-head self-attention over the H*W positions of
 * [q, k, v] feature maps (their 1x1 convs are ordinary layers), scaled by C^-0.5.
 */
export class SpatialAttention extends tf.layers.Layer {
  static className = 'RestoraSpatialAttention';
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return (shape as tf.Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [q, k, v] = inputs as tf.Tensor4D[];
    return tf.tidy(() => {
      const [b, h, w, c] = q!.shape;
      const flat = (t: tf.Tensor4D) => t.reshape([b, h * w, c]);
      return attend(flat(q!), flat(k!), flat(v!), 1).reshape([b, h, w, c]);
    });
  }
}

/** CodeFormer's learned position embedding [L, E], repeated for each item of its input's batch. */
export class PositionEmbedding extends tf.layers.Layer {
  static className = 'RestoraPositionEmbedding';
  readonly tokens: number;
  readonly dim: number;
  private table!: tf.LayerVariable;
  constructor(config: { tokens: number; dim: number; name?: string }) {
    super(config);
    this.tokens = layerSetting(config, 'tokens', 1, MAX_TOKENS, PositionEmbedding.className);
    this.dim = layerSetting(config, 'dim', 1, MAX_CHANNELS, PositionEmbedding.className);
  }
  override build(): void {
    this.table = this.addWeight('embeddings', [this.tokens, this.dim], 'float32', tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = Array.isArray(shape[0]) ? (shape as tf.Shape[])[0]! : (shape as tf.Shape);
    return [s[0]!, this.tokens, this.dim];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => tf.tile(this.table.read().expandDims(0), [x.shape[0]!, 1, 1]));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), tokens: this.tokens, dim: this.dim };
  }
}

interface TransformerConfig extends tf.serialization.ConfigDict {
  heads: number;
  mlp: number;
  epsilon: number;
}

/**
 * One of CodeFormer's pre-norm transformer layers. Inputs: [tokens [B, L, E], positions
 * [B, L, E]]. h = LN1(t); t += MHA(q = k = h + pos, v = h); t += W2 gelu(W1 LN2(t)).
 * The position embedding goes into queries and keys only; GELU is the exact (erf) one.
 * Weights follow PyTorch's nn.MultiheadAttention: one packed q|k|v projection.
 */
export class TransformerLayer extends tf.layers.Layer {
  static className = 'RestoraTransformerLayer';
  readonly cfg: TransformerConfig;
  private w: Record<string, tf.LayerVariable> = {};
  constructor(config: Partial<TransformerConfig> & { heads: number; mlp: number; name?: string }) {
    super(config);
    this.cfg = {
      heads: layerSetting(config, 'heads', 1, MAX_HEADS, TransformerLayer.className),
      mlp: layerSetting(config, 'mlp', 1, 4 * MAX_CHANNELS, TransformerLayer.className),
      epsilon: positiveNumber(config, 'epsilon', 1e-5, TransformerLayer.className),
    };
  }
  override build(shape: tf.Shape | tf.Shape[]): void {
    const e = (shape as tf.Shape[])[0]![2]!;
    if (e % this.cfg.heads !== 0) throw new Error(`layer ${this.name} (${TransformerLayer.className}): width ${e} does not split into ${this.cfg.heads} heads`);
    const m = this.cfg.mlp;
    const add = (name: string, s: number[], init: ReturnType<typeof tf.initializers.zeros>) => (this.w[name] = this.addWeight(name, s, 'float32', init));
    // getWeights() order, which ./torch.ts fills: norm1, in_proj, out_proj, norm2, linear1, linear2.
    add('norm1_gamma', [e], tf.initializers.ones());
    add('norm1_beta', [e], tf.initializers.zeros());
    add('in_proj_kernel', [e, 3 * e], tf.initializers.glorotUniform({}));
    add('in_proj_bias', [3 * e], tf.initializers.zeros());
    add('out_proj_kernel', [e, e], tf.initializers.glorotUniform({}));
    add('out_proj_bias', [e], tf.initializers.zeros());
    add('norm2_gamma', [e], tf.initializers.ones());
    add('norm2_beta', [e], tf.initializers.zeros());
    add('linear1_kernel', [e, m], tf.initializers.glorotUniform({}));
    add('linear1_bias', [m], tf.initializers.zeros());
    add('linear2_kernel', [m, e], tf.initializers.glorotUniform({}));
    add('linear2_bias', [e], tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return (shape as tf.Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [t, pos] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const r = (n: string) => this.w[n]!.read();
      const e = t!.shape[2]!;
      const eps = this.cfg.epsilon;
      const h = layerNorm(t!, r('norm1_gamma'), r('norm1_beta'), eps);
      const inK = r('in_proj_kernel');
      const inB = r('in_proj_bias');
      const qk = dense(h.add(pos!), inK.slice([0, 0], [e, 2 * e]), inB.slice(0, 2 * e));
      const v = dense(h, inK.slice([0, 2 * e], [e, e]), inB.slice(2 * e, e));
      const [q, k] = tf.split(qk, 2, -1);
      const a = attend(q!, k!, v, this.cfg.heads);
      const t1 = t!.add(dense(a, r('out_proj_kernel'), r('out_proj_bias')));
      const f = dense(layerNorm(t1, r('norm2_gamma'), r('norm2_beta'), eps), r('linear1_kernel'), r('linear1_bias'));
      const gelu = f.mul(tf.erf(f.mul(Math.SQRT1_2)).add(1)).mul(0.5);
      return t1.add(dense(gelu, r('linear2_kernel'), r('linear2_bias')));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}

/**
 * CodeFormer's code lookup: each token's most likely code (argmax of the logits, no
 * gradient) picks a row of the codebook; the [B, h, w, C] map of rows is then matched
 * (AdaIN) to the encoder latent's per-channel mean and standard deviation, with
 * std = sqrt(unbiased variance + 1e-5) on both sides. Inputs: [logits [B, h*w, N],
 * latent [B, h, w, C]].
 */
export class CodeLookup extends tf.layers.Layer {
  static className = 'RestoraCodeLookup';
  readonly codes: number;
  readonly dim: number;
  private codebook!: tf.LayerVariable;
  constructor(config: { codes: number; dim: number; name?: string }) {
    super(config);
    this.codes = layerSetting(config, 'codes', 1, MAX_CODES, CodeLookup.className);
    this.dim = layerSetting(config, 'dim', 1, MAX_CHANNELS, CodeLookup.className);
  }
  override build(): void {
    this.codebook = this.addWeight('embeddings', [this.codes, this.dim], 'float32', tf.initializers.randomUniform({ minval: -1 / this.codes, maxval: 1 / this.codes }));
    this.built = true;
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w] = (shape as tf.Shape[])[1]!;
    return [b!, h!, w!, this.dim];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [logits, latent] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const [b, h, w, c] = latent!.shape as [number, number, number, number];
      const idx = tf.argMax(logits!, -1).reshape([-1]) as tf.Tensor1D;
      // A one-hot product rather than tf.gather: same rows, and its gradient to the codebook
      // is a matMul (gather's needs UnsortedSegmentSum, which the wasm backend lacks).
      const z = tf.matMul(tf.oneHot(idx, this.codes), this.codebook.read() as tf.Tensor2D).reshape([b, h, w, c]);
      const n = h * w;
      // Unbiased per-channel statistics over the h*w positions (torch.var's default).
      const stats = (t: tf.Tensor) => {
        const { mean, variance } = tf.moments(t, [1, 2], true);
        return { mean, std: tf.sqrt(variance.mul(n / Math.max(n - 1, 1)).add(1e-5)) };
      };
      const zs = stats(z);
      const ls = stats(latent!);
      return z.sub(zs.mean).div(zs.std).mul(ls.std).add(ls.mean);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), codes: this.codes, dim: this.dim };
  }
}

/**
 * CodeFormer's controllable feature transform: dec + w * (dec * scale + shift), with the
 * fidelity weight w [B, 1] per item (0: the codebook's face alone, 1: closest to the input).
 * Inputs: [dec, scale, shift, w].
 */
export class FidelityFuse extends tf.layers.Layer {
  static className = 'RestoraFidelityFuse';
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    return (shape as tf.Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [dec, scale, shift, w] = inputs as tf.Tensor[];
    return tf.tidy(() =>
      dec!.add(
        dec!
          .mul(scale!)
          .add(shift!)
          .mul(w!.reshape([-1, 1, 1, 1])),
      ),
    );
  }
}

for (const cls of [GroupNorm, SpatialAttention, PositionEmbedding, TransformerLayer, CodeLookup, FidelityFuse]) tf.serialization.registerClass(cls);

/**
 * VQGAN's residual block, as CodeFormer and RestoreFormer++ both build it: GroupNorm + swish +
 * 3x3 conv twice, plus the input (through a 1x1 conv named `shortcut` when the width changes).
 */
export function vqganResBlock(x: tf.SymbolicTensor, cout: number, name: string, groups: number, shortcut: string): tf.SymbolicTensor {
  type S = tf.SymbolicTensor;
  const cin = x.shape[3]!;
  const normed = (y: S, n: string) => new GroupNorm({ groups, epsilon: 1e-6, swish: true, name: `${name}_${n}` }).apply(y) as S;
  const conv = (y: S, k: number, n: string) => tf.layers.conv2d({ filters: cout, kernelSize: k, padding: 'same', name: `${name}_${n}` }).apply(y) as S;
  const h = conv(normed(conv(normed(x, 'norm1'), 3, 'conv1'), 'norm2'), 3, 'conv2');
  const skip = cin === cout ? x : conv(x, 1, shortcut);
  return tf.layers.add({ name: `${name}_add` }).apply([h, skip]) as S;
}
