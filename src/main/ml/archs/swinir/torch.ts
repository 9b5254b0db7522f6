/**
 * SwinIR from a PyTorch state dict (the JingyunLiang/SwinIR releases and files trained with
 * its network_swinir.py, as chaiNNer's spandrel reads them), recognised by its keys:
 * layers.I.residual_group.blocks.J.attn.relative_position_bias_table. Read off the shapes:
 * embed_dim (conv_first), depths (blocks per stage), heads per stage (the bias table's
 * columns), window ((2w-1)^2 table rows), mlp_ratio (fc1 rows / embed_dim), patch_norm, the
 * upsampler (conv_before_upsample + upsample.K: pixelshuffle; + conv_upK: nearest+conv;
 * upsample.0 alone: pixelshuffledirect; conv_last alone: none), the scale (the upsample
 * convs' widths, the conv_upK count), num_feat, and resi_connection (conv vs conv.0/2/4).
 *
 * img_range is no weight. The reference default is 1.0, which every release uses except the
 * JPEG artifact models, trained at 255 and the only ones with window 7: spandrel's rule
 * (window 7 -> 255, else 1.0) is taken here; it is an option of the built model.
 *
 * The buffers are consumed: relative_position_index (checked against the one computed here)
 * and attn_mask (the training patch's mask; the model computes the mask for each input's
 * size, as the reference does when the sizes differ). A stored attn_mask also says which
 * layers shift their windows: the odd ones of each stage, as always in the reference.
 * HAT (relative_position_index_SA, conv_block, overlap_attn) shares SwinIR's names but not
 * its blocks: left to the importer's other detectors.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { registerDetector, type ArchOptions, type DetectedModel } from '../registry.js';
import { countIndices, loadPlan, torchShuffleOrder, type TorchTensor } from '../torchWeights.js';
import { relativePositionIndex } from './layers.js';
import type { SwinirUpsampler } from './swinir.js';

type Dict = Map<string, TorchTensor>;
type Cls = 'Conv2D' | 'LayerNorm' | 'SwinBlock';

const SIGNATURE = 'layers.0.residual_group.blocks.0.attn.relative_position_bias_table';
const HAT_MARKERS = /(^|\.)(relative_position_index_SA|relative_position_index_OCA|overlap_attn|conv_block)(\.|$)/;
/** The prefixes a SwinIR file's tensors live under; anything left under them is a variant Restora does not know. */
const SWINIR_PREFIXES = /^(conv_first|patch_embed|absolute_pos_embed|layers|norm|conv_after_body|conv_before_upsample|upsample|conv_up\d+|conv_hr|conv_last)(\.|$)/;
/** A block's parameters, in the order SwinTransformerBlock's getWeights() takes them. */
const BLOCK_PARAMS = [
  'norm1.weight',
  'norm1.bias',
  'attn.qkv.weight',
  'attn.qkv.bias',
  'attn.relative_position_bias_table',
  'attn.proj.weight',
  'attn.proj.bias',
  'norm2.weight',
  'norm2.bias',
  'mlp.fc1.weight',
  'mlp.fc1.bias',
  'mlp.fc2.weight',
  'mlp.fc2.bias',
];
/** Which of BLOCK_PARAMS are nn.Linear weights ([out, in] in PyTorch, [in, out] kernels here). */
const LINEAR = new Set(['attn.qkv.weight', 'attn.proj.weight', 'mlp.fc1.weight', 'mlp.fc2.weight']);

function refuse(file: string, why: string): never {
  throw new RestoraError('UNSUPPORTED', `${file}: looks like SwinIR, but ${why}: unsupported`, file);
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export function detectSwinir(sd: Dict, file: string): DetectedModel | null {
  if (!sd.has(SIGNATURE)) return null;
  const keys = [...sd.keys()];
  if (keys.some((k) => HAT_MARKERS.test(k))) return null;

  const take = (key: string): TorchTensor => {
    const t = sd.get(key);
    if (!t) refuse(file, `${key} is missing`);
    sd.delete(key);
    return t;
  };
  const shaped = (key: string, shape: number[]): TorchTensor => {
    const t = take(key);
    if (!same(t.shape, shape)) refuse(file, `${key} has shape [${t.shape}], not [${shape}]`);
    return t;
  };

  if (sd.has('conv_first.1.weight')) refuse(file, 'it pixel-unshuffles its input first (conv_first.1)');
  if (sd.has('absolute_pos_embed')) refuse(file, 'it adds an absolute position embedding (absolute_pos_embed), which ties it to its training size');
  const firstW = sd.get('conv_first.weight');
  if (!firstW) refuse(file, 'conv_first.weight is missing');
  if (firstW.shape.length !== 4 || firstW.shape[2] !== 3 || firstW.shape[3] !== 3) refuse(file, `conv_first.weight has shape [${firstW.shape}]`);
  const [embed, inCh] = firstW.shape as [number, number];
  if (inCh !== 3) refuse(file, `it takes ${inCh} input channel${inCh === 1 ? ' (a grayscale model)' : 's'}; Restora imports RGB models`);

  // Stages and their blocks, numbered without gaps.
  const stages = countIndices(keys, /^layers\.(\d+)\.residual_group\.blocks\.0\.norm1\.weight$/);
  if (stages < 1) refuse(file, 'its stages (layers.N) are misnumbered');
  const depths: number[] = [];
  for (let i = 0; i < stages; i++) {
    const re = new RegExp(`^layers\\.${i}\\.residual_group\\.blocks\\.(\\d+)\\.`);
    const d = countIndices(keys, re);
    if (d < 1) refuse(file, `the blocks of stage ${i} are misnumbered`);
    depths.push(d);
  }

  // Window, heads and MLP width off the blocks' shapes; buffers checked and consumed.
  const plan = new Map<string, { cls: Cls; tensors: TorchTensor[] }>();
  const heads: number[] = [];
  let window = 0;
  let hidden = 0;
  let masks = 0;
  let indices = 0;
  const blocks = depths.reduce((a, b) => a + b, 0);
  depths.forEach((depth, i) => {
    for (let j = 0; j < depth; j++) {
      const p = `layers.${i}.residual_group.blocks.${j}`;
      const table = sd.get(`${p}.attn.relative_position_bias_table`);
      if (!table || table.shape.length !== 2) refuse(file, `${p}.attn.relative_position_bias_table is ${table ? `of shape [${table.shape}]` : 'missing'}`);
      const [rows, h] = table.shape as [number, number];
      const w = (Math.sqrt(rows) + 1) / 2;
      if (!Number.isInteger(w) || w < 2) refuse(file, `its bias table has ${rows} rows, no (2w - 1)^2 window`);
      if (window && w !== window) refuse(file, `its windows differ between layers (${window} and ${w})`);
      window = w;
      if (j === 0) heads.push(h);
      else if (h !== heads[i]) refuse(file, `stage ${i} mixes ${heads[i]} and ${h} attention heads`);
      if (embed % h !== 0) refuse(file, `its ${embed} channels do not split into ${h} heads`);
      if (!sd.has(`${p}.attn.qkv.bias`)) refuse(file, `${p}.attn.qkv has no bias (qkv_bias=False)`);
      const fc1 = sd.get(`${p}.mlp.fc1.weight`);
      if (!fc1 || fc1.shape.length !== 2) refuse(file, `${p}.mlp.fc1.weight is missing`);
      if (hidden && fc1.shape[0] !== hidden) refuse(file, `its MLP widths differ between layers (${hidden} and ${fc1.shape[0]})`);
      hidden = fc1.shape[0]!;
      const want: Record<string, number[]> = {
        'norm1.weight': [embed],
        'norm1.bias': [embed],
        'attn.qkv.weight': [3 * embed, embed],
        'attn.qkv.bias': [3 * embed],
        'attn.relative_position_bias_table': [rows, h],
        'attn.proj.weight': [embed, embed],
        'attn.proj.bias': [embed],
        'norm2.weight': [embed],
        'norm2.bias': [embed],
        'mlp.fc1.weight': [hidden, embed],
        'mlp.fc1.bias': [hidden],
        'mlp.fc2.weight': [embed, hidden],
        'mlp.fc2.bias': [embed],
      };
      const tensors = BLOCK_PARAMS.map((k) => {
        const t = shaped(`${p}.${k}`, want[k]!);
        return LINEAR.has(k) ? transpose2d(t) : t;
      });
      plan.set(`${p.replaceAll('.', '_')}`, { cls: 'SwinBlock', tensors });
      const index = sd.get(`${p}.attn.relative_position_index`);
      if (index) {
        sd.delete(`${p}.attn.relative_position_index`);
        const ours = relativePositionIndex(w);
        if (index.data.length !== ours.length || index.data.some((v, k) => v !== ours[k])) refuse(file, `${p}.attn.relative_position_index is not the standard relative position index`);
        indices++;
      }
      const mask = sd.get(`${p}.attn_mask`);
      if (mask) {
        sd.delete(`${p}.attn_mask`);
        if (j % 2 === 0) refuse(file, `layer ${p} (an even one) has a shift mask`);
        if (mask.shape.length !== 3 || mask.shape[1] !== w * w || mask.shape[2] !== w * w) refuse(file, `${p}.attn_mask has shape [${mask.shape}]`);
        masks++;
      }
    }
  });
  // The reference shifts odd layers unless it was trained on patches no larger than its window
  // (then no layer shifts, and no mask is stored); a file that kept its buffers tells which.
  const odd = depths.reduce((a, d) => a + Math.floor(d / 2), 0);
  if (odd > 0 && masks !== odd && (masks > 0 || indices === blocks)) {
    refuse(file, masks === 0 ? 'none of its layers shifts its windows (trained on patches no larger than the window)' : `only ${masks} of its ${odd} odd layers shift their windows`);
  }

  const layerNorm = (prefix: string, name: string) => plan.set(name, { cls: 'LayerNorm', tensors: [shaped(`${prefix}.weight`, [embed]), shaped(`${prefix}.bias`, [embed])] });
  const conv = (prefix: string, name = prefix.replaceAll('.', '_'), perm?: number[]): TorchTensor => {
    const w = take(`${prefix}.weight`);
    const b = take(`${prefix}.bias`);
    if (w.shape.length !== 4 || b.shape.length !== 1 || b.shape[0] !== w.shape[0]) refuse(file, `${prefix} has shapes [${w.shape}] and [${b.shape}]`);
    plan.set(name, { cls: 'Conv2D', tensors: perm ? reorderOutputs(w, b, perm) : [w, b] });
    return w;
  };

  conv('conv_first');
  const patchNorm = sd.has('patch_embed.norm.weight');
  if (patchNorm) layerNorm('patch_embed.norm', 'patch_embed_norm');
  layerNorm('norm', 'norm');

  // resi_connection: the same kind after every stage and after the body.
  const kindOf = (p: string): '1conv' | '3conv' => {
    if (sd.has(`${p}.weight`)) return '1conv';
    if (['0', '2', '4'].every((k) => sd.has(`${p}.${k}.weight`))) return '3conv';
    return refuse(file, `${p} is neither one conv nor the 3conv stack (.0, .2, .4)`);
  };
  const resiConnection = kindOf('conv_after_body');
  const resi = (p: string) => {
    if (kindOf(p) !== resiConnection) refuse(file, `its stages and body close with different connections (${p} is not ${resiConnection})`);
    for (const k of resiConnection === '1conv' ? [p] : [`${p}.0`, `${p}.2`, `${p}.4`]) conv(k);
  };
  for (let i = 0; i < stages; i++) resi(`layers.${i}.conv`);
  resi('conv_after_body');

  // The reconstruction head and the scale.
  let upsampler: SwinirUpsampler;
  let scale: number;
  let features = 64;
  if (sd.has('conv_before_upsample.0.weight')) {
    features = conv('conv_before_upsample.0').shape[0]!;
    if (sd.has('conv_up1.weight')) {
      upsampler = 'nearest+conv';
      let n = 0;
      while (sd.has(`conv_up${n + 1}.weight`)) conv(`conv_up${++n}`);
      if (n > 3) refuse(file, `it upsamples ${n} times (x${2 ** n})`);
      scale = 2 ** n;
      conv('conv_hr');
    } else {
      upsampler = 'pixelshuffle';
      const convs = [...sd.keys()]
        .filter((k) => /^upsample\.\d+\.weight$/.test(k))
        .map((k) => Number(k.split('.')[1]))
        .sort((a, b) => a - b);
      if (convs.length === 0 || convs.some((v, k) => v !== 2 * k)) refuse(file, `its upsample convs are numbered ${convs.join(', ')} (the reference's are 0, 2, 4...)`);
      const widths = convs.map((k) => sd.get(`upsample.${k}.weight`)!.shape[0]!);
      if (convs.length === 1 && widths[0] === 9 * features) scale = 3;
      else if (convs.length <= 3 && widths.every((v) => v === 4 * features)) scale = 2 ** convs.length;
      else refuse(file, `its upsample convs give ${widths.join(', ')} channels for ${features} features`);
      const r = scale === 3 ? 3 : 2;
      for (const k of convs) conv(`upsample.${k}`, undefined, torchShuffleOrder(features, r));
    }
    conv('conv_last');
  } else if (sd.has('upsample.0.weight')) {
    upsampler = 'pixelshuffledirect';
    const ch = sd.get('upsample.0.weight')!.shape[0]!;
    scale = Math.round(Math.sqrt(ch / 3));
    if (scale * scale * 3 !== ch || ![2, 3, 4, 8].includes(scale)) refuse(file, `its upsample conv gives ${ch} channels (3 * scale^2 for x2, x3, x4 or x8)`);
    conv('upsample.0', undefined, torchShuffleOrder(3, scale));
  } else if (sd.has('conv_last.weight')) {
    upsampler = 'none';
    scale = 1;
    conv('conv_last');
  } else {
    refuse(file, 'it has no reconstruction head Restora knows (conv_before_upsample, upsample.0 or conv_last)');
  }
  const lastOut = plan.get(upsampler === 'pixelshuffledirect' ? 'upsample_0' : 'conv_last')!.tensors[0]!.shape[0];
  if (lastOut !== (upsampler === 'pixelshuffledirect' ? 3 * scale * scale : 3)) refuse(file, `its last conv gives ${lastOut} channels (Restora imports RGB models)`);

  const extra = [...sd.keys()].filter((k) => SWINIR_PREFIXES.test(k));
  if (extra.length > 0) refuse(file, `it has tensors SwinIR does not (${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ', ...' : ''})`);

  const archOptions: ArchOptions = {
    embedDim: embed,
    depths: depths.join(','),
    heads: heads.join(','),
    window,
    mlpRatio: hidden / embed,
    upsampler,
    resiConnection,
    features,
    // No weight holds img_range: 1.0 (the reference default) but for the window-7 JPEG models (255), as spandrel reads them.
    imgRange: window === 7 ? 255 : 1,
    patchNorm,
  };
  const kind = { pixelshuffle: 'classical SR', pixelshuffledirect: 'lightweight SR', 'nearest+conv': 'real-world SR', none: 'x1 restoration' }[upsampler];
  return {
    arch: 'swinir',
    scale,
    archOptions,
    layout: `SwinIR (${kind}, ${upsampler}, ${embed} channels, depths ${depths.join('/')}, window ${window}, ${resiConnection})`,
    loadInto: (model) => loadPlan(model, plan, toLayerValues, file, 'SwinIR'),
  };
}

/** [out, in] -> [in, out] (nn.Linear's weight -> a dense kernel). */
function transpose2d(t: TorchTensor): TorchTensor {
  const [rows, cols] = t.shape as [number, number];
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = t.data[r * cols + c]!;
  return { shape: [cols, rows], data };
}

/** A conv's output channels in Restora's pixel-shuffle order (perm[restora] = torch). */
function reorderOutputs(w: TorchTensor, b: TorchTensor, perm: number[]): TorchTensor[] {
  const per = w.data.length / w.shape[0]!;
  const data = new Float32Array(w.data.length);
  perm.forEach((src, dst) => data.set(w.data.subarray(src * per, (src + 1) * per), dst * per));
  return [
    { shape: w.shape, data },
    { shape: b.shape, data: Float32Array.from(perm, (k) => b.data[k]!) },
  ];
}

function toLayerValues(cls: Cls, ts: TorchTensor[]): tf.Tensor[] {
  if (cls === 'Conv2D') {
    const [w, b] = ts as [TorchTensor, TorchTensor];
    return [tf.tensor4d(w.data, w.shape as [number, number, number, number]).transpose([2, 3, 1, 0]), tf.tensor1d(b.data)];
  }
  return ts.map((t) => tf.tensor(t.data, t.shape));
}

registerDetector('swinir', (sd, file) => detectSwinir(sd, file));
