/**
 * GFPGAN (clean) from a PyTorch state dict: recognises the layout by its keys, reads
 * the hyper-parameters off the shapes, and maps each tensor onto the tfjs layers of
 * ./gfpgan.ts (OIHW -> HWIO; the style linear's NCHW flatten reordered to NHWC; the
 * decoder's stored noise maps). Consumes every key it places from `sd`, so the
 * importer can report anything left over.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { registerDetector, type ArchOptions, type DetectedModel } from '../registry.js';
import { loadPlan, type TorchTensor } from '../torchWeights.js';

export type { TorchTensor };
type Dict = Map<string, TorchTensor>;

/** Key prefixes only face restorers have: a StyleGAN2 decoder, a VQ codebook, CodeFormer's transformer. */
export function looksLikeFaceModel(keys: string[]): boolean {
  return keys.some((k) => /^(stylegan_decoder\.|quantize\.|vqvae\.|codebook|position_emb|ft_layers\.|fuse_convs_dict\.|idx_pred_layer\.)/.test(k));
}

export function unsupportedFaceModel(file: string, keys: string[], why?: string): never {
  const sample = keys.slice(0, 6).join(', ') + (keys.length > 6 ? `, ... (${keys.length} tensors)` : '');
  throw new RestoraError('UNSUPPORTED', `${file}: unsupported face model: keys look like ${sample}${why ? ` (${why})` : ''}. Restora imports GFPGAN v1.3 / v1.4 (the clean architecture), CodeFormer and RestoreFormer++.`, file);
}

function count(keys: string[], re: RegExp): number {
  const seen = new Set(
    keys
      .map((k) => re.exec(k)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number),
  );
  for (let i = 0; i < seen.size; i++) if (!seen.has(i)) return -1;
  return seen.size;
}

export function detectGfpgan(sd: Dict, file: string): DetectedModel | null {
  const keys = [...sd.keys()];
  if (!sd.has('conv_body_first.weight') || !sd.has('stylegan_decoder.constant_input.weight')) return null;
  const need = (key: string, rank: number): number[] => {
    const t = sd.get(key);
    if (!t) unsupportedFaceModel(file, keys, `GFPGAN-like, but ${key} is missing`);
    if (t.shape.length !== rank) unsupportedFaceModel(file, keys, `${key} has shape [${t.shape}]`);
    return t.shape;
  };
  const steps = count(keys, /^conv_body_down\.(\d+)\.conv1\.weight$/);
  if (steps < 3 || steps > 8 || count(keys, /^conv_body_up\.(\d+)\.conv1\.weight$/) !== steps) unsupportedFaceModel(file, keys, 'GFPGAN-like, but its U-Net levels do not pair up');
  const log = steps + 2;
  const size = 2 ** log;
  // Resolutions 4, 8, ..., size.
  const unet: number[] = [];
  const dec: number[] = [];
  unet[log - 2] = need('conv_body_first.weight', 4)[0]!;
  for (let i = 0; i < steps; i++) unet[log - 3 - i] = need(`conv_body_down.${i}.conv2.weight`, 4)[0]!;
  dec[0] = need('stylegan_decoder.constant_input.weight', 4)[1]!;
  for (let k = 0; k < steps; k++) dec[k + 1] = need(`stylegan_decoder.style_convs.${2 * k}.modulated_conv.weight`, 5)[1]!;
  const styleDim = need('stylegan_decoder.style_conv1.modulated_conv.modulation.weight', 2)[1]!;
  const latents = 2 * log - 2;
  const [styleOut, styleIn] = need('final_linear.weight', 2);
  if (styleIn !== unet[0]! * 16) unsupportedFaceModel(file, keys, `final_linear takes ${styleIn} values, the 4x4 bottleneck has ${unet[0]! * 16}`);
  let differentW: boolean;
  if (styleOut === styleDim * latents) differentW = true;
  else if (styleOut === styleDim) differentW = false;
  else unsupportedFaceModel(file, keys, `final_linear gives ${styleOut} values for ${latents} styles of ${styleDim}`);
  const sftOut = need('condition_scale.0.2.weight', 4)[0]!;
  let sftHalf: boolean;
  if (sftOut * 2 === dec[1]!) sftHalf = true;
  else if (sftOut === dec[1]!) sftHalf = false;
  else unsupportedFaceModel(file, keys, `its SFT gives ${sftOut} channels to a ${dec[1]}-channel decoder`);

  const archOptions: ArchOptions = { size, styleDim, unetChannels: unet.join(','), decoderChannels: dec.join(','), differentW, sftHalf };
  // Kept in the file for training, unused when restoring: the style MLP (the codes are given
  // directly) and the U-Net's intermediate RGB heads.
  for (const k of keys) if (/^(stylegan_decoder\.style_mlp\.|toRGB\.)/.test(k)) sd.delete(k);

  const take = (key: string): TorchTensor => {
    const t = sd.get(key);
    if (!t) throw new RestoraError('MODEL_INVALID', `${file}: missing tensor ${key}`, file);
    sd.delete(key);
    return t;
  };
  const noiseOf = new Map<string, string>([['stylegan_decoder_style_conv1', 'stylegan_decoder.noises.noise0']]);
  for (let m = 0; m < 2 * steps; m++) noiseOf.set(`stylegan_decoder_style_convs_${m}`, `stylegan_decoder.noises.noise${m + 1}`);
  // Read every tensor now, so a missing one fails detection (before a network is built).
  const plan = new Map<string, { cls: string; tensors: TorchTensor[] }>();
  const convLayers = new Set<string>();
  for (const k of keys) {
    const m = /^(conv_body_first|final_conv|conv_body_(?:down|up)\.\d+\.(?:conv1|conv2|skip)|condition_(?:scale|shift)\.\d+\.[02])\.weight$/.exec(k);
    if (m) convLayers.add(m[1]!);
  }
  for (const p of convLayers) plan.set(p.replaceAll('.', '_'), { cls: 'Conv2D', tensors: sd.has(`${p}.bias`) ? [take(`${p}.weight`), take(`${p}.bias`)] : [take(`${p}.weight`)] });
  plan.set('final_linear', { cls: 'Dense', tensors: [take('final_linear.weight'), take('final_linear.bias')] });
  plan.set('stylegan_decoder_constant_input', { cls: 'ConstantInput', tensors: [take('stylegan_decoder.constant_input.weight')] });
  const modulated = (p: string) => [take(`${p}.modulated_conv.modulation.weight`), take(`${p}.modulated_conv.modulation.bias`), take(`${p}.modulated_conv.weight`)];
  for (const [name, noise] of noiseOf) {
    const p = name.replace('stylegan_decoder_style_conv', 'stylegan_decoder.style_conv').replace(/_convs_(\d+)$/, '_convs.$1');
    plan.set(name, { cls: 'StyleConv', tensors: [...modulated(p), take(`${p}.weight`), take(`${p}.bias`), take(noise)] });
  }
  plan.set('stylegan_decoder_to_rgb1', { cls: 'ToRGB', tensors: [...modulated('stylegan_decoder.to_rgb1'), take('stylegan_decoder.to_rgb1.bias')] });
  for (let k = 0; k < steps; k++) plan.set(`stylegan_decoder_to_rgbs_${k}`, { cls: 'ToRGB', tensors: [...modulated(`stylegan_decoder.to_rgbs.${k}`), take(`stylegan_decoder.to_rgbs.${k}.bias`)] });

  return {
    arch: 'gfpgan',
    scale: 1,
    archOptions,
    layout: `GFPGAN v1 clean (${size} px${sftHalf ? '' : ', full SFT'}${differentW ? '' : ', one style'})`,
    loadInto: (model) => loadPlan(model, plan, toLayerValues, file, 'GFPGAN'),
  };
}

/** PyTorch tensors of one layer -> the tfjs layer's weights, in its getWeights() order. */
function toLayerValues(cls: string, ts: TorchTensor[]): tf.Tensor[] {
  const t = (x: TorchTensor) => tf.tensor(x.data, x.shape);
  const hwio = (x: TorchTensor) => {
    const s = x.shape.length === 5 ? x.shape.slice(1) : x.shape; // modulated kernels carry a leading 1
    return tf.tensor4d(x.data, s as [number, number, number, number]).transpose([2, 3, 1, 0]);
  };
  const flat = (x: TorchTensor) => tf.tensor1d(x.data);
  switch (cls) {
    case 'Conv2D':
      return ts.length === 2 ? [hwio(ts[0]!), flat(ts[1]!)] : [hwio(ts[0]!)];
    case 'Dense': {
      // PyTorch flattens the [C, 4, 4] bottleneck channel-major; tfjs flattens [4, 4, C].
      const [out, inn] = ts[0]!.shape as [number, number];
      const c = inn / 16;
      return [t(ts[0]!).reshape([out, c, 4, 4]).transpose([2, 3, 1, 0]).reshape([inn, out]), flat(ts[1]!)];
    }
    case 'ConstantInput': {
      const [, c, h, w] = ts[0]!.shape as [number, number, number, number];
      return [t(ts[0]!).reshape([c, h, w]).transpose([1, 2, 0])];
    }
    case 'StyleConv': {
      const [mw, mb, k, strength, bias, noise] = ts as [TorchTensor, TorchTensor, TorchTensor, TorchTensor, TorchTensor, TorchTensor];
      const side = noise.shape[noise.shape.length - 1]!;
      return [t(mw).transpose(), flat(mb), hwio(k), flat(strength), flat(bias), tf.tensor2d(noise.data, [side, noise.data.length / side])];
    }
    case 'ToRGB': {
      const [mw, mb, k, bias] = ts as [TorchTensor, TorchTensor, TorchTensor, TorchTensor];
      return [t(mw).transpose(), flat(mb), hwio(k), flat(bias)];
    }
    default:
      throw new Error(`no GFPGAN weight mapping for ${cls}`);
  }
}

registerDetector('gfpgan', (sd, file) => detectGfpgan(sd, file));
