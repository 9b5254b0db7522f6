/**
 * CodeFormer from a PyTorch state dict: recognises the layout by its keys, reads the
 * hyper-parameters off the block lists and shapes, checks that the VQGAN blocks are
 * exactly the ones those hyper-parameters give (./codeformer.ts, codeformerPlan), and
 * maps each tensor onto the tfjs layers (OIHW -> HWIO; Linear [out, in] -> [in, out]).
 * Consumes every key it places from `sd`, so the importer can report anything left over.
 *
 * Two numbers are not in a state dict: the GroupNorm group count and the transformer's
 * head count. Detection assumes the released file's (32 groups, 8 heads); `assume`
 * overrides them for a file known to differ (the small test fixture).
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { registerDetector, type ArchOptions, type DetectedModel } from '../registry.js';
import { unsupportedFaceModel } from '../gfpgan/torch.js';
import { loadPlan, type TorchTensor } from '../torchWeights.js';
import { codeformerConfig, codeformerPlan, type Block, type BlockKind } from './codeformer.js';

type Dict = Map<string, TorchTensor>;

/** What a state dict cannot tell: the released file's values unless overridden. */
export interface CodeformerAssumptions {
  groups?: number;
  heads?: number;
}

type LayerClass = 'Conv2D' | 'Norm' | 'Dense' | 'Table' | 'TransformerLayer';
type Plan = Map<string, { cls: LayerClass; tensors: TorchTensor[] }>;

/** Number of indices N in keys matching re (capturing N), or -1 when they are not 0..N-1. */
function count(keys: string[], re: RegExp): number {
  const seen = new Set<number>();
  for (const k of keys) {
    const m = re.exec(k);
    if (m) seen.add(Number(m[1]));
  }
  for (let i = 0; i < seen.size; i++) if (!seen.has(i)) return -1;
  return seen.size;
}

export function detectCodeformer(sd: Dict, file: string, assume: CodeformerAssumptions = {}): DetectedModel | null {
  const keys = [...sd.keys()];
  const has = (prefix: string) => keys.some((k) => k.startsWith(prefix));
  const vqgan = sd.has('quantize.embedding.weight') && has('encoder.blocks.') && has('generator.blocks.');
  const transformer = sd.has('position_emb') || has('ft_layers.') || has('idx_pred_layer.') || has('fuse_convs_dict.');
  if (!transformer) {
    // CodeFormer's stage 1 (vqgan_code1024.pth) reconstructs faces it is given: no restorer on its own.
    if (vqgan) unsupportedFaceModel(file, keys, "a VQGAN codebook without CodeFormer's transformer");
    return null;
  }
  const refuse = (why: string): never => unsupportedFaceModel(file, keys, `CodeFormer-like, but ${why}`);
  const shape = (key: string, rank: number): number[] => {
    const t = sd.get(key);
    if (!t) return refuse(`${key} is missing`);
    if (t.shape.length !== rank) return refuse(`${key} has shape [${t.shape}]`);
    return t.shape;
  };

  // The VQGAN's block lists, each block's kind told by its keys.
  const blocksOf = (pre: 'encoder' | 'generator'): Block[] => {
    const n = count(keys, new RegExp(`^${pre}\\.blocks\\.(\\d+)\\.`));
    if (n < 1) refuse(`its ${pre} blocks are missing or misnumbered`);
    return Array.from({ length: n }, (_, i): Block => {
      const p = `${pre}.blocks.${i}`;
      if (sd.has(`${p}.conv1.weight`)) {
        const [cout, cin] = shape(`${p}.conv1.weight`, 4);
        return { kind: 'res', cin: cin!, cout: cout! };
      }
      if (sd.has(`${p}.q.weight`)) {
        const c = shape(`${p}.q.weight`, 4)[0]!;
        return { kind: 'attn', cin: c, cout: c };
      }
      if (sd.has(`${p}.conv.weight`)) {
        const c = shape(`${p}.conv.weight`, 4)[0]!;
        return { kind: pre === 'encoder' ? 'down' : 'up', cin: c, cout: c };
      }
      const w = sd.get(`${p}.weight`);
      if (w?.shape.length === 4) return { kind: i === 0 ? 'conv_in' : 'conv_out', cin: w.shape[1]!, cout: w.shape[0]! };
      if (w?.shape.length === 1) return { kind: 'norm', cin: w.shape[0]!, cout: w.shape[0]! };
      return refuse(`${p} is no VQGAN block`);
    });
  };
  const enc = blocksOf('encoder');
  const gen = blocksOf('generator');

  // Encoder: conv_in, then per level resBlocks ResBlocks (each followed by attention at an
  // attention resolution) and a downsample between levels, then res, attn, res, norm, conv_out.
  const [tokensN, dim] = shape('position_emb', 2) as [number, number];
  const latent = Math.round(Math.sqrt(tokensN));
  if (latent * latent !== tokensN) refuse(`position_emb has ${tokensN} rows, not a square latent grid`);
  const [codebookSize, embDim] = shape('quantize.embedding.weight', 2) as [number, number];
  const tail = enc
    .slice(-5)
    .map((b) => b.kind)
    .join();
  if (enc[0]!.kind !== 'conv_in' || tail !== 'res,attn,res,norm,conv_out') refuse('its encoder does not start and end as a VQGAN encoder does');
  const nf = enc[0]!.cout;
  const levels: Block[][] = [[]];
  for (const b of enc.slice(1, -5)) {
    if (b.kind === 'down') levels.push([]);
    else levels[levels.length - 1]!.push(b);
  }
  const n = levels.length;
  const size = latent * 2 ** (n - 1);
  const resBlocks = levels[0]!.filter((b) => b.kind === 'res').length;
  const chMult = levels.map((l) => l[l.length - 1]?.cout ?? 0).map((c) => c / nf);
  const attnResolutions = levels.flatMap((l, i) => (l.some((b) => b.kind === 'attn') ? [size / 2 ** i] : []));
  const connect = [
    ...new Set(
      keys
        .map((k) => /^fuse_convs_dict\.(\d+)\./.exec(k)?.[1])
        .filter((v): v is string => v !== undefined)
        .map(Number),
    ),
  ].sort((a, b) => a - b);
  const layers = count(keys, /^ft_layers\.(\d+)\./);
  if (layers < 1) refuse('its transformer layers are missing or misnumbered');

  const archOptions: ArchOptions = {
    size,
    nf,
    chMult: chMult.join(','),
    resBlocks,
    attnResolutions: attnResolutions.join(','),
    codebookSize,
    embDim,
    dim,
    heads: assume.heads ?? 8,
    layers,
    connect: connect.join(','),
    groups: assume.groups ?? 32,
  };
  let cfg: ReturnType<typeof codeformerConfig>;
  try {
    cfg = codeformerConfig(archOptions);
  } catch (err) {
    return refuse(err instanceof Error ? err.message.replace(/^codeformer: /, '') : String(err));
  }
  // The block lists those options give must be the file's, block for block.
  const plan = codeformerPlan(cfg);
  const same = (a: Block[], b: Block[]) => a.length === b.length && a.every((x, i) => x.kind === b[i]!.kind && x.cin === b[i]!.cin && x.cout === b[i]!.cout);
  if (!same(plan.enc, enc)) refuse(`its encoder blocks differ from a VQGAN of ${size} px, nf ${nf}, [${chMult}], ${resBlocks} blocks a level`);
  if (!same(plan.gen, gen)) refuse(`its generator blocks differ from a VQGAN of ${size} px, nf ${nf}, [${chMult}], ${resBlocks} blocks a level`);
  if (shape('ft_layers.0.linear1.weight', 2)[0] !== 2 * dim) refuse(`its transformer's MLP is not twice its width ${dim}`);
  if (shape('feat_emb.weight', 2)[1] !== embDim) refuse(`feat_emb does not take the ${embDim}-channel latent`);

  const take = (key: string): TorchTensor => {
    const t = sd.get(key);
    if (!t) throw new RestoraError('MODEL_INVALID', `${file}: missing tensor ${key}`, file);
    sd.delete(key);
    return t;
  };
  // Read every tensor now, so a missing one fails detection (before a network is built).
  const layerPlan: Plan = new Map();
  const put = (prefix: string, cls: LayerClass, suffixes = ['weight', 'bias']) => layerPlan.set(prefix.replaceAll('.', '_'), { cls, tensors: suffixes.map((s) => take(s ? `${prefix}.${s}` : prefix)) });
  const resBlock = (p: string, b: Block) => {
    for (const m of ['norm1', 'norm2']) put(`${p}.${m}`, 'Norm');
    for (const m of ['conv1', 'conv2']) put(`${p}.${m}`, 'Conv2D');
    if (b.cin !== b.cout) put(`${p}.conv_out`, 'Conv2D');
  };
  const blocks = (pre: string, list: Block[]) =>
    list.forEach((b, i) => {
      const p = `${pre}.blocks.${i}`;
      const kind: BlockKind = b.kind;
      if (kind === 'res') resBlock(p, b);
      else if (kind === 'attn') {
        put(`${p}.norm`, 'Norm');
        for (const m of ['q', 'k', 'v', 'proj_out']) put(`${p}.${m}`, 'Conv2D');
      } else if (kind === 'down' || kind === 'up') put(`${p}.conv`, 'Conv2D');
      else put(p, kind === 'norm' ? 'Norm' : 'Conv2D');
    });
  blocks('encoder', plan.enc);
  blocks('generator', plan.gen);
  put('feat_emb', 'Dense');
  put('position_emb', 'Table', ['']);
  for (let l = 0; l < layers; l++) {
    const p = `ft_layers.${l}`;
    layerPlan.set(p.replace('.', '_'), {
      cls: 'TransformerLayer',
      tensors: [
        'norm1.weight',
        'norm1.bias',
        'self_attn.in_proj_weight',
        'self_attn.in_proj_bias',
        'self_attn.out_proj.weight',
        'self_attn.out_proj.bias',
        'norm2.weight',
        'norm2.bias',
        'linear1.weight',
        'linear1.bias',
        'linear2.weight',
        'linear2.bias',
      ].map((s) => take(`${p}.${s}`)),
    });
  }
  put('idx_pred_layer.0', 'Norm');
  put('idx_pred_layer.1', 'Dense', ['weight']);
  layerPlan.set('quantize', { cls: 'Table', tensors: [take('quantize.embedding.weight')] });
  for (const r of connect) {
    const f = `fuse_convs_dict.${r}`;
    const c = plan.channels.get(r)!;
    resBlock(`${f}.encode_enc`, { kind: 'res', cin: 2 * c, cout: c });
    for (const m of ['scale.0', 'scale.2', 'shift.0', 'shift.2']) put(`${f}.${m}`, 'Conv2D');
  }

  return {
    arch: 'codeformer',
    scale: 1,
    archOptions,
    layout: `CodeFormer (${size} px, ${layers} transformer layers, ${codebookSize} codes, fuses at ${connect.join(', ') || 'none'})`,
    loadInto: (model) => loadPlan(model, layerPlan, toLayerValues, file, 'CodeFormer'),
  };
}

/** PyTorch tensors of one layer -> the tfjs layer's weights, in its getWeights() order. */
function toLayerValues(cls: LayerClass, ts: TorchTensor[]): tf.Tensor[] {
  const t = (x: TorchTensor) => tf.tensor(x.data, x.shape);
  const flat = (x: TorchTensor) => tf.tensor1d(x.data);
  const kernel = (x: TorchTensor) => t(x).transpose(); // Linear [out, in] -> Dense [in, out]
  switch (cls) {
    case 'Conv2D':
      return [t(ts[0]!).transpose([2, 3, 1, 0]), flat(ts[1]!)]; // OIHW -> HWIO
    case 'Norm':
      return [flat(ts[0]!), flat(ts[1]!)];
    case 'Dense':
      return ts.length === 2 ? [kernel(ts[0]!), flat(ts[1]!)] : [kernel(ts[0]!)];
    case 'Table':
      return [t(ts[0]!)];
    case 'TransformerLayer':
      // n1w n1b inW inB outW outB n2w n2b l1w l1b l2w l2b: the matrices transposed, vectors as they are.
      return ts.map((x, i) => ([2, 4, 8, 10].includes(i) ? kernel(x) : flat(x)));
  }
}

registerDetector('codeformer', (sd, file) => detectCodeformer(sd, file));
