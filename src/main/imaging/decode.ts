/** Decoding to float RGB for the numeric code paths (training, metrics, eval). */
import sharp from 'sharp';
import type { FloatImage } from './imresize.js';

/** Decodes any sharp-readable image to 8-bit sRGB RGB samples as floats 0..255. */
export async function decodeRgbFloat(file: string): Promise<FloatImage> {
  const { data, info } = await sharp(file, { failOn: 'error' }).rotate().toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(info.width * info.height * 3);
  if (info.channels === 3) {
    for (let i = 0; i < out.length; i++) out[i] = data[i]!;
  } else {
    for (let i = 0; i < info.width * info.height; i++) {
      const v = data[i * info.channels]!;
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v;
    }
  }
  return { width: info.width, height: info.height, channels: 3, data: out };
}
