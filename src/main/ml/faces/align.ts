/**
 * A face's way into a face model and back: a similarity transform (rotation, uniform scale,
 * shift; no shear, no mirror) that maps its five points onto the FFHQ template of a 512x512
 * crop, the crop cut with it, and the restored crop pasted back through a feathered mask so
 * no seam or colour step shows. Pixels beyond the crop's footprint are never touched.
 */
import type { FloatImage } from '../../imaging/imresize.js';

/** Side of the aligned crop the face models work on. */
export const FACE_CROP = 512;

/**
 * The five points of an FFHQ-aligned 512x512 face (eye centres, nose tip, mouth corners), as
 * GFPGAN's and CodeFormer's pipelines use them (facexlib's face template).
 */
export const FFHQ_TEMPLATE_512: readonly [number, number][] = [
  [192.98138, 239.94708],
  [318.90277, 240.1936],
  [256.63416, 314.01935],
  [201.26117, 371.41043],
  [313.08905, 371.15118],
];

/** x' = a*x - b*y + tx, y' = b*x + a*y + ty. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** The least-squares similarity from `src` points to `dst` points (Umeyama's closed form, no reflection). */
export function similarityFrom(src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[]): Similarity {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new Error('a similarity needs at least two matching points');
  let sx = 0,
    sy = 0,
    dx = 0,
    dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0];
    sy += src[i]![1];
    dx += dst[i]![0];
    dy += dst[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  // With centred points p (source) and q (target): a = sum(p.q) / |p|^2, b = sum(p x q) / |p|^2.
  let pp = 0,
    dot = 0,
    cross = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - sx,
      py = src[i]![1] - sy;
    const qx = dst[i]![0] - dx,
      qy = dst[i]![1] - dy;
    pp += px * px + py * py;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
  }
  if (pp === 0) throw new Error('the face points coincide');
  const a = dot / pp;
  const b = cross / pp;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

export function applySimilarity(t: Similarity, x: number, y: number): [number, number] {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d;
  const b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/** Bilinear sample of channel c at (x, y), the border pixels repeated outside the image. */
function sample(img: FloatImage, x: number, y: number, c: number): number {
  const { width: w, height: h, channels: ch, data } = img;
  const cx = Math.min(Math.max(x, 0), w - 1);
  const cy = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.floor(cx),
    y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, w - 1),
    y1 = Math.min(y0 + 1, h - 1);
  const fx = cx - x0,
    fy = cy - y0;
  const top = data[(y0 * w + x0) * ch + c]! * (1 - fx) + data[(y0 * w + x1) * ch + c]! * fx;
  const bottom = data[(y1 * w + x0) * ch + c]! * (1 - fx) + data[(y1 * w + x1) * ch + c]! * fx;
  return top * (1 - fy) + bottom * fy;
}

/** The aligned crop of a face: `toCrop` maps photo pixels to crop pixels (pixel centres at +0.5). */
export function alignedCrop(photo: FloatImage, toCrop: Similarity, side = FACE_CROP): FloatImage {
  const back = invertSimilarity(toCrop);
  const ch = photo.channels;
  const out = new Float32Array(side * side * ch);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const [px, py] = applySimilarity(back, x + 0.5, y + 0.5);
      for (let c = 0; c < ch; c++) out[(y * side + x) * ch + c] = sample(photo, px - 0.5, py - 0.5, c);
    }
  }
  return { width: side, height: side, channels: ch, data: out };
}

/** Whether every pixel of an RGB image has R = G = B (within `tol`): a black-and-white photo stays so. */
export function isGrey(img: FloatImage, tol = 1): boolean {
  if (img.channels < 3) return true;
  for (let i = 0; i < img.width * img.height; i++) {
    const r = img.data[i * img.channels]!,
      g = img.data[i * img.channels + 1]!,
      b = img.data[i * img.channels + 2]!;
    if (Math.abs(r - g) > tol || Math.abs(g - b) > tol) return false;
  }
  return true;
}

/** The photo pixels (inclusive bounds, clipped to the photo) a crop of `side` cut with `toCrop` covers. */
export function footprint(toCrop: Similarity, side: number, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } {
  const back = invertSimilarity(toCrop);
  const corners = [
    [0, 0],
    [side, 0],
    [0, side],
    [side, side],
  ].map(([x, y]) => applySimilarity(back, x!, y!));
  return {
    x0: Math.max(0, Math.floor(Math.min(...corners.map((p) => p[0])))),
    x1: Math.min(width - 1, Math.ceil(Math.max(...corners.map((p) => p[0])))),
    y0: Math.max(0, Math.floor(Math.min(...corners.map((p) => p[1])))),
    y1: Math.min(height - 1, Math.ceil(Math.max(...corners.map((p) => p[1])))),
  };
}

/**
 * Pastes a restored crop back into the photo (in place) through a feathered mask: 1 inside the
 * crop less `feather` pixels (in crop pixels) from its edges, falling to 0 at the edge with a
 * smooth step, so the face blends into the photo with no seam. `strength` (0..1) blends with
 * the photo's own face. A grayscale photo (`grey`, by default tested on `photo`) takes the restored crop's luma only. Returns how many
 * photo pixels changed (the crop's footprint).
 */
export function pasteBack(photo: FloatImage, crop: FloatImage, toCrop: Similarity, feather: number, strength = 1, grey = isGrey(photo)): number {
  const ch = photo.channels;
  const side = crop.width;
  const { x0, y0, x1, y1 } = footprint(toCrop, side, photo.width, photo.height);
  const smooth = (t: number) => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));
  let changed = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const [cx, cy] = applySimilarity(toCrop, x + 0.5, y + 0.5);
      // Distance to the crop's nearest edge, in crop pixels.
      const edge = Math.min(cx, cy, side - cx, side - cy);
      const w = strength * smooth(edge / Math.max(feather, 1e-6));
      if (w <= 0) continue;
      changed++;
      const i = (y * photo.width + x) * ch;
      const v = [0, 1, 2].map((c) => sample(crop, cx - 0.5, cy - 0.5, Math.min(c, crop.channels - 1)));
      if (grey) {
        // BT.601 luma: a black-and-white print gets no colour from the face model.
        const l = 0.299 * v[0]! + 0.587 * v[1]! + 0.114 * v[2]!;
        for (let c = 0; c < Math.min(ch, 3); c++) photo.data[i + c] = photo.data[i + c]! * (1 - w) + l * w;
      } else {
        for (let c = 0; c < Math.min(ch, 3); c++) photo.data[i + c] = photo.data[i + c]! * (1 - w) + v[c]! * w;
      }
    }
  }
  return changed;
}
