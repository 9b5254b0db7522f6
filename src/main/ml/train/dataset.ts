/**
 * Paired patches for super-resolution training: each HR photo is decoded once,
 * its LR counterpart made once with the reference bicubic (MATLAB imresize, rounded
 * to 8 bits like the standard test sets), and patches are cut at aligned positions
 * with random flips / 90-degree rotations drawn from the run's seeded RNG.
 */
import { GLOBAL_STATS, globalStats } from '../core/conditioning.js';
import type { FloatImage } from '../../imaging/imresize.js';
import { imresize, modcrop } from '../../imaging/imresize.js';
import { Rng } from '../core/rng.js';

export interface PairImage {
  name: string;
  hr: FloatImage; // 0..255
  lr: FloatImage; // 0..255
  /** The damage nets' validation pairs: 1 where lr is damaged (lr.width * lr.height). */
  mask?: Uint8Array;
}

export function makeBicubicPair(name: string, hr0: FloatImage, scale: number): PairImage {
  const hr = modcrop(hr0, scale);
  const lr = scale === 1 ? hr : imresize(hr, 1 / scale, { uint8: true });
  return { name, hr, lr };
}

export interface Batch {
  /** [B, P, P, 3] in [0,1] */
  lr: Float32Array;
  /** [B, P*s, P*s, 3] in [0,1] */
  hr: Float32Array;
  batch: number;
  patch: number;
  scale: number;
  /** [B, GLOBAL_STATS]: statistics of the whole LR image each patch was cut from (conditioning.ts). */
  cond?: Float32Array;
  /** [B, P, P, 1], 1 where the LR patch is damaged (the damage nets' batches, damageData.ts). */
  mask?: Float32Array;
}

/** Writes a transformed square crop of 0..255 samples as 0..1 floats; t bits: 1 = flip x, 2 = flip y, 4 = transpose. */
export function copyPatch(src: Pick<FloatImage, 'width' | 'channels'> & { data: ArrayLike<number> }, x0: number, y0: number, size: number, t: number, dst: Float32Array, off: number): void {
  const c = src.channels;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sx = t & 4 ? y : x;
      let sy = t & 4 ? x : y;
      if (t & 1) sx = size - 1 - sx;
      if (t & 2) sy = size - 1 - sy;
      const s = ((y0 + sy) * src.width + (x0 + sx)) * c;
      const d = off + (y * size + x) * 3;
      dst[d] = src.data[s]! / 255;
      dst[d + 1] = src.data[s + (c > 1 ? 1 : 0)]! / 255;
      dst[d + 2] = src.data[s + (c > 2 ? 2 : 0)]! / 255;
    }
  }
}

/** Picks an image index with probability proportional to its area (one RNG draw). */
export function areaPicker(sizes: readonly { width: number; height: number }[]): (rng: Rng) => number {
  const areas = sizes.map((s) => s.width * s.height);
  const total = areas.reduce((a, b) => a + b, 0);
  return (rng) => {
    let r = rng.next() * total;
    let i = 0;
    while (i < areas.length - 1 && r >= areas[i]!) r -= areas[i++]!;
    return i;
  };
}

export function sampleBatch(pairs: readonly PairImage[], rng: Rng, batch: number, patch: number, scale: number, augment = true): Batch {
  const hp = patch * scale;
  const lr = new Float32Array(batch * patch * patch * 3);
  const hr = new Float32Array(batch * hp * hp * 3);
  const cond = new Float32Array(batch * GLOBAL_STATS);
  // Weight images by area so big photos are not under-sampled.
  const pick = areaPicker(pairs.map((p) => p.lr));
  for (let b = 0; b < batch; b++) {
    const p = pairs[pick(rng)]!;
    const x = rng.int(p.lr.width - patch + 1);
    const y = rng.int(p.lr.height - patch + 1);
    const t = augment ? rng.int(8) : 0;
    copyPatch(p.lr, x, y, patch, t, lr, b * patch * patch * 3);
    copyPatch(p.hr, x * scale, y * scale, hp, t, hr, b * hp * hp * 3);
    // Flips and transposes do not change these statistics.
    cond.set(statsOf(p.lr), b * GLOBAL_STATS);
  }
  return { lr, hr, batch, patch, scale, cond };
}

const statsCache = new WeakMap<FloatImage, Float32Array>();
function statsOf(img: FloatImage): Float32Array {
  let s = statsCache.get(img);
  if (!s) statsCache.set(img, (s = globalStats(img.data, img.width, img.height, 255)));
  return s;
}

/** Where the trainer gets its batches: precomputed bicubic pairs, or on-the-fly degradation. */
export interface BatchSource {
  next(rng: Rng, batch: number, patch: number, scale: number): Batch | Promise<Batch>;
  /** Frees what the source holds (a loader thread); the trainer's owner calls it when done. */
  close?(): Promise<void>;
}

export function pairSource(pairs: readonly PairImage[]): BatchSource {
  return { next: (rng, batch, patch, scale) => sampleBatch(pairs, rng, batch, patch, scale) };
}

export type DegradeFn = (hr: FloatImage, scale: number, rng: Rng) => Promise<FloatImage>;

/**
 * One batch of degraded training pairs: HR patches cut from clean photos,
 * augmented, and degraded with a preset (blur, noise, JPEG, old-photo damage...)
 * to make their LR inputs. Every random choice comes from `seed`, so a batch is a
 * pure function of its seed: the same in this thread or in the loader thread
 * (degradeLoader.ts), and again after a resume.
 */
export async function degradedBatch(
  photos: readonly FloatImage[],
  degrade: DegradeFn,
  seed: number,
  batch: number,
  patch: number,
  scale: number,
  /**
   * LR side of the region degraded around each patch (default: the patch). The
   * whole-image statistics of conditioned models come from that whole degraded
   * region, which is closer to a whole photo than one small patch.
   */
  context?: number,
  /** Changes each clean region in place before it is degraded (training augmentation such as colourJitter). */
  augment?: (region: FloatImage, rng: Rng) => void,
): Promise<Batch> {
  const rng = new Rng(seed);
  const pick = areaPicker(photos);
  const hp = patch * scale;
  const lr = new Float32Array(batch * patch * patch * 3);
  const hr = new Float32Array(batch * hp * hp * 3);
  const cond = new Float32Array(batch * GLOBAL_STATS);
  for (let b = 0; b < batch; b++) {
    const src = photos[pick(rng)]!;
    // The region: `context` LR pixels where the photo allows it, never less than the patch.
    const side = Math.max(patch, Math.min(context ?? patch, Math.floor(Math.min(src.width, src.height) / scale)));
    const hs = side * scale;
    const x = rng.int(src.width - hs + 1);
    const y = rng.int(src.height - hs + 1);
    const t = rng.int(8);
    const region = new Float32Array(hs * hs * 3);
    copyPatch(src, x, y, hs, t, region, 0);
    for (let k = 0; k < region.length; k++) region[k]! *= 255;
    const hrImg: FloatImage = { width: hs, height: hs, channels: 3, data: region };
    augment?.(hrImg, rng);
    const lrImg = await degrade(hrImg, scale, rng);
    cond.set(globalStats(lrImg.data, lrImg.width, lrImg.height, 255), b * GLOBAL_STATS);
    // The patch inside the region (the whole region when it is the patch).
    const px = side > patch ? rng.int(side - patch + 1) : 0;
    const py = side > patch ? rng.int(side - patch + 1) : 0;
    copyPatch(lrImg, px, py, patch, 0, lr, b * patch * patch * 3);
    copyPatch(hrImg, px * scale, py * scale, hp, 0, hr, b * hp * hp * 3);
  }
  return { lr, hr, batch, patch, scale, cond };
}

/**
 * Degraded batches made in this thread, one seed per step drawn from the run's
 * RNG (which the trainer checkpoints), so batches are reproducible on resume.
 */
export function degradedSource(photos: readonly FloatImage[], degrade: DegradeFn, context?: number, augment?: (region: FloatImage, rng: Rng) => void): BatchSource {
  return { next: (rng, batch, patch, scale) => degradedBatch(photos, degrade, rng.nextU32(), batch, patch, scale, context, augment) };
}
