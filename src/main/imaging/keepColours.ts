/**
 * "Keep the photo's colours": the output keeps its own luma and its fine chroma
 * detail, but its low-frequency chroma (the colour cast a restoration model may add,
 * e.g. a warm tint on a black-and-white scan) is replaced by the input's, and where
 * the input is neutral the output's chroma detail fades out too. The low-passed
 * chroma planes are computed at the input's resolution and sampled bilinearly;
 * luma (BT.601 Y) is kept exactly, up to rounding.
 */
import type { Pixels } from './io.js';

/** Separable Gaussian blur of a w x h plane, edges replicated. */
function blurPlane(src: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let a = 0;
      for (let i = -r; i <= r; i++) a += k[i + r]! * src[y * w + Math.min(w - 1, Math.max(0, x + i))]!;
      tmp[y * w + x] = a;
    }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let a = 0;
      for (let i = -r; i <= r; i++) a += k[i + r]! * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x]!;
      out[y * w + x] = a;
    }
  return out;
}

/** BT.601 chroma of one pixel (0 on a neutral grey), in the pixel's own units. */
export const cb = (r: number, g: number, b: number) => -0.168736 * r - 0.331264 * g + 0.5 * b;
export const cr = (r: number, g: number, b: number) => 0.5 * r - 0.418688 * g - 0.081312 * b;

/**
 * Rewrites `output` (interleaved RGB, `scale` times the input's size) in place.
 * sigma: the low-pass width in input pixels (what counts as "colour", not detail).
 */
export function keepInputColours(input: Pixels, width: number, height: number, output: Pixels, scale: number, maxValue: number, sigma = 2): void {
  const n = width * height;
  const inCb = new Float32Array(n);
  const inCr = new Float32Array(n);
  const outCb = new Float32Array(n);
  const outCr = new Float32Array(n);
  const W = width * scale;
  const area = scale * scale;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const [r, g, b] = [input[3 * i]!, input[3 * i + 1]!, input[3 * i + 2]!];
      inCb[i] = cb(r, g, b);
      inCr[i] = cr(r, g, b);
      // The output's chroma averaged over the s x s block this input pixel became.
      let sb = 0;
      let sr = 0;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++) {
          const o = 3 * ((y * scale + dy) * W + x * scale + dx);
          sb += cb(output[o]!, output[o + 1]!, output[o + 2]!);
          sr += cr(output[o]!, output[o + 1]!, output[o + 2]!);
        }
      outCb[i] = sb / area;
      outCr[i] = sr / area;
    }
  const a = blurPlane(inCb, width, height, sigma);
  const b = blurPlane(outCb, width, height, sigma);
  const c = blurPlane(inCr, width, height, sigma);
  const d = blurPlane(outCr, width, height, sigma);
  const H = height * scale;
  const clampRound = (v: number) => Math.min(maxValue, Math.max(0, Math.round(v)));
  // Below this input saturation (levels of a 0..255 scale) the output's own chroma detail fades out:
  // a model must not invent colour texture on a neutral (e.g. black-and-white) photo.
  const neutral = (4 * maxValue) / 255;
  // Bilinear sampling positions of the low-passed planes at each output column's centre, in input coordinates.
  const col0 = new Int32Array(W);
  const col1 = new Int32Array(W);
  const colT = new Float32Array(W);
  for (let X = 0; X < W; X++) {
    const fx = Math.min(width - 1, Math.max(0, (X + 0.5) / scale - 0.5));
    col0[X] = Math.floor(fx);
    col1[X] = Math.min(width - 1, col0[X]! + 1);
    colT[X] = fx - col0[X]!;
  }
  for (let Y = 0; Y < H; Y++) {
    const fy = Math.min(height - 1, Math.max(0, (Y + 0.5) / scale - 0.5));
    const r0 = Math.floor(fy) * width;
    const r1 = Math.min(height - 1, Math.floor(fy) + 1) * width;
    const ty = fy - Math.floor(fy);
    for (let X = 0; X < W; X++) {
      const tx = colT[X]!;
      const w00 = (1 - ty) * (1 - tx);
      const w01 = (1 - ty) * tx;
      const w10 = ty * (1 - tx);
      const w11 = ty * tx;
      const i00 = r0 + col0[X]!;
      const i01 = r0 + col1[X]!;
      const i10 = r1 + col0[X]!;
      const i11 = r1 + col1[X]!;
      const inB = w00 * a[i00]! + w01 * a[i01]! + w10 * a[i10]! + w11 * a[i11]!;
      const inR = w00 * c[i00]! + w01 * c[i01]! + w10 * c[i10]! + w11 * c[i11]!;
      const lowB = w00 * b[i00]! + w01 * b[i01]! + w10 * b[i10]! + w11 * b[i11]!;
      const lowR = w00 * d[i00]! + w01 * d[i01]! + w10 * d[i10]! + w11 * d[i11]!;
      const o = 3 * (Y * W + X);
      const r = output[o]!;
      const g = output[o + 1]!;
      const bl = output[o + 2]!;
      const ob = cb(r, g, bl);
      const or = cr(r, g, bl);
      const detail = Math.min(1, Math.hypot(inB, inR) / neutral);
      // New chroma: the input's low frequencies plus (some of) the output's own detail.
      const db = inB + detail * (ob - lowB) - ob;
      const dr = inR + detail * (or - lowR) - or;
      // Luma unchanged: the inverse BT.601 transform of a pure chroma shift.
      output[o] = clampRound(r + 1.402 * dr);
      output[o + 1] = clampRound(g - 0.344136 * db - 0.714136 * dr);
      output[o + 2] = clampRound(bl + 1.772 * db);
    }
  }
}
