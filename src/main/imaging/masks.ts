/**
 * Damage masks as files: black-and-white images (white = damaged) of a photo's size, read
 * from the user and written for the user. Kept apart from the damage nets (ml/infer/damage.ts)
 * so the app's main thread can check a mask without loading tfjs.
 */
import sharp from 'sharp';
import { RestoraError } from '../../shared/errors.js';

/** Pixels a mask marks as damaged. */
export function countMarked(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  return n;
}

/**
 * A user's mask: any image of the photo's size, white (over half brightness) where the
 * photo is damaged. Refused when its size differs, or when it marks nothing or everything.
 */
export async function readMask(file: string, width: number, height: number, photo: string): Promise<Uint8Array> {
  const wrongSize = (w: number, h: number) => new RestoraError('USAGE', `${file}: the mask is ${w}x${h}, but ${photo} is ${width}x${height}; draw the mask on the photo itself.`, file);
  // The size from the header first: a small file can claim a huge image, and decoding it
  // in full (hundreds of MB) before looking would let a few uploads exhaust memory.
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (err) {
    throw new RestoraError('CORRUPT_IMAGE', `${file}: cannot read the mask (${(err as Error).message})`, file);
  }
  const sideways = (meta.orientation ?? 1) >= 5;
  const w = (sideways ? meta.height : meta.width) ?? 0;
  const h = (sideways ? meta.width : meta.height) ?? 0;
  if (w !== width || h !== height) throw wrongSize(w, h);
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    // Only this many pixels, whatever the header said (it was checked just above).
    raw = await sharp(file, { limitInputPixels: width * height })
      .rotate()
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new RestoraError('CORRUPT_IMAGE', `${file}: cannot read the mask (${(err as Error).message})`, file);
  }
  const { data, info } = raw;
  if (info.width !== width || info.height !== height) throw wrongSize(info.width, info.height);
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = data[i * info.channels]! >= 128 ? 1 : 0;
  const marked = countMarked(mask);
  if (marked === 0)
    throw new RestoraError('USAGE', `${file}: the mask is empty (no white pixels), so there is nothing to repair.`, file, { hint: { cli: 'Paint the damage white, or use --scratches off.', studio: 'Paint the damage, or choose not to repair.' } });
  if (marked === mask.length) throw new RestoraError('USAGE', `${file}: the mask is white everywhere; inpainting cannot invent a whole photo. Paint only the damage white.`, file);
  return mask;
}

/** Writes a mask as a black-and-white PNG (white = damaged), for the user to check or correct. */
export async function writeMask(mask: Uint8Array, width: number, height: number, file: string): Promise<void> {
  const data = Buffer.alloc(mask.length);
  for (let i = 0; i < mask.length; i++) data[i] = mask[i] ? 255 : 0;
  await sharp(data, { raw: { width, height, channels: 1 } })
    .png()
    .toFile(file);
}
