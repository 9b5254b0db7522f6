/**
 * RealPLKSR from a PyTorch state dict (neosr and traiNNer-redux files, with the key names
 * chaiNNer's spandrel reads): recognised by its feats.N.channel_mixer / lk / refine keys; dim,
 * n_blocks, kernel_size, split_ratio (large-kernel channels / dim), use_ea (attn keys), the
 * norm (feats.N.norm: GroupNorm after refine; feats.N.layer_norm: LayerNorm before the channel
 * mixer), the upsampler (to_img.* keys: DySample, with its groups off the offset conv) and the
 * scale (the last conv's 3 * scale^2 channels) read off the keys and shapes. GroupNorm's group
 * count is not in a file: 4, as in every public config (spandrel assumes the same).
 * Consumes every key it places from `sd`, so the importer can report anything left over.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { registerDetector, type ArchOptions } from '../registry.js';
import { loadPlan, torchShuffleOrder, type TorchTensor } from '../torchWeights.js';
import { dysampleInitPos } from './layers.js';

type Dict = Map<string, TorchTensor>;
type Cls = 'Conv2D' | 'Norm';

export interface DetectedRealPlksr {
  arch: 'realplksr';
  scale: number;
  archOptions: ArchOptions;
  layout: string;
  layers: Map<string, never>;
  /** Sets every weight of the built model; throws naming the file on any mismatch. */
  loadInto(model: tf.LayersModel): void;
}

function refuse(file: string, why: string): never {
  throw new RestoraError('UNSUPPORTED', `${file}: looks like RealPLKSR, but ${why}: unsupported`, file);
}

const BLOCK_PART = /^feats\.(\d+)\.(channel_mixer|channe_mixer|lk|attn|refine|norm|layer_norm)\./;

/** A state dict of the PLKSR family: a feats.0 head and PLK-block keys under feats.N. */
export function looksLikePlksr(keys: string[]): boolean {
  return keys.includes('feats.0.weight') && keys.some((k) => BLOCK_PART.test(k));
}

export function detectRealPlksr(sd: Dict, file: string): DetectedRealPlksr | null {
  const keys = [...sd.keys()];
  if (!looksLikePlksr(keys)) return null;
  if (keys.some((k) => /^feats\.\d+\.channe_mixer\./.test(k))) {
    refuse(file, 'it is the original PLKSR (feats.N.channe_mixer, no norm), not the Real variant');
  }
  const shape = (key: string) => sd.get(key)?.shape.join('x') ?? 'missing';
  const need = (key: string, want: number[], what: string): TorchTensor => {
    const t = sd.get(key);
    if (!t) refuse(file, `${key} is missing`);
    if (t.shape.join() !== want.join()) refuse(file, `${what} ${key} is [${t.shape.join(', ')}], not [${want.join(', ')}]`);
    return t;
  };

  // feats: 0 the head, 1..n the blocks, n+1 the dropout (no tensors), n+2 the last conv.
  const indices = [
    ...new Set(
      keys
        .map((k) => /^feats\.(\d+)\./.exec(k)?.[1])
        .filter((v): v is string => v !== undefined)
        .map(Number),
    ),
  ].sort((a, b) => a - b);
  const last = indices[indices.length - 1]!;
  const blocks = last - 2;
  const expected = [0, ...Array.from({ length: Math.max(blocks, 0) }, (_, i) => i + 1), last];
  if (blocks < 1 || indices.join() !== expected.join()) refuse(file, `its feats are numbered ${indices.join(', ')} (Restora knows head 0, blocks 1..n, dropout n+1, last conv n+2)`);

  const head = sd.get('feats.0.weight')!;
  if (head.shape.length !== 4 || head.shape[2] !== 3 || head.shape[3] !== 3) refuse(file, `its head feats.0.weight is [${head.shape.join(', ')}], not a 3x3 conv`);
  const [dim, inCh] = head.shape as [number, number];
  if (inCh !== 3) refuse(file, `it takes ${inCh} input channels (Restora imports RGB models)`);

  const b1 = 'feats.1';
  const mixer2 = sd.get(`${b1}.channel_mixer.2.weight`);
  if (mixer2 && mixer2.shape[2] !== 3) refuse(file, `its channel mixer ends in a ${mixer2.shape[2]}x${mixer2.shape[3]} conv (${b1}.channel_mixer.2.weight [${mixer2.shape.join(', ')}]; Restora knows the 3x3 -> 3x3 DCCM)`);
  const lk = sd.get(`${b1}.lk.conv.weight`);
  if (!lk)
    refuse(
      file,
      `${b1}.lk.conv.weight is missing (${
        keys
          .filter((k) => k.startsWith(`${b1}.lk.`))
          .slice(0, 3)
          .join(', ') || 'no lk keys'
      }: a large-kernel form Restora does not know)`,
    );
  const [pdim, , kernel] = lk.shape as [number, number, number, number];
  if (lk.shape.length !== 4 || lk.shape[1] !== pdim || lk.shape[3] !== kernel || kernel % 2 === 0 || pdim > dim)
    refuse(file, `its large kernel ${b1}.lk.conv.weight is [${lk.shape.join(', ')}] (Restora knows [pdim, pdim, k, k] with odd k, pdim <= ${dim})`);
  const useEa = sd.has(`${b1}.attn.f.0.weight`);
  const layerNorm = sd.has(`${b1}.layer_norm.weight`);
  if (layerNorm === sd.has(`${b1}.norm.weight`)) refuse(file, `${b1} has ${layerNorm ? 'both a layer_norm and a norm' : 'neither a norm nor a layer_norm'}`);
  const normGroups = 4;
  if (!layerNorm && dim % normGroups !== 0) refuse(file, `its ${dim} channels do not split into GroupNorm's ${normGroups} groups`);

  const plan = new Map<string, { cls: Cls; tensors: TorchTensor[] }>();
  const take = (key: string): TorchTensor => {
    const t = sd.get(key);
    if (!t) refuse(file, `${key} is missing`);
    sd.delete(key);
    return t;
  };
  const conv = (prefix: string, want: number[], name: string, bias = true) => {
    need(`${prefix}.weight`, want, 'conv');
    if (bias) need(`${prefix}.bias`, [want[0]!], 'bias');
    plan.set(name, { cls: 'Conv2D', tensors: bias ? [take(`${prefix}.weight`), take(`${prefix}.bias`)] : [take(`${prefix}.weight`)] });
  };
  const norm = (prefix: string, name: string) => {
    need(`${prefix}.weight`, [dim], 'norm');
    need(`${prefix}.bias`, [dim], 'norm');
    plan.set(name, { cls: 'Norm', tensors: [take(`${prefix}.weight`), take(`${prefix}.bias`)] });
  };

  conv('feats.0', [dim, 3, 3, 3], 'feats_0');
  for (let b = 1; b <= blocks; b++) {
    const p = `feats.${b}`;
    const n = `feats_${b}`;
    // Every block has block 1's parts: a block without one (or with another) is a layout we do not know.
    for (const [part, has] of [
      ['attn.f.0', useEa],
      ['layer_norm', layerNorm],
      ['norm', !layerNorm],
    ] as const) {
      if (sd.has(`${p}.${part}.weight`) !== has) refuse(file, `its blocks differ: ${p}.${part}.weight is ${has ? 'missing' : 'there'}, unlike in feats.1`);
    }
    if (layerNorm) norm(`${p}.layer_norm`, `${n}_layer_norm`);
    conv(`${p}.channel_mixer.0`, [2 * dim, dim, 3, 3], `${n}_channel_mixer_0`);
    conv(`${p}.channel_mixer.2`, [dim, 2 * dim, 3, 3], `${n}_channel_mixer_2`);
    conv(`${p}.lk.conv`, [pdim, pdim, kernel, kernel], `${n}_lk_conv`);
    if (useEa) conv(`${p}.attn.f.0`, [dim, dim, 3, 3], `${n}_attn_f_0`);
    conv(`${p}.refine`, [dim, dim, 1, 1], `${n}_refine`);
    if (!layerNorm) norm(`${p}.norm`, `${n}_norm`);
  }

  const tail = sd.get(`feats.${last}.weight`);
  const outCh = tail?.shape[0] ?? 0;
  const scale = Math.round(Math.sqrt(outCh / 3));
  if (!tail || tail.shape.length !== 4 || scale < 1 || scale > 4 || 3 * scale * scale !== outCh) {
    refuse(file, `its last conv feats.${last}.weight is [${tail?.shape.join(', ') ?? 'missing'}] (Restora imports RGB models at x1 to x4: 3, 12, 27 or 48 channels)`);
  }
  const r2 = scale * scale;

  const toImg = keys.filter((k) => k.startsWith('to_img.'));
  const dysample = toImg.length > 0;
  let dysampleGroups = 4;
  if (dysample) {
    const off = sd.get('to_img.offset.weight');
    if (!off || !sd.has('to_img.scope.weight') || !sd.has('to_img.end_conv.weight') || !sd.has('to_img.init_pos')) {
      refuse(file, `it uses a DySample upsampler of a form Restora does not know (to_img keys ${toImg.slice(0, 5).join(', ')})`);
    }
    if (scale === 1) refuse(file, 'it uses the DySample upsampler at x1');
    dysampleGroups = off.shape[0]! / (2 * r2);
    if (!Number.isInteger(dysampleGroups) || dysampleGroups < 1 || (3 * r2) % dysampleGroups !== 0)
      refuse(file, `its DySample offset conv to_img.offset.weight is [${shape('to_img.offset.weight')}] (Restora knows 2 * groups * scale^2 outputs, groups dividing ${3 * r2})`);
    const pos = take('to_img.init_pos');
    const want = dysampleInitPos(scale, dysampleGroups);
    if (pos.data.length !== want.length || want.some((v, i) => Math.abs(v - pos.data[i]!) > 1e-6)) refuse(file, 'its DySample init_pos is not the standard sub-pixel grid');
    conv(`feats.${last}`, [3 * r2, dim, 3, 3], `feats_${last}`);
    conv('to_img.offset', [2 * dysampleGroups * r2, 3 * r2, 1, 1], 'to_img_offset');
    conv('to_img.scope', [2 * dysampleGroups * r2, 3 * r2, 1, 1], 'to_img_scope', false);
    conv('to_img.end_conv', [3, 3 * r2, 1, 1], 'to_img_end_conv');
  } else {
    conv(`feats.${last}`, [3 * r2, dim, 3, 3], `feats_${last}`);
    // PyTorch's pixel shuffle reads the conv's channels colour-major, Restora's phase-major.
    const entry = plan.get(`feats_${last}`)!;
    const [w, b] = entry.tensors as [TorchTensor, TorchTensor];
    const perm = torchShuffleOrder(3, scale);
    const per = w.data.length / (3 * r2);
    const weight = new Float32Array(w.data.length);
    perm.forEach((src, dst) => weight.set(w.data.subarray(src * per, (src + 1) * per), dst * per));
    entry.tensors = [
      { shape: w.shape, data: weight },
      { shape: b.shape, data: Float32Array.from(perm, (k) => b.data[k]!) },
    ];
  }

  // Anything else under RealPLKSR's prefixes is a variant (extra layers, another mixer or norm).
  const extra = [...sd.keys()].filter((k) => /^(feats|to_img)\./.test(k));
  if (extra.length > 0) refuse(file, `it has tensors RealPLKSR does not (${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ', ...' : ''})`);

  const archOptions: ArchOptions = {
    dim,
    n_blocks: blocks,
    kernel_size: kernel,
    split_ratio: pdim / dim,
    use_ea: useEa,
    layer_norm: layerNorm,
    norm_groups: normGroups,
    upsampler: dysample ? 'dysample' : 'pixelshuffle',
    dysample_groups: dysampleGroups,
  };
  const parts = [`${dim} dim`, `${blocks} blocks`, `${kernel}x${kernel} over ${pdim} channels`, useEa ? 'EA' : 'no EA', layerNorm ? 'LayerNorm' : 'GroupNorm', ...(dysample ? [`DySample (${dysampleGroups} groups)`] : [])];
  return {
    arch: 'realplksr',
    scale,
    archOptions,
    layout: `RealPLKSR (${parts.join(', ')})`,
    layers: new Map<string, never>(),
    loadInto: (model) => loadPlan(model, plan, toLayerValues, file, 'RealPLKSR'),
  };
}

/** OIHW kernel (and bias) -> tfjs HWIO kernel (and bias); a norm's weight and bias -> gamma, beta. */
function toLayerValues(cls: Cls, ts: TorchTensor[]): tf.Tensor[] {
  if (cls === 'Norm') return ts.map((t) => tf.tensor1d(t.data));
  const [w, b] = ts as [TorchTensor, TorchTensor | undefined];
  const kernel = tf.tensor4d(w.data, w.shape as [number, number, number, number]).transpose([2, 3, 1, 0]);
  return b ? [kernel, tf.tensor1d(b.data)] : [kernel];
}

registerDetector('realplksr', (sd, file) => detectRealPlksr(sd, file));
