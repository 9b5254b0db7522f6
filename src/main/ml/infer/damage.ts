/**
 * The first two steps of the Restore pipeline (detect -> inpaint -> restore/upscale):
 * where a print is damaged (the detector's mask, or one the user drew), and the photo
 * with those pixels filled by the inpainter. Both nets run tiled at the photo's own size,
 * like any model, so big scans stay within memory.
 */
import type * as tf from '@tensorflow/tfjs';
import { upscaleTiled } from './tiling.js';
import { tilingFor } from '../archs/index.js';
import type { Pixels } from '../../imaging/io.js';
import type { ModelCard } from '../../../shared/api.js';
import { cb, cr } from '../../imaging/keepColours.js';

export interface DamageNet {
  model: tf.LayersModel;
  card: Pick<ModelCard, 'arch' | 'scale' | 'archOptions' | 'threshold' | 'growThreshold' | 'review'>;
}

/** Where a detector's probability map becomes a mask: see confidentMask. */
export interface MaskRule {
  /** A damaged region must reach this probability somewhere (precision: what is repaired at all). */
  seed: number;
  /** ...and takes in every connected pixel over this one (its soft edges and halo). */
  grow: number;
}

/**
 * The rule a detector's card asks for. 'repair' (the automatic repair of restore, batches and
 * the CLI): its `threshold` seeds, `growThreshold` (default: the same) grows; picked for
 * precision, since nobody checks those marks. 'review' (the studio's Find damage, whose mask a
 * person sees and corrects first): the card's looser `review` rule when it has one.
 */
export function maskRuleOf(card: Pick<ModelCard, 'threshold' | 'growThreshold' | 'review'>, use: 'repair' | 'review' = 'repair'): MaskRule {
  const r = use === 'review' && card.review ? card.review : card;
  const seed = r.threshold ?? 0.5;
  return { seed, grow: Math.min(seed, r.growThreshold ?? seed) };
}

/**
 * Hysteresis on a probability map (0..maxValue): a pixel is damaged when it is over
 * `grow` and 8-connected, through such pixels, to one over `seed`. On real prints a plain
 * threshold had to choose between marking real thin detail (rigging, text strokes, a lit
 * profile: each only fairly likely to be a scratch) and missing the soft rims of real
 * cracks; a high seed repairs only what the detector is sure of, and the low grow still
 * takes the whole crack with its halo.
 */
export function confidentMask(prob: ArrayLike<number>, width: number, height: number, maxValue: number, rule: MaskRule): Uint8Array {
  const n = width * height;
  const mask = new Uint8Array(n);
  const seedCut = rule.seed * maxValue;
  const growCut = Math.min(rule.seed, rule.grow) * maxValue;
  const stack = new Int32Array(n);
  let top = 0;
  for (let i = 0; i < n; i++) {
    if (mask[i] || prob[i]! < seedCut) continue;
    mask[i] = 1;
    stack[top++] = i;
    while (top > 0) {
      const p = stack[--top]!;
      const x = p % width;
      const y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const q = yy * width + xx;
          if (!mask[q] && prob[q]! >= growCut) {
            mask[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
  }
  return mask;
}

/** Full scale of a probability map: 16 bits, so a precision-first threshold such as 0.998 can be told from 0.996 (8 bits cannot). */
export const PROB_MAX = 65535;

/** The detector's probability of damage per pixel (0..PROB_MAX), run tiled at the photo's size. */
export async function damageProbability(net: DamageNet, rgb: Pixels, width: number, height: number, maxValue: number, tile: number, isCancelled?: () => boolean): Promise<Pixels> {
  const t = tilingFor(net.card);
  // The tiler scales its output to the input's range: give it a 16-bit input.
  const wide = maxValue === PROB_MAX ? rgb : Uint16Array.from(rgb, (v) => Math.round((v * PROB_MAX) / maxValue));
  return upscaleTiled(net.model, wide, width, height, PROB_MAX, {
    scale: 1,
    tile: Math.min(tile, t.maxTile),
    overlap: t.overlap,
    multiple: t.multiple,
    channelsOut: 1,
    ...(isCancelled ? { isCancelled } : {}),
  });
}

/**
 * The detector's mask of a photo (RGB 0..maxValue), by its card's rule (confidentMask).
 * Not dilated: growing it by a pixel caught more of each scratch's rim (+0.9 dB inside
 * the masks on Set14) but inpainted more good texture (-0.4 dB outside), and halved the
 * IoU (scripts/measure-damage.ts, 2026-12-04); the grow threshold takes the rims instead.
 */
export async function detectDamage(net: DamageNet, rgb: Pixels, width: number, height: number, maxValue: number, tile: number, isCancelled?: () => boolean, use: 'repair' | 'review' = 'repair'): Promise<Uint8Array> {
  const prob = await damageProbability(net, rgb, width, height, maxValue, tile, isCancelled);
  return confidentMask(prob, width, height, PROB_MAX, maskRuleOf(net.card, use));
}

/** The photo with the masked pixels filled in (the others are passed through exactly). */
export async function inpaintDamage(net: DamageNet, rgb: Pixels, width: number, height: number, maxValue: number, mask: Uint8Array, tile: number, isCancelled?: () => boolean): Promise<Pixels> {
  const n = width * height;
  const rgbm = maxValue > 255 ? new Uint16Array(n * 4) : new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    rgbm[i * 4] = rgb[i * 3]!;
    rgbm[i * 4 + 1] = rgb[i * 3 + 1]!;
    rgbm[i * 4 + 2] = rgb[i * 3 + 2]!;
    rgbm[i * 4 + 3] = mask[i] ? maxValue : 0;
  }
  const t = tilingFor(net.card);
  const filled = await upscaleTiled(net.model, rgbm, width, height, maxValue, {
    scale: 1,
    tile: Math.min(tile, t.maxTile),
    overlap: t.overlap,
    multiple: t.multiple,
    channelsIn: 4,
    ...(isCancelled ? { isCancelled } : {}),
  });
  takeSurroundingColour(filled, width, height, maxValue, mask);
  return filled;
}

/**
 * Gives each repaired pixel the colour of the undamaged pixels around it, keeping the
 * inpainter's luma (its texture and shading). The inpainter alone left an olive trace
 * along real white cracks and painted a yellow blob on a black-and-white collar: what
 * it fills is a guess, while the surrounding colour is known. The surrounding colour is
 * the mean chroma (BT.601 Cb/Cr) of unmasked pixels in a square window, widened until
 * it holds some, so a grayscale print stays exactly neutral and a sepia one stays sepia.
 */
export function takeSurroundingColour(rgb: Pixels, width: number, height: number, maxValue: number, mask: Uint8Array): void {
  const n = width * height;
  if (!mask.some((m) => m)) return;
  // Integral images (one row and column of zeros in front) of Cb, Cr and the count of undamaged pixels.
  const W1 = width + 1;
  const sumB = new Float64Array(W1 * (height + 1));
  const sumR = new Float64Array(W1 * (height + 1));
  const count = new Float64Array(W1 * (height + 1));
  for (let y = 0; y < height; y++) {
    let rb = 0;
    let rr = 0;
    let rc = 0;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) {
        const r = rgb[i * 3]!;
        const g = rgb[i * 3 + 1]!;
        const b = rgb[i * 3 + 2]!;
        rb += cb(r, g, b);
        rr += cr(r, g, b);
        rc += 1;
      }
      const o = (y + 1) * W1 + x + 1;
      sumB[o] = sumB[o - W1]! + rb;
      sumR[o] = sumR[o - W1]! + rr;
      count[o] = count[o - W1]! + rc;
    }
  }
  const box = (a: Float64Array, x0: number, y0: number, x1: number, y1: number) => a[y1 * W1 + x1]! - a[y0 * W1 + x1]! - a[y1 * W1 + x0]! + a[y0 * W1 + x0]!;
  const clamp = (v: number) => Math.min(maxValue, Math.max(0, Math.round(v)));
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    const x = i % width;
    const y = (i - x) / width;
    let meanB = 0;
    let meanR = 0;
    // A few undamaged pixels are enough; a wide torn corner needs a wider window.
    for (let r = 4; ; r *= 2) {
      const x0 = Math.max(0, x - r);
      const y0 = Math.max(0, y - r);
      const x1 = Math.min(width, x + r + 1);
      const y1 = Math.min(height, y + r + 1);
      const c = box(count, x0, y0, x1, y1);
      if (c >= 8 || (x0 === 0 && y0 === 0 && x1 === width && y1 === height)) {
        if (c > 0) {
          meanB = box(sumB, x0, y0, x1, y1) / c;
          meanR = box(sumR, x0, y0, x1, y1) / c;
        }
        break;
      }
    }
    const r = rgb[i * 3]!;
    const g = rgb[i * 3 + 1]!;
    const b = rgb[i * 3 + 2]!;
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    rgb[i * 3] = clamp(luma + 1.402 * meanR);
    rgb[i * 3 + 1] = clamp(luma - 0.344136 * meanB - 0.714136 * meanR);
    rgb[i * 3 + 2] = clamp(luma + 1.772 * meanB);
  }
}
