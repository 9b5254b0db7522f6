/**
 * Architecture registry: each architecture is a small file that registers a
 * builder under a stable id, with its hyper-parameters as plain data (BasicSR style).
 */
import type * as tf from '@tensorflow/tfjs';
import type { TorchTensor } from './torchWeights.js';
import type { NcnnGraph } from './ncnnGraph.js';
import { RestoraError } from '../../../shared/errors.js';
import { TILE_RANGE } from '../../../shared/api.js';

export type ArchOptions = Record<string, number | string | boolean>;

export interface ArchSpec {
  id: string;
  description: string;
  /** Scales this architecture can be built for. */
  scales: readonly number[];
  defaults: ArchOptions;
  /**
   * 'discriminator': a critic for the GAN stage, never a model to train or run alone;
   * 'composite': built from other trained models and trained only by its recipe (the VAE
   * latent mapping); 'face': a face restorer run on aligned face crops by the face step,
   * imported, never trained or run as an upscaler; default 'generator'.
   */
  role?: 'generator' | 'discriminator' | 'composite' | 'face';
  /** Input sides must be a multiple of this (strided or pixel-unshuffling archs); tiling pads. */
  sizeMultiple?: number | ((scale: number, options: ArchOptions) => number);
  /** Builds an untrained model taking [B,H,W,3] in [0,1]. */
  build(scale: number, options: ArchOptions): tf.LayersModel;
  /** Receptive-field radius in input pixels (for tile overlap). */
  receptiveRadius(options: ArchOptions): number;
  /**
   * Pixels of replicated border the image gets before inference (0 = the convs' own zero
   * padding). Real-ESRGAN's ncnn engine pads by 10, and its models were judged that way.
   */
  edgePad?: number;
  /** How the community names the models this arch imports, for messages ("RRDBNet (ESRGAN, Real-ESRGAN)"). */
  importName?: string;
  /**
   * How a tile whose sides are not a multiple of `sizeMultiple` is padded (bottom and right,
   * then cropped): 'symmetric' repeats the edge pixel (Real-ESRGAN's engine), 'reflect' does
   * not (PyTorch's F.pad 'reflect', as SwinIR pads to its window), 'inside': not at all, the
   * model pads inside as its reference does (DAT zero-pads q/k/v in every block); tiles still
   * start on the grid. Default 'symmetric'.
   */
  padMode?: PadMode;
  /**
   * Bytes per input pixel of this arch's widest single activation (for attention, the score
   * matrix counts per pixel too). Tiles are sized so it stays within the backend's budget.
   */
  activationBytes?: (scale: number, options: ArchOptions) => number;
  /** Largest tile side (input pixels) that keeps one activation of this arch within a memory budget. */
  maxTile?: (scale: number, options: ArchOptions) => number;
}

export type PadMode = 'reflect' | 'symmetric' | 'inside';

/**
 * One activation (one tensor) may take this many bytes on wasm and the CPU: big enough for
 * 400 px tiles of the bundled nets, small enough that a 2-core machine's RAM holds the graph.
 */
export const DEFAULT_TENSOR_BUDGET = 192 * 2 ** 20;

/** What limits a tile on the backend a model runs on: WebGPU's largest storage buffer binding. */
export interface BackendLimits {
  maxTensorBytes?: number;
}

/** The tiling a model needs (see tilingFor). */
export interface Tiling {
  /** Context each side of a tile, input pixels (receptive radius + 2 px margin). */
  overlap: number;
  /** Tile sides (and their origins) are multiples of this: strides, pixel unshuffle, attention windows. */
  multiple: number;
  padMode: PadMode;
  edgePad: number;
  /** Largest tile side the model's memory allows on this backend (input pixels, a multiple of `multiple`). */
  maxTile: number;
}

const archs = new Map<string, ArchSpec>();

export function registerArch(spec: ArchSpec): void {
  if (archs.has(spec.id)) throw new Error(`architecture ${spec.id} registered twice`);
  archs.set(spec.id, spec);
}

export function getArch(id: string): ArchSpec {
  const a = archs.get(id);
  if (!a) throw new RestoraError('USAGE', `Unknown architecture "${id}". Known: ${[...archs.keys()].join(', ')}.`);
  return a;
}

/** An architecture a user can train as a model: a generator, not the GAN stage's discriminator. */
export function getTrainableArch(id: string, opts: { composite?: boolean } = {}): ArchSpec {
  const a = getArch(id);
  if (a.role === 'discriminator') {
    const generators = [...archs.values()].filter((x) => (x.role ?? 'generator') === 'generator').map((x) => x.id);
    throw new RestoraError('USAGE', `"${id}" is the GAN stage's discriminator, not a model to train; pick one of ${generators.join(', ')}.`, undefined, {
      hint: { cli: 'Add --gan to train against it.', studio: 'Turn on the GAN stage to train against it.' },
    });
  }
  if (a.role === 'face') {
    throw new RestoraError('USAGE', `"${id}" is a face restorer: Restora imports its community weights and runs it on aligned faces; it cannot be trained here.`);
  }
  if (a.role === 'composite' && !opts.composite) {
    throw new RestoraError('USAGE', `"${id}" is the last stage of the VAE latent recipe and needs its two VAEs.`, undefined, { hint: { cli: 'Train it with --recipe vae-latent.' } });
  }
  return a;
}

export function listArchs(): ArchSpec[] {
  return [...archs.values()];
}

export function buildArch(id: string, scale: number, options: ArchOptions = {}): tf.LayersModel {
  const spec = getArch(id);
  if (!spec.scales.includes(scale)) {
    throw new RestoraError('USAGE', `Architecture ${id} supports scales ${spec.scales.join(', ')}, not ${scale}.`);
  }
  return spec.build(scale, { ...spec.defaults, ...options });
}

/**
 * The tiling a saved model needs: context (receptive radius + 2 px margin), size multiple and
 * padding, and the largest tile whose widest activation fits the backend's budget (the
 * smaller of DEFAULT_TENSOR_BUDGET and the backend's own limit).
 */
export function tilingFor(card: { arch: string; scale: number; archOptions: ArchOptions }, limits: BackendLimits = {}): Tiling {
  const spec = archs.get(card.arch);
  // An imported model of an architecture we do not know: a generous context for its receptive field.
  if (!spec) return { overlap: 24, multiple: 1, padMode: 'symmetric', edgePad: 0, maxTile: Infinity };
  const options = { ...spec.defaults, ...card.archOptions };
  const multiple = typeof spec.sizeMultiple === 'function' ? spec.sizeMultiple(card.scale, options) : (spec.sizeMultiple ?? 1);
  const overlap = spec.receptiveRadius(options) + 2;
  let maxTile = spec.maxTile?.(card.scale, options) ?? Infinity;
  const bytes = spec.activationBytes?.(card.scale, options);
  if (bytes) {
    const budget = Math.min(DEFAULT_TENSOR_BUDGET, limits.maxTensorBytes ?? Infinity);
    // The tile's side with its context on both sides must hold within the budget.
    const side = Math.floor(Math.sqrt(budget / bytes)) - 2 * overlap;
    maxTile = Math.max(TILE_RANGE.min, multiple, Math.floor(side / multiple) * multiple);
  }
  return { overlap, multiple, padMode: spec.padMode ?? 'symmetric', edgePad: spec.edgePad ?? 0, maxTile };
}

export function num(options: ArchOptions, key: string): number {
  const v = options[key];
  if (typeof v !== 'number') throw new RestoraError('USAGE', `architecture option ${key} must be a number`);
  return v;
}

/** A list option written "1,2,2,4" (or one number): whole numbers from 1 to 4096. */
export function numList(options: ArchOptions, key: string, arch: string, allowEmpty = true): number[] {
  const raw = options[key];
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : null;
  const list = text === null || text === '' ? [] : text.split(',').map((v) => Number(v.trim()));
  if (text === null || (!allowEmpty && list.length === 0) || list.some((v) => !Number.isInteger(v) || v < 1 || v > 4096)) {
    throw new RestoraError('USAGE', `${arch} option ${key} must be a comma-separated list of whole numbers, not ${JSON.stringify(raw)}`);
  }
  return list;
}

/** A whole-number option from 1 to `max`. */
export function wholeNum(options: ArchOptions, key: string, max: number, arch: string): number {
  const v = num(options, key);
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RestoraError('USAGE', `${arch}: option ${key} must be a whole number from 1 to ${max}, not ${v}`);
  return v;
}

/** A PyTorch state dict recognised as one architecture: what to build and how to load it. */
export interface DetectedModel {
  arch: string;
  scale: number;
  /** Face restorers run on aligned face crops, never as upscalers. */
  task?: 'face';
  archOptions: ArchOptions;
  /** Human name of the layout found, for the card. */
  layout: string;
  /** Sets every weight of the model built from arch, scale and archOptions; throws naming the file on any mismatch. */
  loadInto: (model: tf.LayersModel) => void;
}

/**
 * Recognises its architecture in a state dict, or returns null; throws (naming the file) for
 * a file of its family it cannot take. Takes from `sd` the tensors it places, so the importer
 * can say what is left over.
 */
export type StateDictDetector = (sd: Map<string, TorchTensor>, file: string) => DetectedModel | null;

const detectors: { arch: string; detect: StateDictDetector }[] = [];

/** Each importable architecture registers its detector beside its definition (its folder's index.ts). */
export function registerDetector(arch: string, detect: StateDictDetector): void {
  if (detectors.some((d) => d.arch === arch)) throw new Error(`detector for ${arch} registered twice`);
  detectors.push({ arch, detect });
}

/** The detectors in registration order (the importer tries each in turn). */
export function listDetectors(): readonly { arch: string; detect: StateDictDetector }[] {
  return detectors;
}

/** Recognises its architecture in an ncnn graph, or returns null; throws (ncnnMismatch) for one of its family it cannot map. */
export type NcnnDetector = (graph: NcnnGraph) => DetectedModel | null;

const ncnnDetectors: { arch: string; detect: NcnnDetector }[] = [];

/** Architectures that ncnn tools ship (Upscayl's Real-ESRGAN) register their graph detector beside the PyTorch one. */
export function registerNcnnDetector(arch: string, detect: NcnnDetector): void {
  if (ncnnDetectors.some((d) => d.arch === arch)) throw new Error(`ncnn detector for ${arch} registered twice`);
  ncnnDetectors.push({ arch, detect });
}

export function listNcnnDetectors(): readonly { arch: string; detect: NcnnDetector }[] {
  return ncnnDetectors;
}
