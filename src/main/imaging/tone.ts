/**
 * Tone steps after a model: a highlight guard (a restoration model must not blow out
 * whites the photo had) and an optional levels + white balance for faded prints.
 * Both work on interleaved RGB at any bit depth (0..maxValue) and in place.
 */

/** A writable array of samples: decoded pixels, or floats in 0..255 (metrics, tests). */
export type Samples = Uint8Array | Uint16Array | Float32Array;

/** BT.601 luma (0..maxValue units) at or above this fraction of white counts as clipped. */
export const CLIP_LUMA = 250 / 255;

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/** Fraction of pixels whose BT.601 luma is >= 250 (of 255; or `threshold` of white): the "blown highlights" measure. */
export function clippedFraction(rgb: ArrayLike<number>, maxValue: number, threshold = CLIP_LUMA): number {
  const n = Math.floor(rgb.length / 3);
  if (n === 0) return 0;
  const t = threshold * maxValue;
  let c = 0;
  for (let i = 0; i < n; i++) if (luma(rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!) >= t - 1e-6) c++;
  return c / n;
}

/** Luma of the input sampled bilinearly at each output pixel centre (the reference the guard compares with). */
function referenceLuma(input: ArrayLike<number>, width: number, height: number, scale: number): Float32Array {
  const y = new Float32Array(width * height);
  for (let i = 0; i < y.length; i++) y[i] = luma(input[3 * i]!, input[3 * i + 1]!, input[3 * i + 2]!);
  if (scale === 1) return y;
  const W = width * scale;
  const H = height * scale;
  const out = new Float32Array(W * H);
  for (let Y = 0; Y < H; Y++) {
    const fy = Math.min(height - 1, Math.max(0, (Y + 0.5) / scale - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(height - 1, y0 + 1);
    const ty = fy - y0;
    for (let X = 0; X < W; X++) {
      const fx = Math.min(width - 1, Math.max(0, (X + 0.5) / scale - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(width - 1, x0 + 1);
      const tx = fx - x0;
      const top = y[y0 * width + x0]! * (1 - tx) + y[y0 * width + x1]! * tx;
      const bottom = y[y1 * width + x0]! * (1 - tx) + y[y1 * width + x1]! * tx;
      out[Y * W + X] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/** Soft saturation of t >= 0: the identity up to 0.5, then a smooth (C1) roll-off towards 1, never reaching it. */
function shoulder(t: number): number {
  const a = 0.5;
  return t <= a ? t : a + (1 - a) * (1 - Math.exp(-(t - a) / (1 - a)));
}

export interface GuardOptions {
  /** Where the guard may start to act, in 0..255 luma (mid-tones below it are never touched). */
  knee?: number;
  /** The luma a brightened highlight may approach but not reach, in 0..255 (below the clip level). */
  ceiling?: number;
}

/**
 * Highlight guard. Where the output is brighter than the (bilinearly upscaled) input near
 * white, its luma is rolled off smoothly below `ceiling` instead of clipping: a pixel may
 * only come out clipped where the input was itself at least as bright. Monotone in the
 * output's luma (detail and order of tones kept), never brightens, and shifts R, G and B
 * by the same amount so chroma (hue and saturation in YCbCr) is unchanged.
 * `output` is `scale` times the input's size; `round` for integer samples.
 * Returns the number of pixels it changed.
 */
export function guardHighlights(input: ArrayLike<number>, width: number, height: number, output: Samples, scale: number, maxValue: number, o: GuardOptions = {}): number {
  const unit = maxValue / 255;
  const knee = (o.knee ?? 192) * unit;
  const ceiling = (o.ceiling ?? 247) * unit;
  // The roll-off always has at least this much room (an input already near white keeps its own level).
  const room = 8 * unit;
  const ref = referenceLuma(input, width, height, scale);
  const round = !(output instanceof Float32Array);
  let changed = 0;
  for (let p = 0; p < ref.length; p++) {
    const o3 = 3 * p;
    const r = output[o3]!;
    const g = output[o3 + 1]!;
    const b = output[o3 + 2]!;
    const yOut = luma(r, g, b);
    if (yOut <= knee) continue;
    const yRef = ref[p]!;
    const top = Math.max(ceiling, yRef);
    const base = Math.max(knee, Math.min(yRef, top - room));
    if (yOut <= base) continue;
    let yNew = base + (top - base) * shoulder((yOut - base) / (top - base));
    // Never darker than the input or the output already was at that place.
    yNew = Math.max(yNew, Math.min(yOut, yRef));
    const d = yNew - yOut;
    if (d > -1e-3 * unit) continue;
    const put = (v: number) => {
      const c = Math.min(maxValue, Math.max(0, v + d));
      return round ? Math.round(c) : c;
    };
    output[o3] = put(r);
    output[o3 + 1] = put(g);
    output[o3 + 2] = put(b);
    changed++;
  }
  return changed;
}

export interface LevelsResult {
  /** Per channel (R, G, B): the input levels mapped to black and to white. */
  black: [number, number, number];
  white: [number, number, number];
  /** How much of the measured colour cast was corrected (0: none, the cast looked like real colour). */
  castWeight: number;
}

/** The q-quantile (0..1) of channel c from a histogram over 0..maxValue. */
function quantile(hist: Uint32Array, n: number, q: number): number {
  const target = q * (n - 1);
  let acc = 0;
  for (let v = 0; v < hist.length; v++) {
    acc += hist[v]!;
    if (acc > target) return v;
  }
  return hist.length - 1;
}

export interface LevelsOptions {
  /** Share of pixels allowed below the black point and above the white point, per channel. */
  tail?: number;
  /** Largest stretch of the tonal range (a foggy photo is not stretched into noise). */
  maxGain?: number;
  /** Levels (of 255) the black point is brought down to and the white point up to, at least. */
  blackTarget?: number;
  whiteTarget?: number;
  /**
   * Relative colour casts (of the white point) up to `castFull` are corrected fully, beyond `castNone` not at
   * all: a yellowed print's blue white point is 10-20 % low, a sunset's 50 % and more.
   */
  castFull?: number;
  castNone?: number;
}

/**
 * Levels and white balance for faded prints, in place. Black and white points are robust
 * per-channel percentiles (white patch: the print's paper white becomes neutral, which
 * undoes a yellowed print's cast; black patch: lifted blacks come down). The channels'
 * points are pulled towards their common mean, fully for small casts and not at all for
 * large ones (a sunset's highlights are real colour, not yellowing), so a neutral photo
 * stays neutral and no photo gets a garish cast. Then the highlight guard (against the
 * photo before this step) keeps the clipped fraction where it was.
 */
export function autoLevels(rgb: Samples, width: number, height: number, maxValue: number, o: LevelsOptions = {}): LevelsResult {
  const tail = o.tail ?? 0.005;
  const maxGain = o.maxGain ?? 2.5;
  const castFull = o.castFull ?? 0.15;
  const castNone = o.castNone ?? 0.3;
  const blackTarget = o.blackTarget ?? 8;
  const whiteTarget = o.whiteTarget ?? 245;
  const n = width * height;
  const bins = rgb instanceof Float32Array ? 256 : maxValue + 1;
  const toBin = (v: number) => Math.min(bins - 1, Math.max(0, Math.round((v * (bins - 1)) / maxValue)));
  const hists = [0, 1, 2].map(() => new Uint32Array(bins));
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) hists[c]![toBin(rgb[3 * p + c]!)]!++;
  const fromBin = (b: number) => (b * maxValue) / (bins - 1);
  const lo = hists.map((h) => fromBin(quantile(h, n, tail)));
  const hi = hists.map((h) => fromBin(quantile(h, n, 1 - tail)));
  // Without a cast correction all channels share one map that clips none of them.
  const loAll = Math.min(lo[0]!, lo[1]!, lo[2]!);
  const hiAll = Math.max(hi[0]!, hi[1]!, hi[2]!);
  const cast = Math.max(hiAll - Math.min(hi[0]!, hi[1]!, hi[2]!), Math.max(lo[0]!, lo[1]!, lo[2]!) - loAll) / Math.max(1e-9, hiAll);
  const castWeight = cast <= castFull ? 1 : cast >= castNone ? 0 : (castNone - cast) / (castNone - castFull);
  // Input levels mapped to the targets: black to at most blackTarget, white to at least whiteTarget
  // (a photo that already spans them keeps its own range: only a faded one is stretched).
  const unit = maxValue / 255;
  const lowT = Math.min(loAll, blackTarget * unit);
  const highT = Math.max(hiAll, whiteTarget * unit);
  const black = [0, 1, 2].map((c) => loAll + castWeight * (lo[c]! - loAll)) as [number, number, number];
  const white = [0, 1, 2].map((c) => hiAll + castWeight * (hi[c]! - hiAll)) as [number, number, number];
  const gain: number[] = [];
  for (let c = 0; c < 3; c++) gain.push(Math.min(maxGain, (highT - lowT) / Math.max(1e-9, white[c]! - black[c]!)));
  const before = rgb.slice();
  const round = !(rgb instanceof Float32Array);
  for (let p = 0; p < n; p++)
    for (let c = 0; c < 3; c++) {
      const v = lowT + (rgb[3 * p + c]! - black[c]!) * gain[c]!;
      const cl = Math.min(maxValue, Math.max(0, v));
      rgb[3 * p + c] = round ? Math.round(cl) : cl;
    }
  guardHighlights(before, width, height, rgb, 1, maxValue);
  return { black, white, castWeight };
}
