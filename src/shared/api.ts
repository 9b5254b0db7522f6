/**
 * The one typed contract between the engine and its adapters (CLI, Electron IPC,
 * HTTP). Plain data only: no runtime dependencies, importable from every process.
 */

export type BackendId = 'gpu' | 'node' | 'wasm' | 'cpu';

export interface BackendInfo {
  id: BackendId;
  /** tfjs's own backend name ('tensorflow', 'wasm', 'cpu'). */
  tfName: string;
  threads: number;
  tfjsVersion: string;
  /** Backends tried first that failed to load. */
  skipped: string[];
}

/** Default tile side in input pixels: ~400 px with context keeps activations ~20 MB per layer. */
export const DEFAULT_TILE = 384;

export type OutputFormat = 'png' | 'jpg' | 'webp' | 'tiff' | 'avif';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'jpg', 'webp', 'tiff', 'avif'];

export interface ModelCard {
  id: string;
  name: string;
  arch: string;
  archOptions: Record<string, number | string | boolean>;
  scale: number;
  params: number;
  task: 'upscale' | 'restore';
  trainingData?: string;
  degradation?: string;
  steps?: number;
  metrics?: Record<string, { psnr: number; ssim: number }>;
  measuredWith?: string;
  date?: string;
  license?: string;
  notes?: string;
}

export interface ModelSummary {
  card: ModelCard;
  source: 'bundled' | 'user';
  dir: string;
}

export interface UpscaleOptions {
  modelId?: string;
  scale?: number;
  format?: OutputFormat;
  quality?: number;
  tile?: number;
}

export interface TileProgress {
  done: number;
  total: number;
}

export interface ItemResult {
  input: string;
  output?: string;
  ok: boolean;
  error?: { code: string; message: string };
  ms?: number;
}
