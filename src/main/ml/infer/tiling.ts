/**
 * Tiled inference: the image is cut into tiles, each run with `overlap` pixels of
 * context on every side (clipped at the image edge), and only the tile's own
 * region of the output is kept. When the overlap covers the model's receptive
 * field the result equals the whole-image result; memory stays bounded by the
 * tile size whatever the photo's size.
 */
import * as tf from '@tensorflow/tfjs';
import type { Pixels } from '../../imaging/io.js';
import { RestoraError } from '../../../shared/errors.js';

/** Anything that maps a [1,H,W,3] tensor in [0,1] to [1,H*s,W*s,3] (a LayersModel does). */
export interface Predictor {
  predict(x: tf.Tensor4D): tf.Tensor | tf.Tensor[];
}

/** One tile for a runner: [height, width, channels] in 0..1, to be mirror-padded by padH/padW, run, cropped, scaled to 0..maxValue and rounded. */
export interface TileRequest {
  x: Float32Array;
  height: number;
  width: number;
  /** Input channels (default 3; the inpainter takes RGB + mask). */
  channels?: number;
  padH: number;
  padW: number;
  maxValue: number;
}

/** Runs one tile somewhere (this thread, or a compute engine on the GPU); resolves to [height*s, width*s, 3]. */
export type TileRunner = (tile: TileRequest) => Promise<Float32Array>;

/**
 * Mirrors `padH` rows and `padW` columns onto the bottom and right of x. tf.mirrorPad can
 * mirror at most the tensor's own size at once, so a photo smaller than the pad (a 1x1
 * image for a net that needs sides of 4) is mirrored in several passes.
 */
export function mirrorPadBottomRight(x: tf.Tensor4D, padH: number, padW: number): tf.Tensor4D {
  let y = x;
  while (padH > 0 || padW > 0) {
    const h = Math.min(padH, y.shape[1]);
    const w = Math.min(padW, y.shape[2]);
    y = tf.mirrorPad(y, [[0, 0], [0, h], [0, w], [0, 0]], 'symmetric');
    padH -= h;
    padW -= w;
  }
  return y;
}

/** A runner on a predictor in this thread. */
export function localRunner(model: Predictor): TileRunner {
  return async ({ x: input, height: th, width: tw, channels, padH, padW, maxValue }) => {
    const result = tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(input, [1, th, tw, channels ?? 3]);
      if (padH || padW) x = mirrorPadBottomRight(x, padH, padW);
      let y = model.predict(x) as tf.Tensor4D;
      const s = y.shape[1] / x.shape[1];
      if (padH || padW) y = y.slice([0, 0, 0, 0], [1, th * s, tw * s, y.shape[3]]);
      return y.clipByValue(0, 1).mul(maxValue).round();
    });
    // Asynchronous read: a GPU backend cannot hand its buffers back synchronously (WebGPU's readSync goes through canvases).
    try {
      return (await result.data()) as Float32Array;
    } finally {
      result.dispose();
    }
  };
}

export interface TileOptions {
  scale: number;
  /** Tile side in input pixels (without context). */
  tile: number;
  /** Context on each side in input pixels. */
  overlap: number;
  /** Input sides the model needs to be a multiple of (padded by mirroring, then cropped). */
  multiple?: number;
  /** Replicated border around the whole image, in input pixels (see ArchSpec.edgePad). */
  edgePad?: number;
  onProgress?: (done: number, total: number) => void;
  /** Polled between tiles. */
  isCancelled?: () => boolean;
  /** Channels of the source and of the model's output (default 3 and 3; the damage nets take 4 or give 1). */
  channelsIn?: number;
  channelsOut?: number;
}

export interface TileRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function planTiles(width: number, height: number, tile: number): TileRect[] {
  const rects: TileRect[] = [];
  for (let y = 0; y < height; y += tile) {
    for (let x = 0; x < width; x += tile) {
      rects.push({ x, y, w: Math.min(tile, width - x), h: Math.min(tile, height - y) });
    }
  }
  return rects;
}

/**
 * Upscales interleaved RGB `src` (0..maxValue) with `model` into a new buffer of
 * the same sample type. Yields to the event loop between tiles so messages
 * (cancel) can arrive.
 */
export async function upscaleTiled(
  model: Predictor | TileRunner,
  src: Pixels,
  width: number,
  height: number,
  maxValue: number,
  o: TileOptions,
): Promise<Pixels> {
  const s = o.scale;
  const outW = width * s;
  const outH = height * s;
  const ci = o.channelsIn ?? 3;
  const co = o.channelsOut ?? 3;
  const out: Pixels = maxValue > 255 ? new Uint16Array(outW * outH * co) : new Uint8Array(outW * outH * co);
  const m = o.multiple ?? 1;
  // Tiles and their context start on the model's grid, so a net that pixel-unshuffles sees every tile as it sees the whole image.
  const align = (v: number) => Math.ceil(v / m) * m;
  const overlap = align(o.overlap);
  const edge = align(o.edgePad ?? 0);
  const rects = planTiles(width, height, align(o.tile));
  const inv = 1 / maxValue;
  const run = typeof model === 'function' ? model : localRunner(model);
  let done = 0;
  for (const r of rects) {
    if (o.isCancelled?.()) throw new RestoraError('CANCELLED', 'Upscale cancelled.');
    // The context may reach `edge` pixels past the image: those repeat the border pixels.
    const x0 = Math.max(-Math.min(edge, overlap), r.x - overlap);
    const y0 = Math.max(-Math.min(edge, overlap), r.y - overlap);
    const x1 = Math.min(width + Math.min(edge, overlap), r.x + r.w + overlap);
    const y1 = Math.min(height + Math.min(edge, overlap), r.y + r.h + overlap);
    const tw = x1 - x0;
    const th = y1 - y0;
    const input = new Float32Array(tw * th * ci);
    for (let y = 0; y < th; y++) {
      const sy = edgeIndex(y0 + y, height);
      const d = y * tw * ci;
      if (x0 >= 0 && x1 <= width) {
        const so = (sy * width + x0) * ci;
        for (let i = 0; i < tw * ci; i++) input[d + i] = src[so + i]! * inv;
        continue;
      }
      for (let x = 0; x < tw; x++) {
        const so = (sy * width + edgeIndex(x0 + x, width)) * ci;
        for (let c = 0; c < ci; c++) input[d + ci * x + c] = src[so + c]! * inv;
      }
    }
    const padH = (m - (th % m)) % m;
    const padW = (m - (tw % m)) % m;
    const data = await run({ x: input, height: th, width: tw, ...(ci !== 3 ? { channels: ci } : {}), padH, padW, maxValue });
    const rowLen = tw * s * co;
    const cx = (r.x - x0) * s;
    const cy = (r.y - y0) * s;
    for (let y = 0; y < r.h * s; y++) {
      const so = (cy + y) * rowLen + cx * co;
      const d = ((r.y * s + y) * outW + r.x * s) * co;
      const n = r.w * s * co;
      for (let i = 0; i < n; i++) out[d + i] = data[so + i]!;
    }
    done++;
    o.onProgress?.(done, rects.length);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}

/** Index i mirrored into 0..n-1 without repeating the edge pixel (reflect padding, as Real-ESRGAN's engine pads). */
function edgeIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}
