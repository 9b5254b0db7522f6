/**
 * One upscale job item, start to finish: probe, decode, tiled inference, alpha,
 * optional resize, encode with metadata. Runs inside the compute worker.
 */
import type * as tf from '@tensorflow/tfjs';
import { decodeImage, encodeImage, probeImage, resizeImage, resizedSize, uprightSize, MAX_OUTPUT_PIXELS, type EncodeInput, type Pixels } from '../../imaging/io.js';
import { imresize } from '../../imaging/imresize.js';
import { keepInputColours } from '../../imaging/keepColours.js';
import { autoLevels, guardHighlights } from '../../imaging/tone.js';
import { fitTile, predictorFor, upscaleTiled, type TileRunner } from './tiling.js';
import type { PadMode } from '../archs/registry.js';
import { DEFAULT_TILE, type OutputFormat, type TileChange } from '../../../shared/api.js';
import { RestoraError } from '../../../shared/errors.js';
import type { FaceStepResult } from '../faces/faceStep.js';

export interface UpscaleFileRequest {
  input: string;
  output: string;
  scale: number;
  format: OutputFormat;
  quality?: number;
  tile: number;
  overlap: number;
  multiple?: number;
  /** How tiles are padded to the multiple (the arch's padMode). */
  padMode?: PadMode;
  /** Largest tile the model's memory allows on this backend (the arch's tiling); a bigger ask is cut down and said. */
  maxTile?: number;
  /** Replicated border before inference (the arch's edgePad). */
  edgePad?: number;
  /** Carry the input's low-frequency colour to the output (no new colour casts); see keepColours.ts. */
  keepColours?: boolean;
  /** Roll off highlights the model brightened past the input's instead of clipping them (see tone.ts). */
  keepHighlights?: boolean;
  /** Levels and white balance for faded prints, after the model (see tone.ts autoLevels). */
  levels?: boolean;
  /** Resize the model's output (lanczos3): one side keeps the aspect ratio, both fit inside. */
  resize?: { width?: number; height?: number };
  /** Repair scratches and dust before the model runs (the Restore pipeline's first steps). */
  repair?: RepairPlan;
  /** Restore the faces with a face model after the upscaler (see faces/faceStep.ts). */
  faces?: FacePlan;
}

/** The face step: which face model, how strongly its faces replace the photo's, and CodeFormer's fidelity w. */
export interface FacePlan {
  modelDir: string;
  /** 0..1: blend of the restored face over the upscaled one. */
  strength: number;
  /** CodeFormer's w (0: the codebook's face, 1: closest to the photo); other models ignore it. */
  fidelity?: number;
  /** Also write the result without the faces here (PNG): Compare blends the two live for its strength slider. */
  beforeOut?: string;
}

/** Runs the face step on the decoded input and the upscaler's output (in place). */
export type FacesFn = (input: { rgb: Pixels; width: number; height: number }, output: { rgb: Pixels; width: number; height: number }, scale: number, maxValue: number, isCancelled?: () => boolean) => Promise<FaceStepResult>;

/**
 * Where the damage is (the detector's mask, or the user's mask file) and the inpainter
 * that fills it; `maskOut` keeps the mask used as a PNG for the user to check and correct.
 */
export interface RepairPlan {
  detectorDir?: string;
  inpainterDir: string;
  maskFile?: string;
  maskOut?: string;
}

/** Repairs a decoded photo in place of the original pixels; resolves to the repaired pixels and how many were repaired. */
export type RepairFn = (rgb: Pixels, width: number, height: number, maxValue: number, isCancelled?: () => boolean) => Promise<{ rgb: Pixels; repaired: number }>;

export interface UpscaleFileResult {
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
  /** Whether the photo's colours were kept (the request's choice, or the model's default). */
  keptColours: boolean;
  /** Whether the highlight guard ran (the request's choice, or the model's default). */
  keptHighlights: boolean;
  /** Pixels the repair step filled in (when it ran). */
  repairedPixels?: number;
  /** What the face step did (when it ran): faces found, restored, and skipped as too small. */
  faces?: FaceStepResult;
  /** The tile used, when it differs from the one asked for, and why. */
  tile?: TileChange;
}

/**
 * Whether a fitted tile is worth saying: the default tile is a starting point, not an ask, so
 * its cut to a big model's memory goes unsaid (it would be said on every photo); a tile the
 * user chose, or any tile off the model's grid (a transformer's windows), is said.
 */
function said(change: TileChange): boolean {
  return change.reason !== 'model-memory' || change.asked !== DEFAULT_TILE;
}

/** The smallest tile an out-of-memory retry goes down to. */
const MIN_RETRY_TILE = 32;

/** Bicubic-upscales an alpha plane (alpha needs no neural detail, only smooth edges). */
function upscaleAlpha(alpha: Pixels, width: number, height: number, scale: number, maxValue: number): Pixels {
  const f = imresize({ width, height, channels: 1, data: Float32Array.from(alpha) }, scale);
  const out = maxValue > 255 ? new Uint16Array(f.data.length) : new Uint8Array(f.data.length);
  for (let i = 0; i < f.data.length; i++) out[i] = Math.min(maxValue, Math.max(0, Math.round(f.data[i]!)));
  return out;
}

/** Makes the tile runner for one decoded image (an engine's model: see engine/engineModels.ts). */
export type RunnerFactory = (rgb: ArrayLike<number>, width: number, height: number, maxValue: number) => TileRunner;

export async function upscaleFile(
  model: tf.LayersModel | RunnerFactory,
  req: UpscaleFileRequest,
  hooks: { onProgress?: (done: number, total: number) => void; isCancelled?: () => boolean; repair?: RepairFn; faces?: FacesFn } = {},
): Promise<UpscaleFileResult> {
  const info = await probeImage(req.input);
  const upright = uprightSize(info);
  if (upright.width * upright.height * req.scale * req.scale > MAX_OUTPUT_PIXELS) {
    throw new RestoraError('IMAGE_TOO_LARGE', `${req.input}: x${req.scale} output would be ${upright.width * req.scale}x${upright.height * req.scale}, over the ${MAX_OUTPUT_PIXELS / 1e6} MP limit`, req.input);
  }
  const img = await decodeImage(req.input, info);
  let repairedPixels: number | undefined;
  if (hooks.repair) {
    const r = await hooks.repair(img.rgb, img.width, img.height, img.maxValue, hooks.isCancelled);
    img.rgb = r.rgb;
    repairedPixels = r.repaired;
  }
  // Conditioned models get the whole image's statistics with every tile.
  const runner = typeof model === 'function' ? model(img.rgb, img.width, img.height, img.maxValue) : predictorFor(model, img.rgb, img.width, img.height, img.maxValue);
  // A GPU that runs out of memory on a tile gets the photo again in tiles half the side, down to MIN_RETRY_TILE.
  const fitted = fitTile(req.tile, { maxTile: req.maxTile ?? Infinity, multiple: req.multiple ?? 1 });
  let tile = fitted.tile;
  let rgb: Pixels;
  for (;;) {
    try {
      rgb = await upscaleTiled(runner, img.rgb, img.width, img.height, img.maxValue, {
        scale: req.scale,
        tile,
        overlap: req.overlap,
        multiple: req.multiple ?? 1,
        ...(req.padMode ? { padMode: req.padMode } : {}),
        edgePad: req.edgePad ?? 0,
        ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
        ...(hooks.isCancelled ? { isCancelled: hooks.isCancelled } : {}),
      });
      break;
    } catch (err) {
      if (!(err instanceof RestoraError && err.code === 'GPU_OUT_OF_MEMORY') || tile <= MIN_RETRY_TILE) throw err;
      const m = req.multiple ?? 1;
      tile = Math.max(MIN_RETRY_TILE, m, Math.floor(tile / 2 / m) * m);
    }
  }
  if (req.keepColours) keepInputColours(img.rgb, img.width, img.height, rgb, req.scale, img.maxValue);
  // After the colours: the guard only moves luma, and compares with the (repaired) input.
  if (req.keepHighlights) guardHighlights(img.rgb, img.width, img.height, rgb, req.scale, img.maxValue);
  // Faces after the tone guards (the face is matched to the finished background), before levels (which apply to all).
  const withoutFaces = hooks.faces && req.faces?.beforeOut ? rgb.slice() : null;
  const faces = hooks.faces ? await hooks.faces(img, { rgb, width: img.width * req.scale, height: img.height * req.scale }, req.scale, img.maxValue, hooks.isCancelled) : undefined;
  if (req.levels) autoLevels(rgb, img.width * req.scale, img.height * req.scale, img.maxValue);
  if (withoutFaces && req.faces?.beforeOut) {
    if (req.levels) autoLevels(withoutFaces, img.width * req.scale, img.height * req.scale, img.maxValue);
    await encodeImage({ width: img.width * req.scale, height: img.height * req.scale, rgb: withoutFaces, maxValue: img.maxValue }, req.faces.beforeOut, { format: 'png' }, info);
  }
  img.rgb = new Uint8Array(0); // release the input early: big photos
  const alpha = img.alpha ? upscaleAlpha(img.alpha, img.width, img.height, req.scale, img.maxValue) : undefined;
  if (hooks.isCancelled?.()) throw new RestoraError('CANCELLED', 'Upscale cancelled.');
  let out: EncodeInput = { width: img.width * req.scale, height: img.height * req.scale, rgb, maxValue: img.maxValue, ...(alpha ? { alpha } : {}) };
  if (req.resize) {
    const size = resizedSize(out.width, out.height, req.resize);
    out = await resizeImage(out, size.width, size.height);
    if (hooks.isCancelled?.()) throw new RestoraError('CANCELLED', 'Upscale cancelled.');
  }
  // The encoder takes EXIF/XMP/ICC from the source file, whatever the pixel size.
  await encodeImage(out, req.output, { format: req.format, ...(req.quality !== undefined ? { quality: req.quality } : {}) }, info);
  return {
    width: img.width,
    height: img.height,
    outWidth: out.width,
    outHeight: out.height,
    keptColours: Boolean(req.keepColours),
    keptHighlights: Boolean(req.keepHighlights),
    ...(repairedPixels !== undefined ? { repairedPixels } : {}),
    ...(faces ? { faces } : {}),
    ...(tile !== fitted.tile ? { tile: { asked: req.tile, used: tile, reason: 'gpu-out-of-memory' as const } } : fitted.change && said(fitted.change) ? { tile: fitted.change } : {}),
  };
}
