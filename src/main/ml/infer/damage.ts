/**
 * The first two steps of the Restore pipeline (detect -> inpaint -> restore/upscale):
 * where a print is damaged (the detector's mask, or one the user drew), and the photo
 * with those pixels filled by the inpainter. Both nets run tiled at the photo's own size,
 * like any model, so big scans stay within memory.
 */
import type * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { upscaleTiled } from './tiling.js';
import { tilingFor } from '../archs/index.js';
import type { Pixels } from '../../imaging/io.js';
import { RestoraError } from '../../../shared/errors.js';
import type { ModelCard } from '../../../shared/api.js';

export interface DamageNet {
  model: tf.LayersModel;
  card: Pick<ModelCard, 'arch' | 'scale' | 'archOptions' | 'threshold'>;
}

/**
 * The detector's mask of a photo (RGB 0..maxValue): probability over its card's threshold
 * (default one half). Not dilated: growing it by a pixel caught more of each scratch's rim
 * (+0.9 dB inside the masks on Set14) but inpainted more good texture (-0.4 dB outside),
 * and halved the IoU (scripts/measure-damage.ts, 2026-12-04).
 */
export async function detectDamage(net: DamageNet, rgb: Pixels, width: number, height: number, maxValue: number, tile: number, isCancelled?: () => boolean): Promise<Uint8Array> {
  const t = tilingFor(net.card);
  const prob = await upscaleTiled(net.model, rgb, width, height, maxValue, {
    scale: 1,
    tile: Math.min(tile, t.maxTile),
    overlap: t.overlap,
    multiple: t.multiple,
    channelsOut: 1,
    ...(isCancelled ? { isCancelled } : {}),
  });
  const mask = new Uint8Array(width * height);
  const cut = (net.card.threshold ?? 0.5) * maxValue;
  for (let i = 0; i < mask.length; i++) mask[i] = prob[i]! >= cut ? 1 : 0;
  return mask;
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
  return upscaleTiled(net.model, rgbm, width, height, maxValue, {
    scale: 1,
    tile: Math.min(tile, t.maxTile),
    overlap: t.overlap,
    multiple: t.multiple,
    channelsIn: 4,
    ...(isCancelled ? { isCancelled } : {}),
  });
}

/**
 * A user's mask: any image of the photo's size, white (over half brightness) where the
 * photo is damaged. Refused when its size differs, or when it marks nothing or everything.
 */
export async function readMask(file: string, width: number, height: number, photo: string): Promise<Uint8Array> {
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await sharp(file).rotate().greyscale().raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new RestoraError('CORRUPT_IMAGE', `${file}: cannot read the mask (${(err as Error).message})`, file);
  }
  const { data, info } = raw;
  if (info.width !== width || info.height !== height) {
    throw new RestoraError('USAGE', `${file}: the mask is ${info.width}x${info.height}, but ${photo} is ${width}x${height}; draw the mask on the photo itself.`, file);
  }
  const mask = new Uint8Array(width * height);
  let marked = 0;
  for (let i = 0; i < mask.length; i++) marked += mask[i] = data[i * info.channels]! >= 128 ? 1 : 0;
  if (marked === 0) throw new RestoraError('USAGE', `${file}: the mask is empty (no white pixels), so there is nothing to repair; paint the damage white, or use --scratches off.`, file);
  if (marked === mask.length) throw new RestoraError('USAGE', `${file}: the mask is white everywhere; inpainting cannot invent a whole photo. Paint only the damage white.`, file);
  return mask;
}

/** Writes a mask as a black-and-white PNG (white = damaged), for the user to check or correct. */
export async function writeMask(mask: Uint8Array, width: number, height: number, file: string): Promise<void> {
  const data = Buffer.alloc(mask.length);
  for (let i = 0; i < mask.length; i++) data[i] = mask[i] ? 255 : 0;
  await sharp(data, { raw: { width, height, channels: 1 } }).png().toFile(file);
}
