/**
 * One imported architecture at its released size (random weights: the timing depends on the
 * graph, not the values) against a bundled model, for the child benches of bench/run.ts
 * (bench/{realplksr,swinir,dat}.ts):
 * - speed: both on wasm through upscaleTiled with their own tiling on the same real-photo
 *   crop (one tile each), one warm-up, then the median of three timed runs;
 * - memory: the arch over a 3000x2000 photo with its tiling at its largest tile, cancelled
 *   after `stopAfter` tiles: peak RSS, and the whole photo's time projected as tiles x seconds
 *   per tile. The first tiles sit at the photo's top edge with context on fewer sides, so an
 *   interior tile takes somewhat longer and the projection is a little low.
 * Prints one JSON line.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/ml/backend.js';
import { buildArch, tilingFor, type ArchOptions, type Tiling } from '../src/main/ml/archs/index.js';
import { planTiles, upscaleTiled } from '../src/main/ml/infer/tiling.js';
import { loadLayersModel, readCard } from '../src/main/ml/store/modelStore.js';
import { bundledModelsDir, packageRoot } from '../src/main/paths.js';
import { RestoraError } from '../src/shared/errors.js';

export interface ArchBench {
  /** The report's key and the arch id. */
  arch: string;
  /** What was built, for the report ("SwinIR-M classical x2 (...)"). */
  label: string;
  scale: number;
  archOptions: ArchOptions;
  /** The bundled model to compare with (restora-x2 or restora-x4, same scale). */
  baseline: string;
  /** The crop's side: big models take seconds per 64 px. */
  crop: number;
  /** Tiles of the 3000x2000 photo to run before cancelling. */
  stopAfter: number;
}

const mb = (kb: number) => Math.round(kb / 1024);

export async function benchArch(b: ArchBench): Promise<void> {
  const backend = await initBackend({ prefer: 'wasm' });
  const root = packageRoot();
  const wallpaper = path.join(root, 'data', 'debs', 'x', 'usr', 'share', 'wallpapers', 'Path', 'contents', 'images', '2560x1600.jpg');
  const source = fs.existsSync(wallpaper) ? wallpaper : path.join(root, 'resources', 'samples', 'coffee.png');
  const at = fs.existsSync(wallpaper) ? { left: 320, top: 200 } : { left: 268, top: 168 };
  const side = b.crop;
  const crop = new Uint8Array(
    await sharp(source)
      .extract({ ...at, width: side, height: side })
      .removeAlpha()
      .raw()
      .toBuffer(),
  );
  const tileOptions = (t: Tiling, tile: number) => ({ scale: b.scale, tile, overlap: t.overlap, multiple: t.multiple, padMode: t.padMode, edgePad: t.edgePad });

  async function timeModel(model: tf.LayersModel, tiling: Tiling) {
    const opts = tileOptions(tiling, Math.min(Math.ceil(side / tiling.multiple) * tiling.multiple, tiling.maxTile));
    await upscaleTiled(model, crop, side, side, 255, opts); // warm-up
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await upscaleTiled(model, crop, side, side, 255, opts);
      runs.push((performance.now() - t0) / 1000);
    }
    const seconds = runs.sort((x, y) => x - y)[1]!;
    return { seconds: +seconds.toFixed(3), MPperSec: +((side * side * b.scale * b.scale) / 1e6 / seconds).toFixed(4), params: model.countParams(), tile: opts.tile };
  }

  const tiling = tilingFor({ arch: b.arch, scale: b.scale, archOptions: b.archOptions });
  const model = buildArch(b.arch, b.scale, b.archOptions);
  const timed = await timeModel(model, tiling);
  const dir = path.join(bundledModelsDir(), b.baseline);
  const baseModel = await loadLayersModel(dir);
  const baseline = { model: b.baseline, ...(await timeModel(baseModel, tilingFor(readCard(dir)))) };
  baseModel.dispose();
  const rssBeforeBig = mb(process.resourceUsage().maxRSS);

  // A 3000x2000 photo: smooth gradients plus texture (the values do not change the work).
  const [BW, BH] = [3000, 2000];
  const big = new Uint8Array(BW * BH * 3);
  let seed = 1;
  for (let i = 0; i < BW * BH; i++) {
    const x = i % BW;
    const y = (i / BW) | 0;
    seed = (seed * 1664525 + 1013904223) >>> 0;
    big[i * 3] = 128 + 100 * Math.sin(x / 37) * Math.cos(y / 23);
    big[i * 3 + 1] = (255 * x) / BW;
    big[i * 3 + 2] = (seed >>> 24) & 0xff;
  }
  const tile = tiling.maxTile;
  let done = 0;
  const t0 = performance.now();
  try {
    await upscaleTiled(model, big, BW, BH, 255, { ...tileOptions(tiling, tile), onProgress: (d) => (done = d), isCancelled: () => done >= b.stopAfter });
  } catch (err) {
    if (!(err instanceof RestoraError) || err.code !== 'CANCELLED') throw err;
  }
  const perTile = (performance.now() - t0) / 1000 / Math.max(1, done);
  model.dispose();
  const tiles = planTiles(BW, BH, tile).length;

  console.log(
    JSON.stringify({
      photo: `${path.basename(source)} crop ${side}x${side} -> ${side * b.scale}x${side * b.scale}`,
      backend: `${backend.id} x${backend.threads}`,
      [b.arch]: { model: b.label, ...timed },
      baseline,
      ratio: +(timed.seconds / baseline.seconds).toFixed(1),
      big: {
        photo: `${BW}x${BH} -> ${BW * b.scale}x${BH * b.scale}`,
        tiling,
        tilesRun: done,
        tilesTotal: tiles,
        secondsPerTile: +perTile.toFixed(1),
        projectedMinutes: +((perTile * tiles) / 60).toFixed(0),
        peakRssMB: mb(process.resourceUsage().maxRSS),
        peakRssBeforeBigMB: rssBeforeBig,
      },
      note: `ratio = ${b.arch} seconds / ${b.baseline} seconds on the crop (above 1: slower); big: cancelled after ${b.stopAfter} tile(s) on the top edge, projected = tiles x seconds per tile (interior tiles take somewhat longer)`,
    }),
  );
}
