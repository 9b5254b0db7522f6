/** Scores a model on an HR/LR folder pair with the quality protocol of ../shared/DESIGN.md (the workspace design notes: Y-channel PSNR/SSIM, borders cropped by the scale). */
import fs from 'node:fs';
import path from 'node:path';
import type { BackendId, PresetId } from '../../../shared/api.js';
import { degrade } from '../../degrade/presets.js';
import { Rng } from '../core/rng.js';
import { RestoraError } from '../../../shared/errors.js';
import { decodeRgbFloat } from '../../imaging/decode.js';
import { crop, imresize, type FloatImage } from '../../imaging/imresize.js';
import { initBackend } from '../backend.js';
import { measure } from './metrics.js';
import { loadLayersModel } from '../store/modelStore.js';
import { predictImage } from '../infer/predict.js';
import type { PairImage } from '../train/dataset.js';

export interface EvalReport {
  scale: number;
  psnr: number;
  ssim: number;
  bicubic: { psnr: number; ssim: number };
  images: { hr: string; lr: string; psnr: number; ssim: number; bicubicPsnr: number; bicubicSsim: number }[];
}

const IMG = /\.(png|jpe?g|bmp|tiff?|webp)$/i;

/** Pairs HR and LR files by sorted order (the Set5/Set14 naming convention) and scores `upscale`. */
export async function evaluatePairs(hrDir: string, lrDir: string, scale: number, upscale: (lr: FloatImage) => FloatImage): Promise<EvalReport> {
  const hrs = fs
    .readdirSync(hrDir)
    .filter((f) => IMG.test(f) && fs.statSync(path.join(hrDir, f)).isFile())
    .sort();
  const lrs = fs
    .readdirSync(lrDir)
    .filter((f) => IMG.test(f) && fs.statSync(path.join(lrDir, f)).isFile())
    .sort();
  if (hrs.length === 0 || hrs.length !== lrs.length) {
    throw new RestoraError('USAGE', `${hrDir} has ${hrs.length} images and ${lrDir} has ${lrs.length}; they must pair one to one`);
  }
  const images: EvalReport['images'] = [];
  for (let i = 0; i < hrs.length; i++) {
    const hr0 = await decodeRgbFloat(path.join(hrDir, hrs[i]!));
    const lr = await decodeRgbFloat(path.join(lrDir, lrs[i]!));
    const hr = crop(hr0, 0, 0, lr.width * scale, lr.height * scale);
    const q = measure(upscale(lr), hr, scale);
    const b = measure(imresize(lr, scale, { uint8: true }), hr, scale);
    images.push({ hr: hrs[i]!, lr: lrs[i]!, psnr: q.psnr, ssim: q.ssim, bicubicPsnr: b.psnr, bicubicSsim: b.ssim });
  }
  return summarize(scale, images);
}

function summarize(scale: number, images: EvalReport['images']): EvalReport {
  const mean = (k: 'psnr' | 'ssim' | 'bicubicPsnr' | 'bicubicSsim') => images.reduce((a, r) => a + r[k], 0) / images.length;
  return { scale, psnr: mean('psnr'), ssim: mean('ssim'), bicubic: { psnr: mean('bicubicPsnr'), ssim: mean('bicubicSsim') }, images };
}

/** Runs `score` with a saved model loaded on the chosen backend, then frees it. */
async function withModel(modelDir: string, backend: BackendId | undefined, score: (upscale: (lr: FloatImage) => FloatImage) => Promise<EvalReport>): Promise<EvalReport> {
  await initBackend(backend ? { prefer: backend } : {});
  const model = await loadLayersModel(modelDir);
  try {
    return await score((lr) => predictImage(model, lr));
  } finally {
    model.dispose();
  }
}

/** Scores a saved model on an HR/LR folder pair. */
export async function evaluateModel(modelDir: string, hrDir: string, lrDir: string, scale: number, backend?: BackendId): Promise<EvalReport> {
  return withModel(modelDir, backend, (upscale) => evaluatePairs(hrDir, lrDir, scale, upscale));
}

/**
 * The HR images of a folder (sorted, cropped to a multiple of `scale`), each
 * degraded with a preset: image i with seed `seed * 1000 + i`, so the same
 * folder and seed always give the same damage (eval --degrade, training's --eval-dir).
 */
export async function degradedPairs(hrDir: string, scale: number, preset: PresetId, seed: number): Promise<PairImage[]> {
  const hrs = fs
    .readdirSync(hrDir)
    .filter((f) => IMG.test(f) && fs.statSync(path.join(hrDir, f)).isFile())
    .sort();
  if (hrs.length === 0) throw new RestoraError('USAGE', `${hrDir} has no images`);
  const pairs: PairImage[] = [];
  for (const [i, f] of hrs.entries()) {
    const hr0 = await decodeRgbFloat(path.join(hrDir, f));
    const hr = crop(hr0, 0, 0, hr0.width - (hr0.width % scale), hr0.height - (hr0.height % scale));
    pairs.push({ name: f, hr, lr: await degrade(hr, scale, preset, new Rng(seed * 1000 + i)) });
  }
  return pairs;
}

/** Bicubic x`scale` of an LR image (identity at x1): the baseline every score is read against. */
export function bicubicOf(lr: FloatImage, scale: number): FloatImage {
  return scale === 1 ? lr : imresize(lr, scale, { uint8: true });
}

/** Scores `upscale` on HR images degraded with a preset (see degradedPairs), against bicubic of the degraded input. */
export async function evaluateDegradedPairs(hrDir: string, scale: number, preset: PresetId, seed: number, upscale: (lr: FloatImage) => FloatImage): Promise<EvalReport> {
  const images: EvalReport['images'] = [];
  for (const [i, p] of (await degradedPairs(hrDir, scale, preset, seed)).entries()) {
    const q = measure(upscale(p.lr), p.hr, scale);
    const b = measure(bicubicOf(p.lr, scale), p.hr, scale);
    images.push({ hr: p.name, lr: `${preset}#${seed * 1000 + i}`, psnr: q.psnr, ssim: q.ssim, bicubicPsnr: b.psnr, bicubicSsim: b.ssim });
  }
  return summarize(scale, images);
}

export async function evaluateModelDegraded(modelDir: string, hrDir: string, scale: number, preset: PresetId, seed: number, backend?: BackendId): Promise<EvalReport> {
  return withModel(modelDir, backend, (upscale) => evaluateDegradedPairs(hrDir, scale, preset, seed, upscale));
}
