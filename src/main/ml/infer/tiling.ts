/**
 * Tiled inference: the image is cut into tiles, each run with `overlap` pixels of
 * context on every side (clipped at the image edge). Neighbouring tiles' outputs are
 * cross-faded over a band of `blend` pixels each side of their shared edge, with
 * weights that sum to one, so a model whose output depends on the tile's content (a GAN,
 * a net with global statistics) leaves no seam; each tile gets `blend` more context so
 * the band is computed with the full overlap. When the overlap covers the model's
 * receptive field the result equals the whole-image result; memory stays bounded by the
 * tile size whatever the photo's size (the fades are done in place in the output).
 */
import * as tf from '@tensorflow/tfjs';
import type { Pixels } from '../../imaging/io.js';
import { RestoraError } from '../../../shared/errors.js';
import type { TileChange } from '../../../shared/api.js';
import type { PadMode } from '../archs/registry.js';
import { mirrorPadBottomRight } from '../archs/layers.js';
import { globalStats, isConditioned, runModel } from '../core/conditioning.js';

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
  /** How the pad is mirrored (default 'symmetric', see ArchSpec.padMode). */
  padMode?: PadMode;
  maxValue: number;
}

/** Runs one tile somewhere (this thread, or a compute engine on the GPU); resolves to [height*s, width*s, 3]. */
export type TileRunner = (tile: TileRequest) => Promise<Float32Array>;

/**
 * The tile side to run at: the one asked for, no bigger than the model allows on this backend
 * (maxTile) and a whole number of the model's grid (attention windows, pixel unshuffle),
 * rounded down; says why when it differs.
 */
export function fitTile(asked: number, model: { maxTile: number; multiple: number }): { tile: number; change?: TileChange } {
  const m = model.multiple;
  if (asked > model.maxTile) return { tile: model.maxTile, change: { asked, used: model.maxTile, reason: 'model-memory' } };
  const tile = Math.max(m, Math.floor(asked / m) * m);
  return tile === asked ? { tile } : { tile, change: { asked, used: tile, reason: 'grid', multiple: m } };
}

export { mirrorPadBottomRight };

/** A runner on a predictor in this thread. */
export function localRunner(model: Predictor): TileRunner {
  return async ({ x: input, height: th, width: tw, channels, padH, padW, padMode, maxValue }) => {
    const result = tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(input, [1, th, tw, channels ?? 3]);
      if (padH || padW) x = mirrorPadBottomRight(x, padH, padW, padMode === 'inside' ? 'symmetric' : padMode);
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
  /** Cross-fade band each side of a tile edge, input pixels (default: half the overlap, at most 16; none without overlap). */
  blend?: number;
  /** Input sides the model needs to be a multiple of (padded by mirroring, then cropped). */
  multiple?: number;
  /** How that padding mirrors (default 'symmetric'). */
  padMode?: PadMode;
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
export async function upscaleTiled(model: Predictor | TileRunner, src: Pixels, width: number, height: number, maxValue: number, o: TileOptions): Promise<Pixels> {
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
  const tileSide = align(o.tile);
  const rects = planTiles(width, height, tileSide);
  // The fade band: within the tile (at most half of it), on the model's grid, none without context.
  const b = Math.min(align(o.blend ?? (o.overlap > 0 ? Math.min(16, Math.ceil(o.overlap / 2)) : 0)), Math.floor(tileSide / 2 / m) * m);
  const ctx = overlap + b;
  const inv = 1 / maxValue;
  const run = typeof model === 'function' ? model : localRunner(model);
  let done = 0;
  for (const r of rects) {
    if (o.isCancelled?.()) throw new RestoraError('CANCELLED', 'Upscale cancelled.');
    // The context may reach `edge` pixels past the image: those repeat the border pixels.
    const x0 = Math.max(-Math.min(edge, ctx), r.x - ctx);
    const y0 = Math.max(-Math.min(edge, ctx), r.y - ctx);
    const x1 = Math.min(width + Math.min(edge, ctx), r.x + r.w + ctx);
    const y1 = Math.min(height + Math.min(edge, ctx), r.y + r.h + ctx);
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
    // A model that pads inside (as its reference does) gets the tile as it is.
    const padH = o.padMode === 'inside' ? 0 : (m - (th % m)) % m;
    const padW = o.padMode === 'inside' ? 0 : (m - (tw % m)) % m;
    const data = await run({ x: input, height: th, width: tw, ...(ci !== 3 ? { channels: ci } : {}), padH, padW, ...(o.padMode && o.padMode !== 'symmetric' ? { padMode: o.padMode } : {}), maxValue });
    blendTile(out, data, r, { x0, y0, tw }, { width, height, scale: s, channels: co, band: b });
    done++;
    o.onProgress?.(done, rects.length);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}

/** Weight of a tile at output coordinate `p` along one axis: a linear fade over [edge - band, edge + band) on each side that has a neighbour. */
function axisWeight(p: number, start: number, end: number, size: number, band: number): { w: number; entering: boolean } {
  if (band > 0 && start > 0 && p < start + band) return { w: (p - (start - band) + 0.5) / (2 * band), entering: true };
  if (band > 0 && end < size && p >= end - band) return { w: 1 - (p - (end - band) + 0.5) / (2 * band), entering: false };
  return { w: 1, entering: false };
}

/**
 * Writes a tile's output into `out`, cross-fading the bands it shares with tiles already
 * written. Tiles come in row-major order, so at a pixel the tiles before this one carry
 * (1 - wy) of the weight from the row above (in this tile's top band) plus, in this row,
 * wy * (1 - wx) from the left neighbour (in its left band): compositing this tile with
 * alpha = wx*wy / (that + wx*wy) gives each tile exactly its weight wx*wy, without a
 * float buffer the size of the photo.
 */
function blendTile(out: Pixels, data: Float32Array, r: TileRect, at: { x0: number; y0: number; tw: number }, g: { width: number; height: number; scale: number; channels: number; band: number }): void {
  const { scale: s, channels: co } = g;
  const band = g.band * s;
  const outW = g.width * s;
  const [sx, ex, sy, ey] = [r.x * s, (r.x + r.w) * s, r.y * s, (r.y + r.h) * s];
  const keepX0 = r.x > 0 ? sx - band : 0;
  const keepX1 = r.x + r.w < g.width ? ex + band : outW;
  const keepY0 = r.y > 0 ? sy - band : 0;
  const keepY1 = r.y + r.h < g.height ? ey + band : g.height * s;
  const rowLen = at.tw * s * co;
  // Column weights once per tile (a big photo has billions of pixel visits).
  const wxs = new Float32Array(keepX1 - keepX0);
  const enteringX = new Uint8Array(keepX1 - keepX0);
  for (let x = keepX0; x < keepX1; x++) {
    const a = axisWeight(x, sx, ex, outW, band);
    wxs[x - keepX0] = a.w;
    enteringX[x - keepX0] = a.entering ? 1 : 0;
  }
  for (let y = keepY0; y < keepY1; y++) {
    const wy = axisWeight(y, sy, ey, g.height * s, band);
    const above = wy.entering ? 1 - wy.w : 0;
    const so = (y - at.y0 * s) * rowLen + (keepX0 - at.x0 * s) * co;
    const d = (y * outW + keepX0) * co;
    for (let i = 0; i < keepX1 - keepX0; i++) {
      const wx = wxs[i]!;
      const alpha = (wx * wy.w) / (above + wy.w * (enteringX[i] ? 1 : wx));
      const si = so + i * co;
      const di = d + i * co;
      if (alpha >= 1) {
        for (let c = 0; c < co; c++) out[di + c] = data[si + c]!;
      } else {
        for (let c = 0; c < co; c++) out[di + c] = Math.round(out[di + c]! * (1 - alpha) + data[si + c]! * alpha);
      }
    }
  }
}

/** Index i mirrored into 0..n-1 without repeating the edge pixel (reflect padding, as Real-ESRGAN's engine pads). */
function edgeIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** A tile predictor: the same whole-image statistics for every tile of the image. */
export function predictorFor(model: tf.LayersModel, rgb: ArrayLike<number>, width: number, height: number, maxValue: number): Predictor {
  if (!isConditioned(model)) return model;
  const stats = globalStats(rgb, width, height, maxValue);
  return { predict: (x) => runModel(model, x, stats) };
}
