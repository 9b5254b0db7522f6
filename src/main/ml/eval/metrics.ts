/**
 * PSNR / SSIM exactly as the quality protocol of ../shared/DESIGN.md (the workspace design notes): Y channel of BT.601
 * (16 + 65.481R + 128.553G + 24.966B, RGB in [0,1]), `shave` px removed on every
 * border, PSNR on float Y with peak 255, SSIM with an 11x11 Gaussian (sigma 1.5),
 * valid region, C1=(0.01*255)^2, C2=(0.03*255)^2.
 */
import type { FloatImage } from '../../imaging/imresize.js';

export interface Plane {
  width: number;
  height: number;
  data: Float64Array;
}

/** Y plane from an RGB (or gray) image with samples in [0, 255]. */
export function toY(img: FloatImage): Plane {
  const n = img.width * img.height;
  const out = new Float64Array(n);
  const d = img.data;
  const c = img.channels;
  if (c < 3) {
    // Gray: R = G = B.
    for (let i = 0; i < n; i++) {
      const v = d[i * c]! / 255;
      out[i] = 16 + (65.481 + 128.553 + 24.966) * v;
    }
    return { width: img.width, height: img.height, data: out };
  }
  for (let i = 0; i < n; i++) {
    const r = d[i * c]! / 255;
    const g = d[i * c + 1]! / 255;
    const b = d[i * c + 2]! / 255;
    out[i] = 16 + 65.481 * r + 128.553 * g + 24.966 * b;
  }
  return { width: img.width, height: img.height, data: out };
}

export function shave(p: Plane, border: number): Plane {
  const w = p.width - 2 * border;
  const h = p.height - 2 * border;
  if (w <= 0 || h <= 0) throw new RangeError(`image too small to shave ${border}px`);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    const s = (y + border) * p.width + border;
    out.set(p.data.subarray(s, s + w), y * w);
  }
  return { width: w, height: h, data: out };
}

function assertSameSize(a: Plane, b: Plane): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`size mismatch: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
}

export function psnrPlane(a: Plane, b: Plane): number {
  assertSameSize(a, b);
  let se = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    se += d * d;
  }
  return psnrOf(se / a.data.length);
}

/** PSNR of a mean squared error on the 0..255 scale. */
export function psnrOf(mse: number): number {
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

function gaussianKernel(size: number, sigma: number): Float64Array {
  const k = new Float64Array(size);
  const half = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - half) ** 2) / (2 * sigma * sigma));
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

/** Separable 'valid' filtering with a 1-D kernel along both axes. */
function filterValid(p: Plane, k: Float64Array): Plane {
  const n = k.length;
  const w1 = p.width - n + 1;
  const h1 = p.height - n + 1;
  const tmp = new Float64Array(w1 * p.height);
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < w1; x++) {
      let acc = 0;
      const base = y * p.width + x;
      for (let t = 0; t < n; t++) acc += k[t]! * p.data[base + t]!;
      tmp[y * w1 + x] = acc;
    }
  }
  const out = new Float64Array(w1 * h1);
  for (let y = 0; y < h1; y++) {
    for (let x = 0; x < w1; x++) {
      let acc = 0;
      for (let t = 0; t < n; t++) acc += k[t]! * tmp[(y + t) * w1 + x]!;
      out[y * w1 + x] = acc;
    }
  }
  return { width: w1, height: h1, data: out };
}

export function ssimPlane(a: Plane, b: Plane): number {
  const map = ssimMap(a, b);
  let sum = 0;
  for (let i = 0; i < map.data.length; i++) sum += map.data[i]!;
  return sum / map.data.length;
}

/** SSIM of every 11x11 window (valid region): the value at (x, y) is the window centred on pixel (x + 5, y + 5). */
export function ssimMap(a: Plane, b: Plane): Plane {
  assertSameSize(a, b);
  const k = gaussianKernel(11, 1.5);
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const n = a.data.length;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a.data[i]! * a.data[i]!;
    bb[i] = b.data[i]! * b.data[i]!;
    ab[i] = a.data[i]! * b.data[i]!;
  }
  const mk = (d: Float64Array): Plane => ({ width: a.width, height: a.height, data: d });
  const mu1 = filterValid(a, k);
  const mu2 = filterValid(b, k);
  const s11 = filterValid(mk(aa), k);
  const s22 = filterValid(mk(bb), k);
  const s12 = filterValid(mk(ab), k);
  const m = mu1.data.length;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const m1 = mu1.data[i]!;
    const m2 = mu2.data[i]!;
    const v1 = s11.data[i]! - m1 * m1;
    const v2 = s22.data[i]! - m2 * m2;
    const cov = s12.data[i]! - m1 * m2;
    out[i] = ((2 * m1 * m2 + C1) * (2 * cov + C2)) / ((m1 * m1 + m2 * m2 + C1) * (v1 + v2 + C2));
  }
  return { width: mu1.width, height: mu1.height, data: out };
}

/**
 * The protocol's scores inside and outside a mask (HR size, 1 = damaged): PSNR over the
 * masked (unmasked) Y pixels, SSIM over the windows centred on them. Shaved like measure().
 */
export function measureMasked(sr: FloatImage, hr: FloatImage, scale: number, mask: ArrayLike<number>): { inside: Quality; outside: Quality } {
  const a = shave(toY(sr), scale);
  const b = shave(toY(hr), scale);
  const inMask = (x: number, y: number) => mask[(y + scale) * hr.width + x + scale]! > 0;
  const se = [0, 0];
  const n = [0, 0];
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const k = inMask(x, y) ? 0 : 1;
      const d = a.data[y * a.width + x]! - b.data[y * a.width + x]!;
      se[k]! += d * d;
      n[k]!++;
    }
  }
  const map = ssimMap(a, b);
  const ss = [0, 0];
  const sn = [0, 0];
  for (let y = 0; y < map.height; y++) {
    for (let x = 0; x < map.width; x++) {
      const k = inMask(x + 5, y + 5) ? 0 : 1;
      ss[k]! += map.data[y * map.width + x]!;
      sn[k]!++;
    }
  }
  const q = (k: number): Quality => ({ psnr: psnrOf(n[k] ? se[k]! / n[k]! : 0), ssim: sn[k] ? ss[k]! / sn[k]! : 1 });
  return { inside: q(0), outside: q(1) };
}

export interface Quality {
  psnr: number;
  ssim: number;
}

/** The protocol's score of `sr` against `hr` (both RGB 0..255, same size). */
export function measure(sr: FloatImage, hr: FloatImage, scale: number): Quality {
  const a = shave(toY(sr), scale);
  const b = shave(toY(hr), scale);
  return { psnr: psnrPlane(a, b), ssim: ssimPlane(a, b) };
}
