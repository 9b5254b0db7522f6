/**
 * RestoreFormer++ from a PyTorch state dict: recognises the layout by its keys, reads the
 * hyper-parameters off the block lists and shapes, checks that the file holds exactly the
 * tensors those hyper-parameters give (./restoreformer.ts, restoreformerKeys), and maps each
 * onto the tfjs layers (OIHW -> HWIO; 1x1 attention convs -> [in, out] kernels). Consumes
 * every key it places from `sd`, so the importer can report anything left over.
 *
 * The released RestoreFormer++.ckpt is a PyTorch Lightning checkpoint: the importer unwraps
 * its 'state_dict', whose keys carry the Lightning module's 'vqvae.' prefix (the release's
 * own loader strips it); a bare state dict (no prefix) is read the same way. Tensors under
 * 'loss.' (the training losses' networks a full Lightning checkpoint may carry next to the
 * model, which the release's loader skips with strict=False) are dropped.
 *
 * Three numbers are not in a state dict: the face size (only the attention resolutions depend
 * on it), the GroupNorm group count and the attention head count. Detection assumes the
 * released file's (512 px, 32 groups, 4 heads); `assume` overrides them for a file known to
 * differ (the small test fixture).
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { registerDetector, type ArchOptions, type DetectedModel } from '../registry.js';
import { unsupportedFaceModel } from '../gfpgan/torch.js';
import { loadPlan, type TorchTensor } from '../torchWeights.js';
import { restoreformerConfig, restoreformerKeys, type RestoreformerConfig } from './restoreformer.js';

type Dict = Map<string, TorchTensor>;

/** What a state dict cannot tell: the released file's values unless overridden. */
export interface RestoreformerAssumptions {
  size?: number;
  groups?: number;
  heads?: number;
}

type LayerClass = 'Conv2D' | 'Norm' | 'Attention' | 'Codebook';

/** The indices N in keys matching re (capturing N), sorted; null when they are not 0..N-1. */
function indices(keys: string[], re: RegExp): number[] | null {
  const seen = new Set<number>();
  for (const k of keys) {
    const m = re.exec(k);
    if (m) seen.add(Number(m[1]));
  }
  const list = [...seen].sort((a, b) => a - b);
  return list.every((v, i) => v === i) ? list : null;
}

export function detectRestoreformer(sd: Dict, file: string, assume: RestoreformerAssumptions = {}): DetectedModel | null {
  const all = [...sd.keys()];
  const pre = sd.has('vqvae.encoder.conv_in.weight') ? 'vqvae.' : '';
  // RestoreFormer's attention blocks have two norms (norm1, norm2), taming's VQGAN one (norm): told apart here.
  const signature = ['encoder.conv_in.weight', 'decoder.conv_in.weight', 'quantize.embedding.weight', 'quant_conv.weight', 'post_quant_conv.weight', 'decoder.mid.attn_1.norm2.weight'];
  if (!signature.every((k) => sd.has(pre + k))) return null;
  const keys = all.filter((k) => k.startsWith(pre) && !k.startsWith('loss.')).map((k) => k.slice(pre.length));
  const refuse = (why: string): never => unsupportedFaceModel(file, all, `RestoreFormer-like, but ${why}`);
  const get = (key: string) => sd.get(pre + key);
  const shape = (key: string, rank: number): number[] => {
    const t = get(key);
    if (!t) return refuse(`${pre}${key} is missing`);
    if (t.shape.length !== rank) return refuse(`${pre}${key} has shape [${t.shape}]`);
    return t.shape;
  };

  const [nf, inCh] = shape('encoder.conv_in.weight', 4) as [number, number];
  if (inCh !== 3 || shape('decoder.conv_out.weight', 4)[0] !== 3) refuse('it does not take and give RGB');
  const down = indices(keys, /^encoder\.down\.(\d+)\./);
  const up = indices(keys, /^decoder\.up\.(\d+)\./);
  if (!down || !up || down.length < 2 || down.length !== up.length) refuse('its encoder and decoder levels are missing, misnumbered or do not pair up');
  const n = down!.length;
  const blocks = indices(keys, /^encoder\.down\.0\.block\.(\d+)\./);
  if (!blocks || blocks.length < 1) refuse('its first encoder level has no numbered blocks');
  const resBlocks = blocks!.length;
  const chMult = down!.map((i) => {
    const m = shape(`encoder.down.${i}.block.0.conv2.weight`, 4)[0]! / nf;
    if (!Number.isInteger(m)) refuse(`encoder level ${i} has ${m * nf} channels, not a multiple of ${nf}`);
    return m;
  });
  if (!keys.some((k) => k.startsWith('encoder.mid.'))) refuse('its encoder has no mid blocks, whose output the decoder attends to');
  const [codebookSize, embDim] = shape('quantize.embedding.weight', 2) as [number, number];
  const zChannels = shape('quant_conv.weight', 4)[1]!;
  const size = assume.size ?? 512;
  const attnLevels = (enc: boolean) => down!.filter((i) => keys.some((k) => k.startsWith(enc ? `encoder.down.${i}.attn.` : `decoder.up.${i}.attn.`)));
  const toRes = (levels: number[]) => levels.map((i) => size / 2 ** i).sort((a, b) => a - b);
  const decLevels = attnLevels(false);
  // RestoreFormer++ attends across scales: above the latent too. A decoder attending at the latent
  // alone is RestoreFormer (CVPR 2022) or a stage-1 dictionary (ROHQD), which its keys cannot tell apart.
  if (!decLevels.some((i) => i !== n - 1)) refuse('its decoder attends at the latent only (RestoreFormer v1 or a stage-1 dictionary, which a state dict cannot tell apart), not across scales as RestoreFormer++ does');

  const archOptions: ArchOptions = {
    size,
    nf,
    chMult: chMult.join(','),
    resBlocks,
    attnResolutions: toRes(attnLevels(true)).join(','),
    decoderAttnResolutions: toRes(decLevels).join(','),
    codebookSize,
    embDim,
    zChannels,
    heads: assume.heads ?? 4,
    groups: assume.groups ?? 32,
  };
  let cfg: RestoreformerConfig;
  try {
    cfg = restoreformerConfig(archOptions);
  } catch (err) {
    return refuse(err instanceof Error ? err.message.replace(/^restoreformer: /, '') : String(err));
  }
  // The tensors those options give must be the file's, name for name and shape for shape.
  const want = restoreformerKeys(cfg);
  const have = new Set(keys);
  for (const [k, s] of want) {
    const t = get(k);
    if (!t) return refuse(`${pre}${k} is missing for ${n} levels of [${chMult}] x ${nf}, ${resBlocks} blocks a level`);
    if (t.shape.join() !== s.join()) refuse(`${pre}${k} has shape [${t.shape}], the network of its other tensors needs [${s}]`);
    have.delete(k);
  }
  if (have.size > 0) refuse(`${pre}${[...have][0]} has no place in RestoreFormer++ (${have.size} such tensors)`);

  const take = (key: string): TorchTensor => {
    const t = sd.get(pre + key);
    if (!t) throw new RestoraError('MODEL_INVALID', `${file}: missing tensor ${pre}${key}`, file);
    sd.delete(pre + key);
    return t;
  };
  // Read every tensor now, so a missing one fails detection (before a network is built).
  const plan = new Map<string, { cls: LayerClass; tensors: TorchTensor[] }>();
  const owners = new Set(want.map(([k]) => k.replace(/\.(weight|bias)$/, '')));
  const attentions = new Set([...owners].filter((p) => /\.attn(_1|\.\d+)\.q$/.test(p)).map((p) => p.slice(0, -2)));
  for (const p of attentions) {
    const parts = ['norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias', 'q.weight', 'q.bias', 'k.weight', 'k.bias', 'v.weight', 'v.bias', 'proj_out.weight', 'proj_out.bias'];
    plan.set(p.replaceAll('.', '_'), { cls: 'Attention', tensors: parts.map((s) => take(`${p}.${s}`)) });
  }
  for (const p of owners) {
    if ([...attentions].some((a) => p.startsWith(`${a}.`))) continue;
    if (p === 'quantize.embedding') plan.set('quantize', { cls: 'Codebook', tensors: [take('quantize.embedding.weight')] });
    else plan.set(p.replaceAll('.', '_'), { cls: get(`${p}.weight`)!.shape.length === 4 ? 'Conv2D' : 'Norm', tensors: [take(`${p}.weight`), take(`${p}.bias`)] });
  }
  // What a full Lightning checkpoint keeps for training only.
  for (const k of all) if (k.startsWith('loss.')) sd.delete(k);

  return {
    arch: 'restoreformer',
    scale: 1,
    archOptions,
    layout: `RestoreFormer++ (${size} px, ${codebookSize} codes, cross-attention at ${archOptions.decoderAttnResolutions})`,
    loadInto: (model) => loadPlan(model, plan, toLayerValues, file, 'RestoreFormer++'),
  };
}

/** PyTorch tensors of one layer -> the tfjs layer's weights, in its getWeights() order. */
function toLayerValues(cls: LayerClass, ts: TorchTensor[]): tf.Tensor[] {
  const flat = (x: TorchTensor) => tf.tensor1d(x.data);
  const kernel1x1 = (x: TorchTensor) => tf.tensor2d(x.data, [x.shape[0]!, x.shape[1]!]).transpose(); // [out, in, 1, 1] -> [in, out]
  switch (cls) {
    case 'Conv2D':
      return [tf.tensor(ts[0]!.data, ts[0]!.shape).transpose([2, 3, 1, 0]), flat(ts[1]!)]; // OIHW -> HWIO
    case 'Norm':
      return [flat(ts[0]!), flat(ts[1]!)];
    case 'Codebook':
      return [tf.tensor(ts[0]!.data, ts[0]!.shape)];
    case 'Attention':
      // n1w n1b n2w n2b qw qb kw kb vw vb pw pb: the 1x1 kernels as matrices, the vectors as they are.
      return ts.map((x, i) => (i >= 4 && i % 2 === 0 ? kernel1x1(x) : flat(x)));
  }
}

registerDetector('restoreformer', (sd, file) => detectRestoreformer(sd, file));
