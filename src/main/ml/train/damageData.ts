/**
 * Training batches for the damage nets (scratch detection and inpainting): clean photos
 * aged with the old-photo preset, then scratched, creased, dusted and torn (degrade/
 * defects.ts), with the mask of every damaged pixel. Both nets work at the photo's own
 * size (scale 1): a batch item is the damaged patch (lr), the same patch before the
 * defects were drawn (hr: what inpainting should give back) and the mask.
 * Like degradedBatch, a batch is a pure function of its seed.
 */
import { copyPatch, areaPicker, type Batch, type BatchSource, type PairImage } from './dataset.js';
import { degradeDamaged } from '../../degrade/presets.js';
import { addSceneStructures } from '../../degrade/defects.js';
import type { FloatImage } from '../../imaging/imresize.js';
import { Rng } from '../core/rng.js';

/** Side of the region the defects are drawn on around each patch: a patch sees them at the density of a whole print. */
export const DAMAGE_CONTEXT = 128;

/** Shares of training regions not aged first, and not damaged at all. */
export const CLEAN_PRINTS = 0.3;
export const UNDAMAGED_PRINTS = 0.15;
/** Share of regions given real thin structures (wires, rigging, text, catchlights, lit edges) before aging: the detector's hard negatives. */
export const SCENE_STRUCTURES = 0.6;

export async function damagedBatch(photos: readonly FloatImage[], seed: number, batch: number, patch: number, context = DAMAGE_CONTEXT): Promise<Batch> {
  const rng = new Rng(seed);
  const pick = areaPicker(photos);
  const lr = new Float32Array(batch * patch * patch * 3);
  const hr = new Float32Array(batch * patch * patch * 3);
  const mask = new Float32Array(batch * patch * patch);
  for (let b = 0; b < batch; b++) {
    const src = photos[pick(rng)]!;
    // Scans come at many resolutions: regions are aged at the photo's size or at 1/2, 1/4 or 1/8 of it.
    // Shrunk far, a big photo's real detail (twigs, rails, text, eyes) is as dense and as thin as in
    // the small, low-resolution photos where the detector marked real structures as scratches.
    const fits = [1, 2, 4, 8].filter((d) => Math.floor(Math.min(src.width, src.height) / d) >= patch);
    const down = fits[rng.int(fits.length)] ?? 1;
    const side = Math.max(patch, Math.min(context, Math.floor(Math.min(src.width, src.height) / down)));
    const hs = side * down;
    const x = rng.int(src.width - hs + 1);
    const y = rng.int(src.height - hs + 1);
    const region = new Float32Array(hs * hs * 3);
    copyPatch(src, x, y, hs, rng.int(8), region, 0);
    for (let k = 0; k < region.length; k++) region[k]! *= 255;
    // Some prints are in good condition, and some are not damaged at all: the detector must leave
    // clean edges, highlights and fine texture alone (the first detector marked 3 % of a clean photo).
    const aged = rng.next() >= CLEAN_PRINTS;
    const defects = rng.next() >= UNDAMAGED_PRINTS;
    let clean: FloatImage = { width: hs, height: hs, channels: 3, data: region };
    // Real wires, rigging, text and catchlights are part of the picture (blurred and aged with it), never damage.
    if (rng.next() < SCENE_STRUCTURES) clean = addSceneStructures(clean, rng, down);
    const d = await degradeDamaged(clean, down, rng, { aged, defects });
    const px = rng.int(side - patch + 1);
    const py = rng.int(side - patch + 1);
    copyPatch(d.img, px, py, patch, 0, lr, b * patch * patch * 3);
    copyPatch(d.before, px, py, patch, 0, hr, b * patch * patch * 3);
    for (let yy = 0; yy < patch; yy++) {
      for (let xx = 0; xx < patch; xx++) mask[b * patch * patch + yy * patch + xx] = d.mask[(py + yy) * side + px + xx]!;
    }
  }
  return { lr, hr, mask, batch, patch, scale: 1 };
}

/** Damaged batches made in this thread, one seed per step from the run's RNG (threadedDegradedSource(..., damage) makes them on a loader thread). */
export function damagedSource(photos: readonly FloatImage[], context = DAMAGE_CONTEXT): BatchSource {
  return { next: (rng, batch, patch) => damagedBatch(photos, rng.nextU32(), batch, patch, context) };
}

/**
 * Validation pairs for the damage nets: each photo aged and damaged whole (seeded by its
 * index, so every run validates on the same damage), with its mask.
 */
export async function damagedPairs(photos: readonly { name: string; img: FloatImage }[], seed = 1): Promise<PairImage[]> {
  const out: PairImage[] = [];
  for (const [i, { name, img }] of photos.entries()) {
    const d = await degradeDamaged(img, 1, new Rng(seed * 7919 + i));
    out.push({ name, lr: d.img, hr: d.before, mask: d.mask });
  }
  return out;
}
