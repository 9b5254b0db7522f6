/**
 * Image degradation operators on float RGB images (0..255, HWC). All randomness
 * comes from the caller's seeded Rng, so every training pair is reproducible.
 */
import sharp from 'sharp';
import { imresize, type FloatImage } from '../imaging/imresize.js';
import type { Rng } from '../ml/core/rng.js';

export type Kernel2D = { size: number; data: Float32Array };

function clone(img: FloatImage): FloatImage {
  return { ...img, data: Float32Array.from(img.data) };
}

export function clamp255(img: FloatImage): FloatImage {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i]! < 0 ? 0 : d[i]! > 255 ? 255 : d[i]!;
  return img;
}

function normalise(k: Float32Array): Float32Array {
  let s = 0;
  for (const v of k) s += v;
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  return k;
}

/** Isotropic or anisotropic Gaussian, or generalized (shape beta) / plateau kernels (Real-ESRGAN). */
export function blurKernel(size: number, sigmaX: number, sigmaY: number, theta: number, shape: 'gaussian' | 'generalized' | 'plateau' = 'gaussian', beta = 2): Kernel2D {
  const r = (size - 1) / 2;
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const k = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - r;
      const dy = y - r;
      // Rotate into the kernel's axes, then Mahalanobis distance.
      const u = (c * dx + s * dy) / sigmaX;
      const v = (-s * dx + c * dy) / sigmaY;
      const d2 = u * u + v * v;
      k[y * size + x] = shape === 'gaussian' ? Math.exp(-0.5 * d2) : shape === 'generalized' ? Math.exp(-0.5 * Math.pow(d2, beta / 2)) : 1 / (1 + Math.pow(d2, beta / 2));
    }
  }
  return { size, data: normalise(k) };
}

/** 2-D sinc (ideal low-pass, circular) kernel with cutoff omega in (0, pi]: ringing and overshoot artefacts. */
export function sincKernel(size: number, omega: number): Kernel2D {
  const r = (size - 1) / 2;
  const k = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - r, y - r);
      // Jinc approximated by the radial sinc, windowed to the kernel size.
      const v = d === 0 ? omega / Math.PI : Math.sin(omega * d) / (Math.PI * d);
      const window = 0.5 * (1 + Math.cos((Math.PI * Math.min(d, r + 1)) / (r + 1)));
      k[y * size + x] = v * window;
    }
  }
  return { size, data: normalise(k) };
}

/** 'Same' 2-D convolution with replicated borders. */
export function convolve(img: FloatImage, kernel: Kernel2D): FloatImage {
  const { width: w, height: h, channels: ch } = img;
  const out = new Float32Array(img.data.length);
  const r = (kernel.size - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let ky = 0; ky < kernel.size; ky++) {
          const sy = Math.min(h - 1, Math.max(0, y + ky - r));
          for (let kx = 0; kx < kernel.size; kx++) {
            const sx = Math.min(w - 1, Math.max(0, x + kx - r));
            acc += kernel.data[ky * kernel.size + kx]! * img.data[(sy * w + sx) * ch + c]!;
          }
        }
        out[(y * w + x) * ch + c] = acc;
      }
    }
  }
  return { ...img, data: out };
}

function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Additive Gaussian noise, sigma in 0..255 units; gray = same noise on all channels. */
export function gaussianNoise(img: FloatImage, sigma: number, gray: boolean, rng: Rng): FloatImage {
  const out = clone(img);
  const ch = img.channels;
  for (let p = 0; p < img.width * img.height; p++) {
    const g = gray ? gaussian(rng) * sigma : 0;
    for (let c = 0; c < ch; c++) out.data[p * ch + c]! += gray ? g : gaussian(rng) * sigma;
  }
  return clamp255(out);
}

/**
 * Poisson (shot) noise as Real-ESRGAN does it: counts at 2^12 per unit intensity,
 * the resulting noise scaled by `scale` (0.05-3). Normal approximation of Poisson.
 */
export function poissonNoise(img: FloatImage, scale: number, gray: boolean, rng: Rng): FloatImage {
  const out = clone(img);
  const ch = img.channels;
  const counts = 4096;
  for (let p = 0; p < img.width * img.height; p++) {
    const g = gaussian(rng);
    for (let c = 0; c < ch; c++) {
      const v = Math.max(img.data[p * ch + c]! / 255, 0);
      const n = (gray ? g : gaussian(rng)) * Math.sqrt(v / counts) * scale;
      out.data[p * ch + c] = (v + n) * 255;
    }
  }
  return clamp255(out);
}

/** Multiplicative speckle noise. */
export function speckleNoise(img: FloatImage, sigma: number, rng: Rng): FloatImage {
  const out = clone(img);
  for (let i = 0; i < out.data.length; i++) out.data[i]! *= 1 + (gaussian(rng) * sigma) / 255;
  return clamp255(out);
}

export function saltAndPepper(img: FloatImage, amount: number, rng: Rng): FloatImage {
  const out = clone(img);
  const ch = img.channels;
  for (let p = 0; p < img.width * img.height; p++) {
    const r = rng.next();
    if (r < amount / 2) for (let c = 0; c < ch; c++) out.data[p * ch + c] = 0;
    else if (r < amount) for (let c = 0; c < ch; c++) out.data[p * ch + c] = 255;
  }
  return out;
}

export type ResizeMode = 'bicubic' | 'bilinear' | 'area' | 'nearest';

/** Resize to an exact size with the given interpolation. */
/** Source pixels covered by output pixel `o` of a box of `step` source pixels, with normalised coverage weights. */
function boxWeights(o: number, step: number, size: number): { first: number; weights: number[] } {
  const a = o * step;
  const b = Math.min(size, (o + 1) * step);
  const first = Math.min(size - 1, Math.floor(a));
  const weights: number[] = [];
  for (let i = first; i < Math.max(first + 1, Math.ceil(b)); i++) weights.push(Math.max(0, Math.min(b, i + 1) - Math.max(a, i)));
  const total = weights.reduce((t, w) => t + w, 0) || 1;
  return { first, weights: weights.map((w) => w / total) };
}

export function resizeTo(img: FloatImage, width: number, height: number, mode: ResizeMode): FloatImage {
  if (mode === 'bicubic') return imresize(img, { width, height });
  const out = new Float32Array(width * height * img.channels);
  const sx = img.width / width;
  const sy = img.height / height;
  const ch = img.channels;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < ch; c++) {
        let v: number;
        if (mode === 'nearest') {
          v = img.data[(Math.min(img.height - 1, Math.floor((y + 0.5) * sy)) * img.width + Math.min(img.width - 1, Math.floor((x + 0.5) * sx))) * ch + c]!;
        } else if (mode === 'bilinear' || sx <= 1) {
          const fx = Math.max(0, (x + 0.5) * sx - 0.5);
          const fy = Math.max(0, (y + 0.5) * sy - 0.5);
          const x0 = Math.min(img.width - 1, Math.floor(fx));
          const y0 = Math.min(img.height - 1, Math.floor(fy));
          const x1 = Math.min(img.width - 1, x0 + 1);
          const y1 = Math.min(img.height - 1, y0 + 1);
          const ax = fx - x0;
          const ay = fy - y0;
          const at = (xx: number, yy: number) => img.data[(yy * img.width + xx) * ch + c]!;
          v = (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x1, y0)) + ay * ((1 - ax) * at(x0, y1) + ax * at(x1, y1));
        } else {
          // Area: the exact mean over the source box [x*sx, (x+1)*sx) x [y*sy, (y+1)*sy),
          // border pixels weighted by the fraction they cover. (Whole-pixel boxes from
          // floor() moved the image up-left by up to half a source pixel, and a model
          // trained on such pairs learns to shift its output.)
          const bx = boxWeights(x, sx, img.width);
          const by = boxWeights(y, sy, img.height);
          let acc = 0;
          for (let j = 0; j < by.weights.length; j++) {
            const row = (by.first + j) * img.width;
            let r = 0;
            for (let i = 0; i < bx.weights.length; i++) r += bx.weights[i]! * img.data[(row + bx.first + i) * ch + c]!;
            acc += by.weights[j]! * r;
          }
          v = acc;
        }
        out[(y * width + x) * ch + c] = v;
      }
    }
  }
  return { width, height, channels: ch, data: out };
}

/** JPEG round trip at `quality` through libvips (the same encoder users' files went through). */
export async function jpegRoundTrip(img: FloatImage, quality: number): Promise<FloatImage> {
  const u8 = Buffer.from(Uint8Array.from(img.data, (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v))));
  const jpg = await sharp(u8, { raw: { width: img.width, height: img.height, channels: img.channels as 3 } })
    .jpeg({ quality: Math.round(quality), chromaSubsampling: '4:2:0' })
    .toBuffer();
  const { data } = await sharp(jpg).raw().toBuffer({ resolveWithObject: true });
  return { ...img, data: Float32Array.from(data) };
}

/** Luma-dependent film grain: stronger in mid-tones, spatially correlated by a small blur. */
export function filmGrain(img: FloatImage, strength: number, rng: Rng): FloatImage {
  const n: FloatImage = { width: img.width, height: img.height, channels: 1, data: new Float32Array(img.width * img.height) };
  for (let i = 0; i < n.data.length; i++) n.data[i] = gaussian(rng);
  const grain = convolve(n, blurKernel(3, 0.7, 0.7, 0));
  const out = clone(img);
  for (let p = 0; p < n.data.length; p++) {
    const luma = (img.data[p * 3]! * 0.299 + img.data[p * 3 + 1]! * 0.587 + img.data[p * 3 + 2]! * 0.114) / 255;
    const amp = strength * 4 * luma * (1 - luma);
    for (let c = 0; c < 3; c++) out.data[p * 3 + c]! += grain.data[p]! * amp;
  }
  return clamp255(out);
}

/** Fading (lower contrast, lifted blacks) and yellowing (blue down, red up). */
export function fadeAndYellow(img: FloatImage, fade: number, yellow: number): FloatImage {
  const out = clone(img);
  for (let p = 0; p < img.width * img.height; p++) {
    for (let c = 0; c < 3; c++) {
      const v = img.data[p * 3 + c]!;
      const faded = v * (1 - fade) + 128 * fade * 0.6 + 40 * fade;
      const tint = c === 0 ? 1 + 0.08 * yellow : c === 1 ? 1 + 0.03 * yellow : 1 - 0.25 * yellow;
      out.data[p * 3 + c] = faded * tint;
    }
  }
  return clamp255(out);
}

/**
 * Training augmentation of a clean photo, applied before it is degraded (so target
 * and input share it): per-channel gain within ±15%, a gamma within ±25% and a
 * saturation of 0.6-1.3. It widens what "undamaged" looks like, so a net that
 * corrects fading and yellowing learns to rely on cues of the damage itself (a
 * lifted black level, a cast across the whole tonal range) rather than on the
 * colours of a few dozen training photos. Works in place; values 0..255.
 */
export function colourJitter(img: FloatImage, rng: Rng): void {
  const gains = [0, 1, 2].map(() => Math.exp(rng.uniform(-0.15, 0.15)));
  const gamma = Math.exp(rng.uniform(-0.25, 0.25));
  const saturation = rng.uniform(0.6, 1.3);
  const d = img.data;
  for (let p = 0; p < img.width * img.height; p++) {
    const o = p * 3;
    const y = 0.299 * d[o]! + 0.587 * d[o + 1]! + 0.114 * d[o + 2]!;
    for (let c = 0; c < 3; c++) {
      const v = Math.min(255, Math.max(0, (y + saturation * (d[o + c]! - y)) * gains[c]!));
      d[o + c] = 255 * Math.pow(v / 255, gamma);
    }
  }
}

export function toGrayscale(img: FloatImage): FloatImage {
  const out = clone(img);
  for (let p = 0; p < img.width * img.height; p++) {
    const y = img.data[p * 3]! * 0.299 + img.data[p * 3 + 1]! * 0.587 + img.data[p * 3 + 2]! * 0.114;
    out.data[p * 3] = out.data[p * 3 + 1] = out.data[p * 3 + 2] = y;
  }
  return out;
}

/** Thin bright or dark scratches (random walks) and dust specks. */
export function scratchesAndDust(img: FloatImage, scratches: number, dust: number, rng: Rng): FloatImage {
  const out = clone(img);
  const put = (x: number, y: number, v: number) => {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    for (let c = 0; c < 3; c++) out.data[(y * img.width + x) * 3 + c] = v;
  };
  for (let s = 0; s < scratches; s++) {
    let x = rng.next() * img.width;
    let y = rng.next() * img.height;
    const v = rng.next() < 0.7 ? 235 : 25;
    const angle = rng.next() * Math.PI;
    const len = (0.2 + 0.6 * rng.next()) * Math.max(img.width, img.height);
    for (let t = 0; t < len; t++) {
      put(Math.round(x), Math.round(y), v);
      x += Math.cos(angle) + (rng.next() - 0.5) * 0.3;
      y += Math.sin(angle) + (rng.next() - 0.5) * 0.3;
    }
  }
  for (let d = 0; d < dust; d++) {
    const cx = Math.floor(rng.next() * img.width);
    const cy = Math.floor(rng.next() * img.height);
    const r = 1 + Math.floor(rng.next() * 2);
    const v = rng.next() < 0.5 ? 240 : 15;
    for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) if (x * x + y * y <= r * r) put(cx + x, cy + y, v);
  }
  return out;
}
