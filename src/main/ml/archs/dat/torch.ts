/**
 * DAT from a PyTorch state dict (the released zhengchen1999/DAT files and the community's
 * traiNNer-redux / neosr ones, as chaiNNer's spandrel reads them): recognised by before_RG
 * and its layers.I.blocks.J.attn keys (SwinIR's are layers.I.residual_group.blocks.J), the
 * hyper-parameters read off the tensors:
 *   embed_dim, in_chans: conv_first; groups and blocks per group: the layer indices;
 *   num_heads: the channel attention's temperature [heads, 1, 1] (block 1), or, in a group of
 *     one block, twice the rows of the spatial branch's pos3 (floor(heads / 2)): an odd head
 *     count cannot be told there, and the layout says so;
 *   split_size: the rpe_biases buffer (its last row is (split0 - 1, split1 - 1)); files without
 *     it: the window pixels in relative_position_index (N x N) give the released config of that
 *     size (256: 8x32, 128: 8x16), and with neither the released 8x32 is assumed; the layout
 *     says which;
 *   expansion_factor: ffn.fc1 rows / embed_dim; qkv_bias: whether attn.qkv.bias is there;
 *   resi_connection: conv_after_body (1conv) or conv_after_body.0/2/4 (3conv);
 *   upsampler and upscale: conv_before_upsample + upsample.K + conv_last (pixelshuffle; 64
 *     features, 4F per factor 2 or 9F for x3) or upsample.0 alone (pixelshuffledirect, 3 s^2).
 *   img_range is not stored: every release uses 1.
 * BatchNorm is folded into its per-channel affine (eval mode); buffers (rpe_biases,
 * relative_position_index, attn_mask_0/1, running statistics) are checked where they say
 * something and consumed. Every key placed is removed from `sd`.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { countIndices, torchShuffleOrder, type TorchTensor } from '../torchWeights.js';
import { registerDetector, type ArchOptions, type DetectedModel } from '../registry.js';
import { datConfig, datShifted } from './dat.js';
import { DAT_EPS, DatSpatialAttention } from './layers.js';

type Dict = Map<string, TorchTensor>;
/** tfjs weight values (tfjs shapes) by layer, then by weight name. */
type Plan = Map<string, Map<string, { shape: number[]; data: Float32Array }>>;

function refuse(file: string, why: string): never {
  throw new RestoraError('UNSUPPORTED', `${file}: looks like DAT, but ${why}: unsupported`, file);
}

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Is this state dict DAT's family (DAT, or a relative with its key names)? */
export function looksLikeDat(keys: string[]): boolean {
  return keys.includes('before_RG.1.weight') || keys.some((k) => /^layers\.\d+\.blocks\.\d+\.attn\.(attns\.\d+\.|temperature$)/.test(k));
}

/** The reference's relative_position_index of a wh x ww window: (dy + wh - 1) * (2ww - 1) + dx + ww - 1. */
function relativeIndex(wh: number, ww: number): Float32Array {
  const n = wh * ww;
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      out[i * n + j] = (Math.floor(i / ww) - Math.floor(j / ww) + wh - 1) * (2 * ww - 1) + ((i % ww) - (j % ww) + ww - 1);
    }
  }
  return out;
}

/** The reference's rpe_biases of a wh x ww window: every (dy, dx), dy-major. */
function offsetTable(wh: number, ww: number): Float32Array {
  const out: number[] = [];
  for (let dy = 1 - wh; dy < wh; dy++) for (let dx = 1 - ww; dx < ww; dx++) out.push(dy, dx);
  return Float32Array.from(out);
}

export function detectDat(sd: Dict, file: string): DetectedModel | null {
  const keys = [...sd.keys()];
  if (!looksLikeDat(keys)) return null;
  const notes: string[] = [];

  const get = (key: string): TorchTensor => {
    const t = sd.get(key);
    if (!t) refuse(file, `${key} is missing`);
    return t;
  };
  const take = (key: string, shape: number[]): TorchTensor => {
    const t = get(key);
    if (!same(t.shape, shape)) refuse(file, `${key} has shape [${t.shape}] where this layout needs [${shape}]`);
    sd.delete(key);
    return t;
  };

  // Layouts DAT's reference never builds.
  const foreign = keys.filter((k) => /^(conv_up\d|conv_hr)\./.test(k));
  if (foreign.length > 0) refuse(file, `its upsampler has ${foreign.slice(0, 3).join(', ')} (nearest+conv, as SwinIR's real-world models; DAT has pixelshuffle or pixelshuffledirect)`);

  const first = get('conv_first.weight');
  const [e, inCh] = first.shape as [number, number];
  if (first.shape.length !== 4 || first.shape[2] !== 3) refuse(file, `conv_first has shape [${first.shape}]`);
  if (inCh !== 3) refuse(file, `it takes ${inCh} input channels (Restora imports RGB models)`);
  if (e < 32 || e % 2 !== 0) refuse(file, `its embed_dim is ${e} (DAT's position bias needs an even 32 or more)`);

  const groups = countIndices(keys, /^layers\.(\d+)\./);
  if (groups <= 0) refuse(file, groups === 0 ? 'it has no residual groups' : 'its residual groups are not numbered 0, 1, 2, ...');
  const depths: number[] = [];
  for (let i = 0; i < groups; i++) {
    const d = countIndices(keys, new RegExp(`^layers\\.${i}\\.blocks\\.(\\d+)\\.`));
    if (d <= 0) refuse(file, `the blocks of group ${i} are not numbered 0, 1, 2, ...`);
    depths.push(d);
  }

  // num_heads per group.
  const heads = depths.map((d, i) => {
    const temp = sd.get(`layers.${i}.blocks.1.attn.temperature`);
    if (d >= 2 && temp) return temp.shape[0]!;
    const pos3 = sd.get(`layers.${i}.blocks.0.attn.attns.0.pos.pos3.2.weight`);
    if (!pos3) refuse(file, `layers.${i}.blocks.0.attn.attns.0.pos.pos3.2.weight is missing`);
    notes.push(`group ${i}'s heads assumed even`);
    return 2 * pos3.shape[0]!;
  });

  // split_size: rpe_biases holds every offset; its last row is (split0 - 1, split1 - 1).
  const p0 = 'layers.0.blocks.0.attn.attns.0';
  let split: [number, number];
  const rpe = sd.get(`${p0}.rpe_biases`);
  const rel = sd.get(`${p0}.relative_position_index`);
  if (rpe && rpe.shape.length === 2 && rpe.shape[1] === 2 && rpe.data.length >= 2) {
    split = [rpe.data[rpe.data.length - 2]! + 1, rpe.data[rpe.data.length - 1]! + 1];
  } else if (rel && rel.shape.length === 2) {
    const byPixels: Record<number, [number, number]> = { 256: [8, 32], 128: [8, 16] };
    const s = byPixels[rel.shape[0]!];
    if (!s) refuse(file, `its windows have ${rel.shape[0]} pixels and no rpe_biases to say their sides`);
    split = s;
    notes.push(`split size ${s[0]}x${s[1]} from the released configs (the file has no rpe_biases)`);
  } else {
    split = [8, 32];
    notes.push('split size 8x32 assumed (the released DAT, DAT-2, DAT-light; not stored in the file)');
  }
  if (!split.every((s) => Number.isInteger(s) && s >= 2 && s <= 256)) refuse(file, `its rpe_biases give windows of ${split.join('x')}`);

  // FFN width, qkv bias, residual convs, upsampler.
  const fc1 = get('layers.0.blocks.0.ffn.fc1.weight');
  const hidden = fc1.shape[0]!;
  if (hidden % 2 !== 0) refuse(file, `its FFN is ${hidden} wide (the spatial gate splits it in halves)`);
  const qkvBias = sd.has('layers.0.blocks.0.attn.qkv.bias');
  const resi = sd.has('conv_after_body.weight') ? '1conv' : sd.has('conv_after_body.0.weight') ? '3conv' : null;
  if (!resi) refuse(file, 'it has neither conv_after_body nor conv_after_body.0/2/4');
  let upsampler: 'pixelshuffle' | 'pixelshuffledirect';
  let scale: number;
  let features = 64;
  if (sd.has('conv_last.weight') || sd.has('conv_before_upsample.0.weight')) {
    upsampler = 'pixelshuffle';
    features = get('conv_before_upsample.0.weight').shape[0]!;
    const ups = countIndices(keys, /^upsample\.(\d+)\.weight$/);
    const convs = keys.filter((k) => /^upsample\.\d+\.weight$/.test(k)).length;
    if (ups < 0 || keys.some((k) => /^upsample\.\d*[13579]\./.test(k))) refuse(file, 'its upsample convs are not at 0, 2, 4, ...');
    const rows = convs > 0 ? get('upsample.0.weight').shape[0]! : 0;
    scale = convs === 0 ? 1 : rows === 9 * features && convs === 1 ? 3 : rows === 4 * features ? 2 ** convs : NaN;
  } else if (sd.has('upsample.0.weight')) {
    upsampler = 'pixelshuffledirect';
    const rows = get('upsample.0.weight').shape[0]!;
    scale = Math.round(Math.sqrt(rows / 3));
    if (scale * scale * 3 !== rows) refuse(file, `its upsampler gives ${rows} channels (3 x scale^2 for RGB)`);
  } else {
    refuse(file, 'it has no upsampler Restora knows (conv_before_upsample + conv_last, or upsample.0)');
  }
  if (![1, 2, 3, 4].includes(scale)) refuse(file, `its upsampler is ${Number.isNaN(scale) ? 'of a shape Restora does not know' : `x${scale}`} (Restora imports x1 to x4)`);

  const archOptions: ArchOptions = {
    embedDim: e,
    depths: depths.join(','),
    heads: heads.join(','),
    splitSize: split.join(','),
    expansion: hidden / e,
    qkvBias,
    resiConnection: resi,
    upsampler,
    features,
    imgRange: 1,
  };
  let cfg: ReturnType<typeof datConfig>;
  try {
    cfg = datConfig(archOptions);
  } catch (err) {
    refuse(file, err instanceof Error ? err.message.replace(/^dat: /, '') : String(err));
  }
  if (cfg.hidden !== hidden) refuse(file, `its FFN width ${hidden} is not a whole multiple Restora can rebuild from ${e} channels`);

  // ---- the weights --------------------------------------------------------------------------
  const plan: Plan = new Map();
  const layer = (name: string) => {
    let m = plan.get(name);
    if (!m) plan.set(name, (m = new Map()));
    return m;
  };
  const put = (l: string, w: string, shape: number[], data: Float32Array) => layer(l).set(w, { shape, data });
  /** nn.Linear [out, in] -> kernel [in, out]. */
  const linear = (l: string, w: string, key: string, out: number, inp: number, bias = true) => {
    const t = take(`${key}.weight`, [out, inp]);
    const k = new Float32Array(out * inp);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) k[i * out + o] = t.data[o * inp + i]!;
    put(l, `${w}_kernel`, [inp, out], k);
    if (bias) put(l, `${w}_bias`, [out], take(`${key}.bias`, [out]).data);
  };
  /** A 1x1 conv as a linear. */
  const pointwise = (l: string, w: string, key: string, out: number, inp: number) => {
    const t = take(`${key}.weight`, [out, inp, 1, 1]);
    sd.set(`${key}.weight`, { shape: [out, inp], data: t.data });
    linear(l, w, key, out, inp);
  };
  const vec = (l: string, w: string, key: string, n: number) => put(l, w, [n], take(key, [n]).data);
  /** Conv2d [O, I, kh, kw] -> HWIO; `perm` reorders the outputs (PyTorch's pixel-shuffle order -> Restora's). */
  const conv2d = (l: string, key: string, out: number, inp: number, k: number, perm?: number[]) => {
    const t = take(`${key}.weight`, [out, inp, k, k]);
    const b = take(`${key}.bias`, [out]);
    const w = new Float32Array(out * inp * k * k);
    for (let o = 0; o < out; o++) {
      const so = perm ? perm[o]! : o;
      for (let i = 0; i < inp; i++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) w[((y * k + x) * inp + i) * out + o] = t.data[((so * inp + i) * k + y) * k + x]!;
    }
    put(l, 'kernel', [k, k, inp, out], w);
    put(l, 'bias', [out], perm ? Float32Array.from(perm, (p) => b.data[p]!) : b.data);
  };
  /** Depthwise Conv2d [C, 1, 3, 3] -> [3, 3, C, 1]. */
  const depthwise = (l: string, w: string, key: string, c: number) => {
    const t = take(`${key}.weight`, [c, 1, 3, 3]);
    const k = new Float32Array(9 * c);
    for (let ch = 0; ch < c; ch++) for (let y = 0; y < 9; y++) k[y * c + ch] = t.data[ch * 9 + y]!;
    put(l, `${w}_kernel`, [3, 3, c, 1], k);
    put(l, `${w}_bias`, [c], take(`${key}.bias`, [c]).data);
  };
  /** BatchNorm2d (eval) -> scale = w / sqrt(var + eps), offset = b - mean * scale. */
  const batchNorm = (l: string, w: string, key: string, c: number) => {
    const [g, b, m, v] = ['weight', 'bias', 'running_mean', 'running_var'].map((n) => take(`${key}.${n}`, [c]).data) as [Float32Array, Float32Array, Float32Array, Float32Array];
    sd.delete(`${key}.num_batches_tracked`);
    const scale = new Float32Array(c);
    const offset = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      const s = g[i]! / Math.sqrt(v[i]! + DAT_EPS);
      scale[i] = s;
      offset[i] = b[i]! - m[i]! * s;
    }
    put(l, `${w}_bn_scale`, [c], scale);
    put(l, `${w}_bn_offset`, [c], offset);
  };
  const layerNorm = (l: string, key: string, c: number, prefix = '') => {
    vec(l, `${prefix}gamma`, `${key}.weight`, c);
    vec(l, `${prefix}beta`, `${key}.bias`, c);
  };
  const resiConv = (l: string, key: string) => {
    if (resi === '1conv') return conv2d(l, key, e, e, 3);
    const q = Math.floor(e / 4);
    conv2d(`${l}_0`, `${key}.0`, q, e, 3);
    conv2d(`${l}_2`, `${key}.2`, q, q, 1);
    conv2d(`${l}_4`, `${key}.4`, e, q, 3);
  };

  conv2d('conv_first', 'conv_first', e, 3, 3);
  layerNorm('before_RG_1', 'before_RG.1', e);
  const c8 = Math.floor(e / 8);
  const c16 = Math.floor(e / 16);
  const posDim = DatSpatialAttention.posDim(e);
  depths.forEach((depth, i) => {
    const h = heads[i]!;
    const h2 = Math.floor(h / 2);
    for (let j = 0; j < depth; j++) {
      const key = `layers.${i}.blocks.${j}`;
      const l = `layers_${i}_blocks_${j}`;
      const a = `${l}_attn`;
      layerNorm(`${l}_norm1`, `${key}.norm1`, e);
      layerNorm(`${l}_norm2`, `${key}.norm2`, e);
      linear(a, 'qkv', `${key}.attn.qkv`, 3 * e, e, qkvBias);
      if (!qkvBias && sd.has(`${key}.attn.qkv.bias`)) refuse(file, `${key}.attn.qkv has a bias where block 0 has none`);
      linear(a, 'proj', `${key}.attn.proj`, e, e);
      depthwise(a, 'dwconv', `${key}.attn.dwconv.0`, e);
      batchNorm(a, 'dwconv', `${key}.attn.dwconv.1`, e);
      pointwise(a, 'ci_conv1', `${key}.attn.channel_interaction.1`, c8, e);
      batchNorm(a, 'ci', `${key}.attn.channel_interaction.2`, c8);
      pointwise(a, 'ci_conv2', `${key}.attn.channel_interaction.4`, e, c8);
      pointwise(a, 'si_conv1', `${key}.attn.spatial_interaction.0`, c16, e);
      batchNorm(a, 'si', `${key}.attn.spatial_interaction.1`, c16);
      pointwise(a, 'si_conv2', `${key}.attn.spatial_interaction.3`, 1, c16);
      if (j % 2 === 1) {
        put(a, 'temperature', [h], take(`${key}.attn.temperature`, [h, 1, 1]).data);
      } else {
        for (const b of [0, 1]) {
          const k = `${key}.attn.attns.${b}`;
          const [wh, ww] = b === 0 ? split : [split[1], split[0]];
          const n = wh * ww;
          const r = sd.get(`${k}.rpe_biases`);
          if (r) {
            if (!same(r.shape, [(2 * wh - 1) * (2 * ww - 1), 2]) || !same(r.data, offsetTable(wh, ww))) refuse(file, `${k}.rpe_biases is not the offset table of ${wh}x${ww} windows that block 0 has`);
            sd.delete(`${k}.rpe_biases`);
          }
          const idx = sd.get(`${k}.relative_position_index`);
          if (idx) {
            if (!same(idx.shape, [n, n]) || !same(idx.data, relativeIndex(wh, ww))) refuse(file, `${k}.relative_position_index is not DAT's for ${wh}x${ww} windows`);
            sd.delete(`${k}.relative_position_index`);
          }
          const p = `${k}.pos`;
          const w = `attns_${b}_pos`;
          linear(a, `${w}_proj`, `${p}.pos_proj`, posDim, 2);
          for (const s of [1, 2, 3]) {
            layerNorm(a, `${p}.pos${s}.0`, posDim, `${w}${s}_`);
            linear(a, `${w}${s}`, `${p}.pos${s}.2`, s === 3 ? h2 : posDim, posDim);
          }
        }
        // The masks the reference stores for its training size; recomputed here for each input.
        const shifted = datShifted(i, j);
        for (const m of [0, 1]) {
          const mask = sd.get(`${key}.attn.attn_mask_${m}`);
          if (!mask) continue;
          const n = split[0] * split[1];
          if (!shifted || mask.shape.length !== 3 || mask.shape[1] !== n || mask.shape[2] !== n) refuse(file, `${key}.attn.attn_mask_${m} (shape [${mask.shape}]) is not a shifted-window mask where DAT has one`);
          sd.delete(`${key}.attn.attn_mask_${m}`);
        }
      }
      const f = `${l}_ffn`;
      linear(f, 'fc1', `${key}.ffn.fc1`, hidden, e);
      layerNorm(f, `${key}.ffn.sg.norm`, hidden / 2, 'norm_');
      depthwise(f, 'conv', `${key}.ffn.sg.conv`, hidden / 2);
      linear(f, 'fc2', `${key}.ffn.fc2`, e, hidden / 2);
    }
    resiConv(`layers_${i}_conv`, `layers.${i}.conv`);
  });
  layerNorm('norm', 'norm', e);
  resiConv('conv_after_body', 'conv_after_body');
  if (upsampler === 'pixelshuffle') {
    conv2d('conv_before_upsample_0', 'conv_before_upsample.0', features, e, 3);
    const stages = scale === 3 ? [3] : Array.from({ length: Math.round(Math.log2(scale)) }, () => 2);
    stages.forEach((r, k) => conv2d(`upsample_${2 * k}`, `upsample.${2 * k}`, r * r * features, features, 3, torchShuffleOrder(features, r)));
    conv2d('conv_last', 'conv_last', 3, features, 3);
  } else {
    conv2d('upsample_0', 'upsample.0', 3 * scale * scale, e, 3, torchShuffleOrder(3, scale));
  }

  // Anything left is a variant: extra layers, branches, another upsampler.
  const extra = [...sd.keys()].filter((k) => !k.endsWith('num_batches_tracked'));
  if (extra.length > 0) refuse(file, `it has tensors DAT does not (${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ', ...' : ''})`);
  for (const k of [...sd.keys()]) sd.delete(k);

  const variant = upsampler === 'pixelshuffledirect' ? 'DAT-light style' : split[1] === 16 && hidden === 2 * e ? 'DAT-S style' : hidden === 2 * e ? 'DAT-2 style' : 'DAT style';
  const layout = `DAT (${variant}: ${e} channels, ${groups} groups of ${[...new Set(depths)].join('/')} blocks, ${[...new Set(heads)].join('/')} heads, ${split[0]}x${split[1]} windows, FFN x${+(hidden / e).toFixed(3)}, ${resi}, ${upsampler}${notes.length ? `; ${notes.join('; ')}` : ''})`;
  return {
    arch: 'dat',
    scale,
    archOptions,
    layout,
    loadInto: (model) => loadNamed(model, plan, file),
  };
}

/** Sets every weight of the built model by layer and weight name; every planned value must find its place. */
function loadNamed(model: tf.LayersModel, plan: Plan, file: string): void {
  const left = new Set(plan.keys());
  for (const l of model.layers) {
    if (l.weights.length === 0) continue;
    const entry = plan.get(l.name);
    if (!entry) throw new RestoraError('MODEL_INVALID', `${file}: no weights for ${l.name} of DAT`, file);
    left.delete(l.name);
    const names = l.weights.map((w) => w.originalName.slice(w.originalName.lastIndexOf('/') + 1));
    const extra = [...entry.keys()].filter((n) => !names.includes(n));
    if (extra.length > 0) throw new RestoraError('MODEL_INVALID', `${file}: ${l.name} of DAT has no weight ${extra[0]}`, file);
    const values = l.weights.map((w, i) => {
      const v = entry.get(names[i]!);
      if (!v) throw new RestoraError('MODEL_INVALID', `${file}: no value for ${l.name}/${names[i]} of DAT`, file);
      if (!same(v.shape, w.shape as number[])) throw new RestoraError('MODEL_INVALID', `${file}: ${l.name}/${names[i]} has shape [${v.shape}], DAT needs [${w.shape}]`, file);
      return v;
    });
    const tensors = values.map((v) => tf.tensor(v.data, v.shape));
    try {
      l.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
  if (left.size > 0) throw new RestoraError('MODEL_INVALID', `${file}: tensors with no place in DAT: ${[...left].slice(0, 5).join(', ')}`, file);
}

registerDetector('dat', (sd, file) => detectDat(sd, file));
