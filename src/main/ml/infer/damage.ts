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
