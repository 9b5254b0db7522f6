/**
 * Architecture detection from a state dict's keys and shapes, the way chaiNNer
 * does it: each known layout is recognised by its keys, its hyper-parameters
 * (scale, width, blocks) read off the tensor shapes, and its weights renamed to
 * the canonical names the Restora arch's layers carry ('.' -> '_').
 */
import { RestoraError } from '../../../shared/errors.js';
import type * as tf from '@tensorflow/tfjs';
import { detectGfpgan, looksLikeFaceModel, unsupportedFaceModel } from '../archs/gfpgan/torch.js';
import { detectCodeformer } from '../archs/codeformer/torch.js';
import { detectRestoreformer } from '../archs/restoreformer/torch.js';
import { detectSpan } from '../archs/span/torch.js';
import type { ArchOptions } from '../archs/registry.js';
import type { RawTensor, StateDict } from './stateDict.js';

export interface DetectedModel {
  arch: 'rrdbnet' | 'srvgg' | 'gfpgan' | 'codeformer' | 'restoreformer' | 'span';
  scale: number;
  /** Face restorers run on aligned face crops, never as upscalers. */
  task?: 'face';
  archOptions: ArchOptions;
  /** Human name of the layout found, for the card. */
  layout: string;
  /** Canonical PyTorch-style layer name (e.g. body.0.rdb1.conv1) -> its weight (OIHW) and bias, or PReLU slopes. */
  layers: Map<string, { weight: RawTensor; bias?: RawTensor }>;
  /** An architecture with its own weight mapping (the face restorers) loads the built model itself. */
  loadInto?: (model: tf.LayersModel) => void;
}

function unsupported(file: string, sd: StateDict): never {
  const keys = [...sd.keys()];
  const sample = keys.slice(0, 6).join(', ') + (keys.length > 6 ? `, ... (${keys.length} tensors)` : '');
  throw new RestoraError(
    'UNSUPPORTED',
    `${file}: unsupported architecture: keys look like ${sample}. Restora imports RRDBNet (ESRGAN, Real-ESRGAN x4plus / x2plus), SRVGGNetCompact (realesr-general-x4v3, animevideov3) and SPAN upscalers, and GFPGAN v1.3 / v1.4, CodeFormer and RestoreFormer++ face restorers.`,
    file,
  );
}

/** Moves `prefix.weight` / `prefix.bias` of `sd` to canonical layer `name`. */
function take(sd: StateDict, prefix: string, name: string, layers: DetectedModel['layers'], file: string, bias = true): void {
  const weight = sd.get(`${prefix}.weight`);
  if (!weight) throw new RestoraError('MODEL_INVALID', `${file}: missing tensor ${prefix}.weight`, file);
  const b = sd.get(`${prefix}.bias`);
  if (bias && !b) throw new RestoraError('MODEL_INVALID', `${file}: missing tensor ${prefix}.bias`, file);
  layers.set(name, { weight, ...(b ? { bias: b } : {}) });
  sd.delete(`${prefix}.weight`);
  sd.delete(`${prefix}.bias`);
}

function shapeOf(sd: StateDict, key: string, rank: number, file: string): number[] {
  const t = sd.get(key);
  if (!t) throw new RestoraError('MODEL_INVALID', `${file}: missing tensor ${key}`, file);
  if (t.shape.length !== rank) throw new RestoraError('MODEL_INVALID', `${file}: ${key} has shape [${t.shape}], expected ${rank} dimensions`, file);
  return t.shape;
}

function countIndices(keys: string[], re: RegExp): number {
  const seen = new Set<number>();
  for (const k of keys) {
    const m = re.exec(k);
    if (m) seen.add(Number(m[1]));
  }
  for (let i = 0; i < seen.size; i++) if (!seen.has(i)) return -1; // a gap: some block is missing
  return seen.size;
}

/** The three RRDBNet layouts, renamed to Real-ESRGAN's: conv_first, body.N.rdbK.convJ, conv_body, conv_upU, conv_hr, conv_last. */
function rrdbLayout(sd: StateDict, file: string): { layout: string; blocks: number; ups: string[]; names: Map<string, string> } | null {
  const keys = [...sd.keys()];
  const names = new Map<string, string>(); // source prefix -> canonical
  let blocks: number;
  let layout: string;
  const ups: string[] = [];
  if (sd.has('conv_first.weight') && keys.some((k) => k.startsWith('body.0.rdb1.'))) {
    layout = 'Real-ESRGAN / BasicSR RRDBNet';
    blocks = countIndices(keys, /^body\.(\d+)\.rdb1\.conv1\.weight$/);
    for (let b = 0; b < blocks; b++) for (let r = 1; r <= 3; r++) for (let c = 1; c <= 5; c++) names.set(`body.${b}.rdb${r}.conv${c}`, `body.${b}.rdb${r}.conv${c}`);
    names.set('conv_first', 'conv_first').set('conv_body', 'conv_body').set('conv_hr', 'conv_hr').set('conv_last', 'conv_last');
    for (let u = 1; sd.has(`conv_up${u}.weight`); u++) ups.push(`conv_up${u}`);
  } else if (sd.has('conv_first.weight') && keys.some((k) => k.startsWith('RRDB_trunk.0.'))) {
    layout = 'ESRGAN RRDBNet (RRDB_trunk layout)';
    blocks = countIndices(keys, /^RRDB_trunk\.(\d+)\.RDB1\.conv1\.weight$/);
    for (let b = 0; b < blocks; b++) for (let r = 1; r <= 3; r++) for (let c = 1; c <= 5; c++) names.set(`RRDB_trunk.${b}.RDB${r}.conv${c}`, `body.${b}.rdb${r}.conv${c}`);
    names.set('conv_first', 'conv_first').set('trunk_conv', 'conv_body').set('HRconv', 'conv_hr').set('conv_last', 'conv_last');
    for (let u = 1; sd.has(`upconv${u}.weight`); u++) ups.push(`upconv${u}`);
  } else if (sd.has('model.0.weight') && keys.some((k) => k.startsWith('model.1.sub.0.RDB1.'))) {
    layout = 'ESRGAN RRDBNet (original sequential layout)';
    blocks = countIndices(keys, /^model\.1\.sub\.(\d+)\.RDB1\.conv1\.0\.weight$/);
    for (let b = 0; b < blocks; b++) for (let r = 1; r <= 3; r++) for (let c = 1; c <= 5; c++) names.set(`model.1.sub.${b}.RDB${r}.conv${c}.0`, `body.${b}.rdb${r}.conv${c}`);
    names.set('model.0', 'conv_first').set(`model.1.sub.${blocks}`, 'conv_body');
    // After the trunk: one conv per x2 upsampling step (model.3, model.6, ...), then the HR conv and the output conv.
    const tail = [...new Set(keys.map((k) => /^model\.(\d+)\.weight$/.exec(k)?.[1]).filter((i): i is string => i !== undefined).map(Number))]
      .filter((i) => i >= 2)
      .sort((a, b) => a - b);
    if (tail.length < 2) return null;
    const hr = tail[tail.length - 2]!;
    const last = tail[tail.length - 1]!;
    for (const i of tail.slice(0, -2)) ups.push(`model.${i}`);
    names.set(`model.${hr}`, 'conv_hr').set(`model.${last}`, 'conv_last');
  } else {
    return null;
  }
  if (blocks <= 0) throw new RestoraError('MODEL_INVALID', `${file}: an RRDBNet with missing or misnumbered blocks`, file);
  ups.forEach((p, i) => names.set(p, `conv_up${i + 1}`));
  return { layout, blocks, ups, names };
}

function detectRrdb(sd: StateDict, file: string): DetectedModel | null {
  const found = rrdbLayout(sd, file);
  if (!found) return null;
  const canonical = new Map<string, { weight: RawTensor; bias?: RawTensor }>();
  for (const [src, dst] of found.names) take(sd, src, dst, canonical, file);
  const first = canonical.get('conv_first')!.weight.shape;
  const lastOut = canonical.get('conv_last')!.weight.shape[0];
  const growth = canonical.get('body.0.rdb1.conv1')!.weight.shape[0]!;
  const inCh = first[1]!;
  const unshuffle = Math.round(Math.sqrt(inCh / 3));
  if (first.length !== 4 || unshuffle * unshuffle * 3 !== inCh || lastOut !== 3) {
    throw new RestoraError('UNSUPPORTED', `${file}: an RRDBNet with ${inCh} input and ${lastOut} output channels; Restora imports RGB models (3 channels, or 12 / 48 after pixel-unshuffle)`, file);
  }
  const scale = 2 ** found.ups.length / unshuffle;
  if (!Number.isInteger(scale) || scale < 1) throw new RestoraError('UNSUPPORTED', `${file}: an RRDBNet whose upsampling (${found.ups.length} steps) and pixel-unshuffle (${unshuffle}) give no whole scale`, file);
  return {
    arch: 'rrdbnet',
    scale,
    archOptions: { features: first[0]!, blocks: found.blocks, growth, upsamples: found.ups.length },
    layout: found.layout,
    layers: canonical,
  };
}

function detectSrvgg(sd: StateDict, file: string): DetectedModel | null {
  const keys = [...sd.keys()];
  if (!sd.has('body.0.weight') || !keys.every((k) => /^body\.\d+\.(weight|bias)$/.test(k))) return null;
  const top = Math.max(...keys.map((k) => Number(k.split('.')[1])));
  if (top % 2 !== 0 || top < 2) return null;
  // Even indices are convs, odd ones PReLU slopes; ReLU / LeakyReLU variants carry no weights and cannot be told apart.
  if (!sd.has('body.1.weight')) {
    throw new RestoraError('UNSUPPORTED', `${file}: an SRVGGNetCompact without PReLU weights (its activation is not stored in the file); Restora imports the PReLU form`, file);
  }
  const nf = shapeOf(sd, 'body.0.weight', 4, file)[0]!;
  const outCh = shapeOf(sd, `body.${top}.weight`, 4, file)[0]!;
  const scale = Math.round(Math.sqrt(outCh / 3));
  if (scale * scale * 3 !== outCh) throw new RestoraError('UNSUPPORTED', `${file}: an SRVGGNetCompact with ${outCh} output channels is not an RGB upscaler`, file);
  const layers = new Map<string, { weight: RawTensor; bias?: RawTensor }>();
  for (let i = 0; i <= top; i++) take(sd, `body.${i}`, `body.${i}`, layers, file, i % 2 === 0);
  return { arch: 'srvgg', scale, archOptions: { features: nf, convs: top / 2 - 1 }, layout: 'SRVGGNetCompact', layers };
}

/** Recognises the architecture of a state dict; refuses anything else with what its keys look like. */
export function detectArchitecture(state: StateDict, file: string): DetectedModel {
  const sd = new Map(state);
  const face = detectGfpgan(sd, file) ?? detectCodeformer(sd, file) ?? detectRestoreformer(sd, file);
  const found: DetectedModel | null = face ? { ...face, task: 'face' } : (detectRrdb(sd, file) ?? detectSrvgg(sd, file) ?? detectSpan(sd, file));
  if (!found) {
    const keys = [...state.keys()];
    if (looksLikeFaceModel(keys)) unsupportedFaceModel(file, keys);
    unsupported(file, state);
  }
  // BatchNorm counters and the like carry no weights; anything else left over means a layout we do not fully know.
  const left = [...sd.keys()].filter((k) => !k.endsWith('num_batches_tracked'));
  if (left.length > 0) {
    throw new RestoraError('MODEL_INVALID', `${file}: looks like ${found.layout} but has tensors Restora does not place: ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', ...' : ''}`, file);
  }
  return found;
}
