/**
 * SPAN from a PyTorch state dict (the released hongyuanyu/SPAN files and the community's
 * traiNNer-redux / neosr ones, as chaiNNer's spandrel reads them): recognised by its keys,
 * features and in/out channels read off the shapes, the scale off the upsampler conv, `norm`
 * off the 'no_norm' buffer (present only in files trained without input normalisation).
 *
 * Each Conv3XC keeps its training branches (sk 1x1; conv.0 1x1 -> conv.1 3x3 -> conv.2 1x1)
 * and a 3x3 eval_conv. The reference never runs the stored eval_conv: every eval forward
 * re-fuses the branches into it first (update_params), and a checkpoint saved mid-training
 * holds a stale one. So the kernel loaded here is fused from the branches, as the reference
 * computes it; a file with only eval_conv (already fused, no branches) loads that.
 * Consumes every key it places from `sd`, so the importer can report anything left over.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { torchShuffleOrder } from '../torchWeights.js';
import { registerDetector, type DetectedModel } from '../registry.js';
import { loadPlan, type TorchTensor } from '../torchWeights.js';
import { SPAN_BLOCKS } from './span.js';

type Dict = Map<string, TorchTensor>;

const CONV3XC_PARTS = ['sk', 'conv.0', 'conv.1', 'conv.2', 'eval_conv'];

function refuse(file: string, why: string): never {
  throw new RestoraError('UNSUPPORTED', `${file}: looks like SPAN, but ${why}: unsupported`, file);
}

/**
 * The one 3x3 kernel (OIHW) and bias of a Conv3XC's branches, as the reference fuses them:
 * K[o,i] = Wc[o,:] . Wb[:,:,kh,kw] . Wa[:,i] + sk[o,i] at the centre;
 * b = Wc . (bb + sum_hw Wb . ba) + bc + sk_b. Summed in float64.
 */
export function fuseConv3xc(sk: TorchTensor, skB: TorchTensor, wa: TorchTensor, ba: TorchTensor, wb: TorchTensor, bb: TorchTensor, wc: TorchTensor, bc: TorchTensor): { weight: TorchTensor; bias: TorchTensor } {
  const [cout, cin] = sk.shape as [number, number];
  const ga = wa.shape[0]!; // cin * gain
  const gb = wb.shape[0]!; // cout * gain
  // T[m, i, k] = sum_n Wb[m, n, k] * Wa[n, i]
  const t = new Float64Array(gb * cin * 9);
  for (let m = 0; m < gb; m++) {
    for (let n = 0; n < ga; n++) {
      for (let i = 0; i < cin; i++) {
        const a = wa.data[n * cin + i]!;
        if (a === 0) continue;
        const src = (m * ga + n) * 9;
        const dst = (m * cin + i) * 9;
        for (let k = 0; k < 9; k++) t[dst + k]! += wb.data[src + k]! * a;
      }
    }
  }
  const weight = new Float32Array(cout * cin * 9);
  const bias = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const acc = new Float64Array(cin * 9);
    let b = bc.data[o]! + skB.data[o]!;
    for (let m = 0; m < gb; m++) {
      const c = wc.data[o * gb + m]!;
      if (c === 0) continue;
      const row = m * cin * 9;
      for (let j = 0; j < cin * 9; j++) acc[j]! += c * t[row + j]!;
      let mid = bb.data[m]!;
      for (let n = 0; n < ga; n++) {
        let s = 0;
        for (let k = 0; k < 9; k++) s += wb.data[(m * ga + n) * 9 + k]!;
        mid += s * ba.data[n]!;
      }
      b += c * mid;
    }
    for (let i = 0; i < cin; i++) acc[i * 9 + 4]! += sk.data[o * cin + i]!;
    weight.set(acc, o * cin * 9);
    bias[o] = b;
  }
  return { weight: { shape: [cout, cin, 3, 3], data: weight }, bias: { shape: [cout], data: bias } };
}

export function detectSpan(sd: Dict, file: string): DetectedModel | null {
  const keys = [...sd.keys()];
  const isConv3xc = (p: string) => CONV3XC_PARTS.some((part) => sd.has(`${p}.${part}.weight`));
  if (!isConv3xc('conv_1') || !keys.some((k) => k.startsWith('block_1.c1_r.'))) return null;

  const blocks = new Set(
    keys
      .map((k) => /^block_(\d+)\./.exec(k)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number),
  );
  const top = Math.max(...blocks);
  if (blocks.size !== top) refuse(file, `its blocks are numbered ${[...blocks].sort((a, b) => a - b).join(', ')}`);
  if (top !== SPAN_BLOCKS) refuse(file, `it has ${top} blocks (SPAN has ${SPAN_BLOCKS})`);
  for (const p of ['conv_cat.weight', 'conv_cat.bias', 'upsampler.0.weight', 'upsampler.0.bias']) if (!sd.has(p)) refuse(file, `${p} is missing`);

  const take = (key: string): TorchTensor => {
    const t = sd.get(key);
    if (!t) refuse(file, `${key} is missing`);
    sd.delete(key);
    return t;
  };
  /** A Conv3XC's inference kernel: fused from its branches, or its eval_conv when it has no branches. */
  const conv3xc = (p: string): TorchTensor[] => {
    const hasBranches = ['sk', 'conv.0', 'conv.1', 'conv.2'].some((part) => sd.has(`${p}.${part}.weight`));
    if (!hasBranches) return [take(`${p}.eval_conv.weight`), take(`${p}.eval_conv.bias`)];
    const [sk, skB, wa, ba, wb, bb, wc, bc] = ['sk', 'conv.0', 'conv.1', 'conv.2'].flatMap((part) => [take(`${p}.${part}.weight`), take(`${p}.${part}.bias`)]) as [
      TorchTensor,
      TorchTensor,
      TorchTensor,
      TorchTensor,
      TorchTensor,
      TorchTensor,
      TorchTensor,
      TorchTensor,
    ];
    // Stale or not, the stored eval_conv is not what the reference runs.
    sd.delete(`${p}.eval_conv.weight`);
    sd.delete(`${p}.eval_conv.bias`);
    const [cout, cin] = sk.shape;
    const g = wa.shape[0]! / cin!;
    const shapes: [TorchTensor, number[]][] = [
      [sk, [cout!, cin!, 1, 1]],
      [wa, [cin! * g, cin!, 1, 1]],
      [wb, [cout! * g, cin! * g, 3, 3]],
      [wc, [cout!, cout! * g, 1, 1]],
      [skB, [cout!]],
      [ba, [cin! * g]],
      [bb, [cout! * g]],
      [bc, [cout!]],
    ];
    for (const [t, want] of shapes) {
      if (!Number.isInteger(g) || t.shape.join() !== want.join()) refuse(file, `${p} has branch shapes Restora does not know (sk [${sk.shape}], conv.0 [${wa.shape}], conv.1 [${wb.shape}], conv.2 [${wc.shape}])`);
    }
    const f = fuseConv3xc(sk, skB, wa, ba, wb, bb, wc, bc);
    return [f.weight, f.bias];
  };

  let norm = true;
  if (sd.has('no_norm')) {
    norm = false;
    sd.delete('no_norm');
    sd.delete('mean'); // some trainers keep the mean as a parameter; unused without norm
  } else if (sd.has('mean')) {
    refuse(file, 'it stores its own normalisation mean (a variant whose range Restora cannot tell)');
  }

  const plan = new Map<string, { cls: 'Conv2D'; tensors: TorchTensor[] }>();
  const head = conv3xc('conv_1');
  const [nf, inCh] = head[0]!.shape as [number, number];
  if (inCh !== 3) refuse(file, `it takes ${inCh} input channels (Restora imports RGB models)`);
  plan.set('conv_1', { cls: 'Conv2D', tensors: head });
  for (let b = 1; b <= SPAN_BLOCKS; b++) for (const c of ['c1_r', 'c2_r', 'c3_r']) plan.set(`block_${b}_${c}`, { cls: 'Conv2D', tensors: conv3xc(`block_${b}.${c}`) });
  plan.set('conv_2', { cls: 'Conv2D', tensors: conv3xc('conv_2') });
  plan.set('conv_cat', { cls: 'Conv2D', tensors: [take('conv_cat.weight'), take('conv_cat.bias')] });
  const upW = take('upsampler.0.weight');
  const upB = take('upsampler.0.bias');
  const upCh = upW.shape[0]!;
  const scale = Math.round(Math.sqrt(upCh / 3));
  if (upW.shape.length !== 4 || scale * scale * 3 !== upCh || scale < 1 || scale > 4) refuse(file, `its upsampler gives ${upCh} channels (Restora imports RGB models at x1 to x4: 3, 12, 27 or 48)`);
  // PyTorch's pixel shuffle reads the conv's channels colour-major, Restora's phase-major.
  const perm = torchShuffleOrder(3, scale);
  const per = upW.data.length / upCh;
  const upWeight = new Float32Array(upW.data.length);
  perm.forEach((src, dst) => upWeight.set(upW.data.subarray(src * per, (src + 1) * per), dst * per));
  plan.set('upsampler_0', {
    cls: 'Conv2D',
    tensors: [
      { shape: upW.shape, data: upWeight },
      { shape: upB.shape, data: Float32Array.from(perm, (k) => upB.data[k]!) },
    ],
  });

  // Anything else under SPAN's prefixes is a variant (extra layers, another upsampler).
  const extra = [...sd.keys()].filter((k) => /^(conv_1|conv_2|conv_cat|upsampler|block_\d+)\./.test(k));
  if (extra.length > 0) refuse(file, `it has tensors SPAN does not (${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ', ...' : ''})`);

  return {
    arch: 'span',
    scale,
    archOptions: { features: nf, norm },
    layout: `SPAN (${nf} features${norm ? '' : ', no input normalisation'})`,
    loadInto: (model) => loadPlan(model, plan, toLayerValues, file, 'SPAN'),
  };
}

/** OIHW kernel and bias -> tfjs HWIO kernel and bias. */
function toLayerValues(_cls: 'Conv2D', ts: TorchTensor[]): tf.Tensor[] {
  const [w, b] = ts as [TorchTensor, TorchTensor];
  return [tf.tensor4d(w.data, w.shape as [number, number, number, number]).transpose([2, 3, 1, 0]), tf.tensor1d(b.data)];
}

registerDetector('span', (sd, file) => detectSpan(sd, file));
