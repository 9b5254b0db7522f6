/**
 * RestoreFormer++ (Wang et al., "RestoreFormer++: Towards Real-World Blind Face Restoration
 * from Undegraded Key-Value Pairs", TPAMI 2023): a taming-transformers style VQVAE whose
 * encoder turns the aligned face into a latent grid (16x16 for the released file), each
 * latent vector replaced by its nearest code of a learned high-quality face dictionary,
 * and whose decoder restores the face from the codes with multi-head CROSS-attention at
 * several scales: the degraded face's encoder features ask (queries), the decoder's
 * dictionary-derived features answer (keys and values).
 *
 * Input: the face [B, S, S, 3] in [0, 1] ('face', S = 512 for the released file); output
 * [B, S, S, 3] in [0, 1], not clamped. Inside, the network works in [-1, 1] as trained.
 * Layers are named after the PyTorch state-dict keys ('.' -> '_'), see ./torch.ts.
 *
 * Structure (levels i = 0..n-1 at resolution S / 2^i, with nf * chMult[i] channels):
 * encoder: conv_in; per level resBlocks ResnetBlocks, each followed by self-attention at
 * the encoder's attention resolutions, and a downsample between levels; mid (ResnetBlock,
 * self-attention, ResnetBlock); norm_out, swish, conv_out (zChannels); quant_conv (embDim).
 * decoder (after the quantiser and post_quant_conv): conv_in; mid with cross-attention to
 * the encoder's mid output; per level from the latent up resBlocks + 1 ResnetBlocks, each
 * followed by cross-attention at the decoder's attention resolutions, reading the
 * encoder's output of that level (at the latent level: the encoder's first mid block),
 * and an upsample between levels; norm_out, swish, conv_out.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { num, numList, registerArch, wholeNum, type ArchOptions } from '../registry.js';
import { Affine } from '../gfpgan/layers.js';
import { GroupNorm, vqganResBlock } from '../codeformer/layers.js';
import { MultiHeadCrossAttention, NearestCode } from './layers.js';

type S = tf.SymbolicTensor;

export interface RestoreformerConfig {
  size: number;
  nf: number;
  chMult: number[];
  resBlocks: number;
  /** Encoder self-attention resolutions. */
  attnResolutions: number[];
  /** Decoder cross-attention resolutions. */
  decoderAttnResolutions: number[];
  codebookSize: number;
  embDim: number;
  zChannels: number;
  heads: number;
  groups: number;
}

/** The options as a checked config: sizes that fit together, channels the GroupNorm groups and the heads divide. */
export function restoreformerConfig(o: ArchOptions): RestoreformerConfig {
  const bad = (why: string): never => {
    throw new RestoraError('USAGE', `restoreformer: ${why}`);
  };
  const whole = (key: string, max: number) => wholeNum(o, key, max, 'restoreformer');
  const cfg: RestoreformerConfig = {
    size: whole('size', 2048),
    nf: whole('nf', 1024),
    chMult: numList(o, 'chMult', 'restoreformer'),
    resBlocks: whole('resBlocks', 16),
    attnResolutions: numList(o, 'attnResolutions', 'restoreformer'),
    decoderAttnResolutions: numList(o, 'decoderAttnResolutions', 'restoreformer'),
    codebookSize: whole('codebookSize', 65536),
    embDim: whole('embDim', 4096),
    zChannels: whole('zChannels', 4096),
    heads: whole('heads', 64),
    groups: whole('groups', 4096),
  };
  const n = cfg.chMult.length;
  if (n < 2 || n > 8) bad(`chMult must have 2 to 8 levels, not ${n}`);
  const latent = cfg.size / 2 ** (n - 1);
  if (!Number.isInteger(latent) || !Number.isInteger(Math.log2(cfg.size))) bad(`size ${cfg.size} must be a power of two that halves ${n - 1} times`);
  const resolutions = cfg.chMult.map((_, i) => cfg.size / 2 ** i);
  const stray = [...cfg.attnResolutions, ...cfg.decoderAttnResolutions].find((r) => !resolutions.includes(r));
  if (stray !== undefined) bad(`resolution ${stray} is not one of the network's (${resolutions.join(', ')})`);
  const channels = cfg.chMult.map((m) => m * cfg.nf);
  const odd = channels.find((c) => c % cfg.groups !== 0);
  if (odd !== undefined) bad(`${odd} channels do not split into ${cfg.groups} GroupNorm groups`);
  // Attention runs in the mid blocks (the last level's width) and at the attention resolutions.
  const attended = [channels[n - 1]!, ...[...cfg.attnResolutions, ...cfg.decoderAttnResolutions].map((r) => channels[resolutions.indexOf(r)]!)];
  const split = attended.find((c) => c % cfg.heads !== 0);
  if (split !== undefined) bad(`${split} channels do not split into ${cfg.heads} heads`);
  return cfg;
}

/**
 * Every tensor of the PyTorch model for a config, in state-dict order, as [key, shape]:
 * what ./torch.ts expects a file to hold, and the count the built network must have.
 */
export function restoreformerKeys(cfg: RestoreformerConfig): [string, number[]][] {
  const out: [string, number[]][] = [];
  const conv = (p: string, cout: number, cin: number, k: number) => out.push([`${p}.weight`, [cout, cin, k, k]], [`${p}.bias`, [cout]]);
  const norm = (p: string, c: number) => out.push([`${p}.weight`, [c]], [`${p}.bias`, [c]]);
  const res = (p: string, cin: number, cout: number) => {
    norm(`${p}.norm1`, cin);
    conv(`${p}.conv1`, cout, cin, 3);
    norm(`${p}.norm2`, cout);
    conv(`${p}.conv2`, cout, cout, 3);
    if (cin !== cout) conv(`${p}.nin_shortcut`, cout, cin, 1);
  };
  const attn = (p: string, c: number) => {
    norm(`${p}.norm1`, c);
    norm(`${p}.norm2`, c);
    for (const m of ['q', 'k', 'v', 'proj_out']) conv(`${p}.${m}`, c, c, 1);
  };
  const mid = (p: string, c: number) => {
    res(`${p}.block_1`, c, c);
    attn(`${p}.attn_1`, c);
    res(`${p}.block_2`, c, c);
  };
  const n = cfg.chMult.length;
  const ch = cfg.chMult.map((m) => m * cfg.nf);
  const resAt = (i: number) => cfg.size / 2 ** i;
  conv('encoder.conv_in', cfg.nf, 3, 3);
  let cin = cfg.nf;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cfg.resBlocks; j++) res(`encoder.down.${i}.block.${j}`, j === 0 ? cin : ch[i]!, ch[i]!);
    cin = ch[i]!;
    if (cfg.attnResolutions.includes(resAt(i))) for (let j = 0; j < cfg.resBlocks; j++) attn(`encoder.down.${i}.attn.${j}`, cin);
    if (i !== n - 1) conv(`encoder.down.${i}.downsample.conv`, cin, cin, 3);
  }
  mid('encoder.mid', cin);
  norm('encoder.norm_out', cin);
  conv('encoder.conv_out', cfg.zChannels, cin, 3);
  conv('decoder.conv_in', cin, cfg.zChannels, 3);
  mid('decoder.mid', cin);
  const levels: [string, number[]][][] = [];
  for (let i = n - 1; i >= 0; i--) {
    const start = out.length;
    for (let j = 0; j <= cfg.resBlocks; j++) res(`decoder.up.${i}.block.${j}`, j === 0 ? cin : ch[i]!, ch[i]!);
    cin = ch[i]!;
    if (cfg.decoderAttnResolutions.includes(resAt(i))) for (let j = 0; j <= cfg.resBlocks; j++) attn(`decoder.up.${i}.attn.${j}`, cin);
    if (i !== 0) conv(`decoder.up.${i}.upsample.conv`, cin, cin, 3);
    levels[i] = out.splice(start);
  }
  out.push(...levels.flat()); // the state dict lists the levels 0..n-1, though they are built from the latent up
  norm('decoder.norm_out', cin);
  conv('decoder.conv_out', 3, cin, 3);
  out.push(['quantize.embedding.weight', [cfg.codebookSize, cfg.embDim]]);
  conv('quant_conv', cfg.embDim, cfg.zChannels, 1);
  conv('post_quant_conv', cfg.zChannels, cfg.embDim, 1);
  return out;
}

function build(_scale: number, o: ArchOptions): tf.LayersModel {
  const cfg = restoreformerConfig(o);
  const n = cfg.chMult.length;
  const ch = cfg.chMult.map((m) => m * cfg.nf);
  const resAt = (i: number) => cfg.size / 2 ** i;
  const conv = (x: S, filters: number, kernelSize: number, name: string, strides = 1, padding: 'same' | 'valid' = 'same'): S => tf.layers.conv2d({ filters, kernelSize, strides, padding, name }).apply(x) as S;
  const norm = (x: S, name: string, swish: boolean): S => new GroupNorm({ groups: cfg.groups, epsilon: 1e-6, swish, name }).apply(x) as S;
  const resBlock = (x: S, cout: number, name: string): S => vqganResBlock(x, cout, name, cfg.groups, 'nin_shortcut');
  const attention = (x: S, name: string, y?: S): S => new MultiHeadCrossAttention({ heads: cfg.heads, groups: cfg.groups, epsilon: 1e-6, cross: y !== undefined, name }).apply(y ? [x, y] : x) as S;

  const face = tf.input({ shape: [cfg.size, cfg.size, 3], name: 'face' });
  let x = new Affine({ scale: 2, offset: -1, name: 'to_signed' }).apply(face) as S;
  // Encoder, keeping what the decoder's cross-attention reads: each level's output before
  // its downsample, the first mid block's output (read at the latent level) and the mid's output.
  x = conv(x, cfg.nf, 3, 'encoder_conv_in');
  const levelOut: S[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cfg.resBlocks; j++) {
      x = resBlock(x, ch[i]!, `encoder_down_${i}_block_${j}`);
      if (cfg.attnResolutions.includes(resAt(i))) x = attention(x, `encoder_down_${i}_attn_${j}`);
    }
    levelOut.push(x);
    if (i !== n - 1)
      x = conv(
        tf.layers
          .zeroPadding2d({
            padding: [
              [0, 1],
              [0, 1],
            ],
            name: `encoder_down_${i}_downsample_pad`,
          })
          .apply(x) as S,
        ch[i]!,
        3,
        `encoder_down_${i}_downsample_conv`,
        2,
        'valid',
      );
  }
  x = resBlock(x, ch[n - 1]!, 'encoder_mid_block_1');
  levelOut[n - 1] = x;
  x = resBlock(attention(x, 'encoder_mid_attn_1'), ch[n - 1]!, 'encoder_mid_block_2');
  const midOut = x;
  x = conv(norm(x, 'encoder_norm_out', true), cfg.zChannels, 3, 'encoder_conv_out');
  x = conv(x, cfg.embDim, 1, 'quant_conv');

  x = new NearestCode({ codes: cfg.codebookSize, dim: cfg.embDim, name: 'quantize' }).apply(x) as S;
  x = conv(x, cfg.zChannels, 1, 'post_quant_conv');

  x = conv(x, ch[n - 1]!, 3, 'decoder_conv_in');
  x = resBlock(x, ch[n - 1]!, 'decoder_mid_block_1');
  x = attention(x, 'decoder_mid_attn_1', midOut);
  x = resBlock(x, ch[n - 1]!, 'decoder_mid_block_2');
  for (let i = n - 1; i >= 0; i--) {
    for (let j = 0; j <= cfg.resBlocks; j++) {
      x = resBlock(x, ch[i]!, `decoder_up_${i}_block_${j}`);
      if (cfg.decoderAttnResolutions.includes(resAt(i))) x = attention(x, `decoder_up_${i}_attn_${j}`, levelOut[i]);
    }
    if (i !== 0) {
      const up = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `decoder_up_${i}_upsample` }).apply(x) as S;
      x = conv(up, ch[i]!, 3, `decoder_up_${i}_upsample_conv`);
    }
  }
  x = conv(norm(x, 'decoder_norm_out', true), 3, 3, 'decoder_conv_out');
  const out = new Affine({ scale: 0.5, offset: 0.5, name: 'to_unit' }).apply(x) as S;
  return tf.model({ inputs: face, outputs: out, name: `restoreformer_${cfg.size}` });
}

/**
 * The released RestoreFormer++.ckpt: VQVAEGANMultiHeadTransformer(head_size=4,
 * ex_multi_scale_num=1): 512 px, nf 64 x [1,2,2,4,4,8], 2 blocks a level, encoder attention
 * at 16, decoder cross-attention at 16 and 32, 1024 codes of 256, GroupNorm(32).
 */
export const RESTOREFORMER_RELEASED: ArchOptions = {
  size: 512,
  nf: 64,
  chMult: '1,2,2,4,4,8',
  resBlocks: 2,
  attnResolutions: '16',
  decoderAttnResolutions: '16,32',
  codebookSize: 1024,
  embDim: 256,
  zChannels: 256,
  heads: 4,
  groups: 32,
};

registerArch({
  id: 'restoreformer',
  importName: 'RestoreFormer++',
  description: 'RestoreFormer++: face restoration on a 512 px aligned face; import-only',
  scales: [1],
  defaults: RESTOREFORMER_RELEASED,
  role: 'face',
  sizeMultiple: (_s, o) => num(o, 'size'),
  build,
  receptiveRadius: (o) => num(o, 'size'),
});
