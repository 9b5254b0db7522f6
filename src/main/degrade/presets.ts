/**
 * Degradation presets: HR photo -> LR (or damaged) training input, seeded by the
 * caller's Rng so every pair can be regenerated exactly. Scales 1 (restoration
 * only), 2, 4 and 8.
 */
import { imresize, type FloatImage } from '../imaging/imresize.js';
import type { Rng } from '../ml/core/rng.js';
import { RestoraError } from '../../shared/errors.js';
import { randomDefects, type Damaged } from './defects.js';
import { blurKernel, clamp255, convolve, fadeAndYellow, filmGrain, gaussianNoise, jpegRoundTrip, poissonNoise, resizeTo, saltAndPepper, scratchesAndDust, sincKernel, speckleNoise, toGrayscale, type ResizeMode } from './ops.js';

export type PresetId = 'bicubic' | 'jpeg' | 'old-photo' | 'realistic' | 'noise-jpeg';
export const PRESET_SCALES = [1, 2, 4, 8] as const;

export interface OldPhotoOptions {
  scratches?: boolean;
}

export interface DamageOptions {
  /** Age the print first (the old-photo preset); false: a print in good condition, only resized. Default true. */
  aged?: boolean;
  /** Draw defects; false: an undamaged print (an empty mask). Default true. */
  defects?: boolean;
}

const oddIn = (rng: Rng, lo: number, hi: number) => lo + 2 * rng.int((hi - lo) / 2 + 1);

function bicubicDown(hr: FloatImage, scale: number): FloatImage {
  return scale === 1 ? { ...hr, data: Float32Array.from(hr.data) } : clamp255(imresize(hr, 1 / scale));
}

/** Fisher-Yates with the run's RNG. */
function shuffled<T>(items: T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

async function oldPhoto(hr: FloatImage, scale: number, rng: Rng, o: OldPhotoOptions): Promise<FloatImage> {
  let img = bicubicDown(hr, scale);
  type Step = (x: FloatImage) => FloatImage | Promise<FloatImage>;
  const steps: Step[] = [
    (x) => {
      const k = [3, 5, 7][rng.int(3)]!;
      const s = rng.uniform(1, 5);
      return convolve(x, blurKernel(k, s, s, 0));
    },
    (x) => {
      const r = rng.next();
      if (r < 0.4) return gaussianNoise(x, rng.uniform(5, 50), rng.next() < 0.4, rng);
      if (r < 0.8) return speckleNoise(x, rng.uniform(5, 50), rng);
      return saltAndPepper(x, rng.uniform(0, 0.01), rng);
    },
    (x) => {
      const f = rng.uniform(0.5, 1);
      const mode: ResizeMode = rng.next() < 0.5 ? 'nearest' : 'bilinear';
      const small = resizeTo(x, Math.max(1, Math.round(x.width * f)), Math.max(1, Math.round(x.height * f)), mode);
      return resizeTo(small, x.width, x.height, mode);
    },
    (x) => jpegRoundTrip(x, rng.uniform(40, 100)),
  ];
  for (const step of shuffled(steps, rng)) if (rng.next() < 0.7) img = await step(img);
  if (rng.next() < 0.5) img = filmGrain(img, rng.uniform(4, 16), rng);
  if (rng.next() < 0.6) img = fadeAndYellow(img, rng.uniform(0, 0.35), rng.uniform(0, 0.8));
  if (rng.next() < 0.1) img = toGrayscale(img);
  if (o.scratches && rng.next() < 0.5) img = scratchesAndDust(img, rng.int(4), rng.int(12), rng);
  return img;
}

function randomBlur(x: FloatImage, rng: Rng, sigma: [number, number]): FloatImage {
  const size = oddIn(rng, 7, 21);
  if (rng.next() < 0.1) {
    // sinc: ringing/overshoot; smaller cutoff for small kernels as in Real-ESRGAN.
    const omega = size < 13 ? rng.uniform(Math.PI / 3, Math.PI) : rng.uniform(Math.PI / 5, Math.PI);
    return convolve(x, sincKernel(size, omega));
  }
  const r = rng.next();
  const sx = rng.uniform(...sigma);
  const iso = r < 0.45;
  const sy = iso ? sx : rng.uniform(...sigma);
  const theta = iso ? 0 : rng.uniform(-Math.PI, Math.PI);
  const shape = r < 0.7 ? 'gaussian' : r < 0.85 ? 'generalized' : 'plateau';
  const beta = shape === 'generalized' ? rng.uniform(0.5, 4) : rng.uniform(1, 2);
  return convolve(x, blurKernel(size, sx, sy, theta, shape, beta));
}

function randomResize(x: FloatImage, rng: Rng, down: [number, number], up: [number, number]): FloatImage {
  const r = rng.next();
  const f = r < 0.2 ? rng.uniform(...up) : r < 0.9 ? rng.uniform(...down) : 1;
  const mode = (['area', 'bilinear', 'bicubic'] as const)[rng.int(3)]!;
  return resizeTo(x, Math.max(4, Math.round(x.width * f)), Math.max(4, Math.round(x.height * f)), mode);
}

function randomNoise(x: FloatImage, rng: Rng, sigma: [number, number], poisson: [number, number]): FloatImage {
  const gray = rng.next() < 0.4;
  return rng.next() < 0.5 ? gaussianNoise(x, rng.uniform(...sigma), gray, rng) : poissonNoise(x, rng.uniform(...poisson), gray, rng);
}

/** Real-ESRGAN's second-order degradation (Wang et al. 2021), numbers from the paper. */
async function realistic(hr: FloatImage, scale: number, rng: Rng): Promise<FloatImage> {
  const targetW = Math.round(hr.width / scale);
  const targetH = Math.round(hr.height / scale);
  let x = randomBlur(hr, rng, [0.2, 3]);
  x = randomResize(x, rng, [0.15, 1], [1, 1.5]);
  x = clamp255(randomNoise(x, rng, [1, 30], [0.05, 3]));
  x = await jpegRoundTrip(x, rng.uniform(30, 95));
  if (rng.next() < 0.8) x = randomBlur(x, rng, [0.2, 1.5]);
  x = randomResize(x, rng, [0.3, 1.2], [1, 1.2]);
  x = clamp255(randomNoise(x, rng, [1, 25], [0.05, 2.5]));
  const finalResize = (y: FloatImage) => {
    const mode = (['area', 'bilinear', 'bicubic'] as const)[rng.int(3)]!;
    const r = resizeTo(y, targetW, targetH, mode);
    return rng.next() < 0.8 ? r : convolve(r, sincKernel(oddIn(rng, 7, 21), rng.uniform(Math.PI / 3, Math.PI)));
  };
  if (rng.next() < 0.5) {
    x = finalResize(x);
    x = await jpegRoundTrip(x, rng.uniform(30, 95));
  } else {
    x = await jpegRoundTrip(x, rng.uniform(30, 95));
    x = finalResize(x);
  }
  return clamp255(x);
}

export async function degrade(hr: FloatImage, scale: number, preset: PresetId, rng: Rng, options: OldPhotoOptions = {}): Promise<FloatImage> {
  if (!(PRESET_SCALES as readonly number[]).includes(scale)) throw new RestoraError('USAGE', `Scale must be 1, 2, 4 or 8, not ${scale}.`);
  if (hr.width % scale || hr.height % scale) throw new RestoraError('USAGE', `HR size ${hr.width}x${hr.height} is not a multiple of ${scale}.`);
  switch (preset) {
    case 'bicubic':
      return bicubicDown(hr, scale);
    case 'jpeg':
      return jpegRoundTrip(bicubicDown(hr, scale), rng.uniform(30, 95));
    case 'old-photo':
      return oldPhoto(hr, scale, rng, options);
    case 'realistic':
      return realistic(hr, scale, rng);
    case 'noise-jpeg':
      // A fixed second degradation for evaluation: colour Gaussian noise sigma 8, then JPEG quality 35.
      return jpegRoundTrip(clamp255(gaussianNoise(bicubicDown(hr, scale), 8, false, rng)), 35);
    default:
      throw new RestoraError('USAGE', `Unknown degradation preset "${preset as string}".`);
  }
}

/**
 * A damaged old print and where it is damaged: the old-photo degradation, then scratches,
 * creases, dust and torn corners drawn on the low-resolution image the models see, with
 * their mask at that resolution (the target of scratch detection and inpainting).
 */
export async function degradeDamaged(hr: FloatImage, scale: number, rng: Rng, options: DamageOptions = {}): Promise<Damaged & { before: FloatImage }> {
  const before = options.aged === false ? await degrade(hr, scale, 'bicubic', rng) : await degrade(hr, scale, 'old-photo', rng, { scratches: false });
  if (options.defects === false) return { img: before, mask: new Uint8Array(before.width * before.height), before };
  return { ...randomDefects(before, rng), before };
}
