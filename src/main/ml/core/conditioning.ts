/**
 * Whole-image conditioning. Some damage is global: an old photo is faded and
 * yellowed as a whole, and its noise has one level. A conv net that sees ~30 px
 * cannot tell a yellowed photo from a yellow object, so it "restores" clean photos
 * too. Conditioned models (unet with `global: true`) take, beside the pixels, a
 * few statistics of the whole input image. They are computed here, from the whole
 * image, once per image, so every tile of a tiled upscale gets the same vector
 * (no seams), and training computes them the same way from the whole degraded crop.
 */
import * as tf from '@tensorflow/tfjs';

/** Per channel: mean, standard deviation, 2nd and 98th percentile; plus the luma noise level. All in [0, ~1]. */
export const GLOBAL_STATS = 13;
const BINS = 256;

/**
 * Statistics of an interleaved RGB image (0..maxValue). The noise level is the mean
 * absolute 4-neighbour Laplacian of luma, a cheap proxy that grows with noise and grain.
 */
export function globalStats(data: ArrayLike<number>, width: number, height: number, maxValue = 255): Float32Array {
  const n = width * height;
  const hist = [new Uint32Array(BINS), new Uint32Array(BINS), new Uint32Array(BINS)];
  const sum = [0, 0, 0];
  const sumSq = [0, 0, 0];
  const k = (BINS - 1) / maxValue;
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) {
      const v = data[p * 3 + c]!;
      sum[c]! += v;
      sumSq[c]! += v * v;
      hist[c]![Math.max(0, Math.min(BINS - 1, Math.round(v * k)))]!++;
    }
  }
  const out = new Float32Array(GLOBAL_STATS);
  const percentile = (h: Uint32Array, q: number) => {
    const target = q * n;
    let acc = 0;
    for (let i = 0; i < BINS; i++) {
      acc += h[i]!;
      if (acc >= target) return i / (BINS - 1);
    }
    return 1;
  };
  for (let c = 0; c < 3; c++) {
    const mean = sum[c]! / n;
    out[c * 4] = mean / maxValue;
    out[c * 4 + 1] = Math.sqrt(Math.max(0, sumSq[c]! / n - mean * mean)) / maxValue;
    out[c * 4 + 2] = percentile(hist[c]!, 0.02);
    out[c * 4 + 3] = percentile(hist[c]!, 0.98);
  }
  const luma = (p: number) => 0.299 * data[p * 3]! + 0.587 * data[p * 3 + 1]! + 0.114 * data[p * 3 + 2]!;
  let lap = 0;
  let count = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      lap += Math.abs(4 * luma(p) - luma(p - 1) - luma(p + 1) - luma(p - width) - luma(p + width));
      count++;
    }
  }
  // Scaled so typical values fall in 0..1 (a clean photo ~0.05, sigma-50 noise ~0.9).
  out[12] = count ? (lap / count / maxValue) * 4 : 0;
  return out;
}

/** True for models that take [pixels, whole-image statistics]. */
export function isConditioned(model: tf.LayersModel): boolean {
  return model.inputs.length === 2;
}

/**
 * Runs a model on a batch; `stats` (one vector for every item) is used only by models with a
 * second input: the whole-image statistics of conditioned models, or a face model's fidelity w
 * (CodeFormer), sized by that input.
 */
export function runModel(model: tf.LayersModel, x: tf.Tensor4D, stats: Float32Array | null, training = false): tf.Tensor4D {
  if (!isConditioned(model)) return model.apply(x, { training }) as tf.Tensor4D;
  if (!stats) throw new Error(`${model.name} needs whole-image statistics`);
  const width = model.inputs[1]!.shape[1] ?? GLOBAL_STATS;
  return tf.tidy(() => {
    const s = tf.tensor2d(stats, [stats.length / width, width]);
    const batch = x.shape[0];
    const cond = s.shape[0] === batch ? s : tf.tile(s, [batch, 1]);
    return model.apply([x, cond], { training }) as tf.Tensor4D;
  });
}
