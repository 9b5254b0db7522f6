/**
 * CodeFormer (Zhou et al. 2022, "Towards Robust Blind Face Restoration with Codebook
 * Lookup Transformer"): a VQGAN encoder turns the aligned face into a 16x16 latent, a
 * transformer predicts for each latent position a code of the learned face codebook, the
 * looked-up codes (matched to the latent's statistics) go through the VQGAN generator,
 * and at a few resolutions the encoder's features are fused back into the generator,
 * weighted by the fidelity w: 0 trusts the codebook (quality), 1 the input (fidelity).
 *
 * Inputs: the face [B, S, S, 3] in [0, 1] ('face', S = 512 for the released file) and w
 * [B, 1] ('fidelity'); output [B, S, S, 3] in [0, 1], not clamped. Inside, the network
 * works in [-1, 1] as trained. Layers are named after the PyTorch state-dict keys
 * ('.' -> '_'), see ./torch.ts.
 *
 * The released code hard-codes its per-resolution channels, the encoder / generator
 * block at which each resolution is tapped / fused and the latent grid; here they are
 * derived from the config by how the VQGAN appends its blocks (codeformerPlan), which
 * gives exactly the hard-coded values for the released config.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { num, numList, registerArch, wholeNum, type ArchOptions } from '../registry.js';
import { Affine } from '../gfpgan/layers.js';
import { CodeLookup, FidelityFuse, GroupNorm, PositionEmbedding, SpatialAttention, TransformerLayer, vqganResBlock } from './layers.js';

type S = tf.SymbolicTensor;

export interface CodeformerConfig {
  size: number;
  nf: number;
  chMult: number[];
  resBlocks: number;
  attnResolutions: number[];
  codebookSize: number;
  embDim: number;
  dim: number;
  heads: number;
  layers: number;
  connect: number[];
  groups: number;
}

export type BlockKind = 'conv_in' | 'res' | 'attn' | 'down' | 'up' | 'norm' | 'conv_out';
export interface Block {
  kind: BlockKind;
  cin: number;
  cout: number;
}

export interface CodeformerPlan {
  enc: Block[];
  gen: Block[];
  /** Side of the latent grid (16 for the released file). */
  latent: number;
  /** Channels at each resolution. */
  channels: Map<number, number>;
  /** Encoder block whose output is tapped at each resolution. */
  fuseEncoder: Map<number, number>;
  /** Generator block after which each resolution's fusion runs. */
  fuseGenerator: Map<number, number>;
}

/** Encoder and generator block lists in the order the VQGAN appends them, and where each resolution is tapped and fused. */
export function codeformerPlan(cfg: CodeformerConfig): CodeformerPlan {
  const { nf, chMult: mult, resBlocks: R, attnResolutions: attn } = cfg;
  const n = mult.length;
  const latent = cfg.size / 2 ** (n - 1);
  const channels = new Map<number, number>();
  for (let i = 0; i < n; i++) channels.set(cfg.size / 2 ** i, nf * mult[i]!);
  const enc: Block[] = [{ kind: 'conv_in', cin: 3, cout: nf }];
  const fuseEncoder = new Map<number, number>();
  let res = cfg.size;
  let cin = nf;
  for (let i = 0; i < n; i++) {
    const cout = nf * mult[i]!;
    for (let r = 0; r < R; r++) {
      enc.push({ kind: 'res', cin, cout });
      cin = cout;
      fuseEncoder.set(res, enc.length - 1); // the level's last ResBlock, before its attention
      if (attn.includes(res)) enc.push({ kind: 'attn', cin, cout: cin });
    }
    if (i !== n - 1) {
      enc.push({ kind: 'down', cin, cout: cin });
      res /= 2;
    }
  }
  for (const kind of ['res', 'attn', 'res', 'norm'] as const) enc.push({ kind, cin, cout: cin });
  enc.push({ kind: 'conv_out', cin, cout: cfg.embDim });

  cin = nf * mult[n - 1]!;
  const gen: Block[] = [{ kind: 'conv_in', cin: cfg.embDim, cout: cin }];
  for (const kind of ['res', 'attn', 'res'] as const) gen.push({ kind, cin, cout: cin });
  const fuseGenerator = new Map<number, number>();
  res = latent;
  for (let i = n - 1; i >= 0; i--) {
    const cout = nf * mult[i]!;
    for (let r = 0; r < R; r++) {
      gen.push({ kind: 'res', cin, cout });
      cin = cout;
      // Fused after the first ResBlock of a level above the latent, after the last one at the latent.
      if ((r === 0 && res !== latent) || (r === R - 1 && res === latent)) fuseGenerator.set(res, gen.length - 1);
      if (attn.includes(res)) gen.push({ kind: 'attn', cin, cout: cin });
    }
    if (i !== 0) {
      gen.push({ kind: 'up', cin, cout: cin });
      res *= 2;
    }
  }
  gen.push({ kind: 'norm', cin, cout: cin }, { kind: 'conv_out', cin, cout: 3 });
  return { enc, gen, latent, channels, fuseEncoder, fuseGenerator };
}

/** The options as a checked config: sizes that fit together, channels the GroupNorm groups divide, heads that divide the width. */
export function codeformerConfig(o: ArchOptions): CodeformerConfig {
  const bad = (why: string): never => {
    throw new RestoraError('USAGE', `codeformer: ${why}`);
  };
  const whole = (key: string, max: number) => wholeNum(o, key, max, 'codeformer');
  const cfg: CodeformerConfig = {
    size: whole('size', 2048),
    nf: whole('nf', 1024),
    chMult: numList(o, 'chMult', 'codeformer', false),
    resBlocks: whole('resBlocks', 16),
    attnResolutions: numList(o, 'attnResolutions', 'codeformer'),
    codebookSize: whole('codebookSize', 65536),
    embDim: whole('embDim', 4096),
    dim: whole('dim', 4096),
    heads: whole('heads', 64),
    layers: whole('layers', 64),
    connect: numList(o, 'connect', 'codeformer'),
    groups: whole('groups', 4096),
  };
  const n = cfg.chMult.length;
  if (n < 2 || n > 8) bad(`chMult must have 2 to 8 levels, not ${n}`);
  const latent = cfg.size / 2 ** (n - 1);
  if (!Number.isInteger(latent) || !Number.isInteger(Math.log2(cfg.size)) || latent > 64) bad(`size ${cfg.size} must be a power of two whose ${n - 1} halvings leave a latent grid of 1 to 64`);
  if (cfg.dim % cfg.heads !== 0) bad(`width ${cfg.dim} does not split into ${cfg.heads} heads`);
  const odd = cfg.chMult.map((m) => m * cfg.nf).find((c) => c % cfg.groups !== 0);
  if (odd !== undefined) bad(`${odd} channels do not split into ${cfg.groups} GroupNorm groups`);
  const resolutions = cfg.chMult.map((_, i) => cfg.size / 2 ** i);
  const stray = [...cfg.connect, ...cfg.attnResolutions].find((r) => !resolutions.includes(r));
  if (stray !== undefined) bad(`resolution ${stray} is not one of the network's (${resolutions.join(', ')})`);
  return cfg;
}

function build(_scale: number, o: ArchOptions): tf.LayersModel {
  const cfg = codeformerConfig(o);
  const plan = codeformerPlan(cfg);
  const conv = (x: S, filters: number, kernelSize: number, name: string, strides = 1, padding: 'same' | 'valid' = 'same'): S => tf.layers.conv2d({ filters, kernelSize, strides, padding, name }).apply(x) as S;
  const norm = (x: S, name: string, swish: boolean): S => new GroupNorm({ groups: cfg.groups, epsilon: 1e-6, swish, name }).apply(x) as S;
  const resBlock = (x: S, cout: number, name: string): S => vqganResBlock(x, cout, name, cfg.groups, 'conv_out');
  const attnBlock = (x: S, name: string): S => {
    const c = x.shape[3]!;
    const h = norm(x, `${name}_norm`, false);
    const [q, k, v] = ['q', 'k', 'v'].map((m) => conv(h, c, 1, `${name}_${m}`));
    const a = new SpatialAttention({ name: `${name}_attend` }).apply([q!, k!, v!]) as S;
    return tf.layers.add({ name: `${name}_add` }).apply([x, conv(a, c, 1, `${name}_proj_out`)]) as S;
  };
  const block = (x: S, b: Block, name: string): S => {
    switch (b.kind) {
      case 'conv_in':
      case 'conv_out':
        return conv(x, b.cout, 3, name);
      case 'res':
        return resBlock(x, b.cout, name);
      case 'attn':
        return attnBlock(x, name);
      case 'down': // PyTorch's VQGAN pads right and bottom by one, then a valid stride-2 conv
        return conv(
          tf.layers
            .zeroPadding2d({
              padding: [
                [0, 1],
                [0, 1],
              ],
              name: `${name}_pad`,
            })
            .apply(x) as S,
          b.cout,
          3,
          `${name}_conv`,
          2,
          'valid',
        );
      case 'up':
        return conv(tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `${name}_upsample` }).apply(x) as S, b.cout, 3, `${name}_conv`);
      case 'norm':
        return norm(x, name, false);
    }
  };

  const size = cfg.size;
  const face = tf.input({ shape: [size, size, 3], name: 'face' });
  const fidelity = tf.input({ shape: [1], name: 'fidelity' });
  let x = new Affine({ scale: 2, offset: -1, name: 'to_signed' }).apply(face) as S;
  const tapAt = new Map(cfg.connect.map((r) => [plan.fuseEncoder.get(r)!, r]));
  const taps = new Map<number, S>();
  plan.enc.forEach((b, i) => {
    x = block(x, b, `encoder_blocks_${i}`);
    const r = tapAt.get(i);
    if (r !== undefined) taps.set(r, x);
  });
  const lq = x;

  // Tokens in row-major order (token = y * side + x), as PyTorch flattens its latent.
  const tokensN = plan.latent * plan.latent;
  let tokens = tf.layers.reshape({ targetShape: [tokensN, cfg.embDim], name: 'feat_emb_tokens' }).apply(lq) as S;
  tokens = tf.layers.dense({ units: cfg.dim, name: 'feat_emb' }).apply(tokens) as S;
  const pos = new PositionEmbedding({ tokens: tokensN, dim: cfg.dim, name: 'position_emb' }).apply(tokens) as S;
  for (let l = 0; l < cfg.layers; l++) tokens = new TransformerLayer({ heads: cfg.heads, mlp: 2 * cfg.dim, epsilon: 1e-5, name: `ft_layers_${l}` }).apply([tokens, pos]) as S;
  let logits = tf.layers.layerNormalization({ epsilon: 1e-5, name: 'idx_pred_layer_0' }).apply(tokens) as S;
  logits = tf.layers.dense({ units: cfg.codebookSize, useBias: false, name: 'idx_pred_layer_1' }).apply(logits) as S;
  let z = new CodeLookup({ codes: cfg.codebookSize, dim: cfg.embDim, name: 'quantize' }).apply([logits, lq]) as S;

  const fuseAt = new Map(cfg.connect.map((r) => [plan.fuseGenerator.get(r)!, r]));
  plan.gen.forEach((b, i) => {
    z = block(z, b, `generator_blocks_${i}`);
    const r = fuseAt.get(i);
    if (r === undefined) return;
    const f = `fuse_convs_dict_${r}`;
    const c = plan.channels.get(r)!;
    const both = tf.layers.concatenate({ axis: -1, name: `${f}_concat` }).apply([taps.get(r)!, z]) as S;
    const e = resBlock(both, c, `${f}_encode_enc`);
    const branch = (kind: string) => conv(tf.layers.leakyReLU({ alpha: 0.2, name: `${f}_${kind}_lrelu` }).apply(conv(e, c, 3, `${f}_${kind}_0`)) as S, c, 3, `${f}_${kind}_2`);
    z = new FidelityFuse({ name: `${f}_fuse` }).apply([z, branch('scale'), branch('shift'), fidelity]) as S;
  });
  const out = new Affine({ scale: 0.5, offset: 0.5, name: 'to_unit' }).apply(z) as S;
  return tf.model({ inputs: [face, fidelity], outputs: out, name: `codeformer_${size}` });
}

/** The released codeformer.pth (v0.1.0): 512 px, VQGAN nf 64 x [1,2,2,4,4,8], 1024 codes of 256, 9 layers of 512 / 8 heads. */
export const CODEFORMER_RELEASED: ArchOptions = {
  size: 512,
  nf: 64,
  chMult: '1,2,2,4,4,8',
  resBlocks: 2,
  attnResolutions: '16',
  codebookSize: 1024,
  embDim: 256,
  dim: 512,
  heads: 8,
  layers: 9,
  connect: '32,64,128,256',
  groups: 32,
};

registerArch({
  id: 'codeformer',
  importName: 'CodeFormer',
  description: 'CodeFormer: face restoration on a 512 px aligned face with a fidelity weight; import-only',
  scales: [1],
  defaults: CODEFORMER_RELEASED,
  role: 'face',
  sizeMultiple: (_s, o) => num(o, 'size'),
  build,
  receptiveRadius: (o) => num(o, 'size'),
});
