/**
 * Child process of bench/run.ts: SPAN x4 at its released size (48 features, input
 * normalisation; random weights: the timing depends on the graph, not the values) against
 * the bundled restora-x4 (compact x4), both on wasm through upscaleTiled with their own
 * tiling (overlap, edge padding) on the same 160x120 real-photo crop. Each side: one
 * warm-up, then the median of three timed runs. Prints one JSON line.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/ml/backend.js';
import { buildArch, tilingFor } from '../src/main/ml/archs/index.js';
import { upscaleTiled } from '../src/main/ml/infer/tiling.js';
import { loadLayersModel, readCard } from '../src/main/ml/store/modelStore.js';
import { bundledModelsDir, packageRoot } from '../src/main/paths.js';

const backend = await initBackend({ prefer: 'wasm' });
const root = packageRoot();
const wallpaper = path.join(root, 'data', 'debs', 'x', 'usr', 'share', 'wallpapers', 'Path', 'contents', 'images', '2560x1600.jpg');
const source = fs.existsSync(wallpaper) ? wallpaper : path.join(root, 'resources', 'samples', 'coffee.png');
const [W, H] = [160, 120];
const SCALE = 4;
const rgb = new Uint8Array(await sharp(source).extract({ left: 320, top: 200, width: W, height: H }).removeAlpha().raw().toBuffer());

async function timeModel(model: tf.LayersModel, tiling: ReturnType<typeof tilingFor>) {
  const opts = { scale: SCALE, overlap: tiling.overlap, multiple: tiling.multiple, edgePad: tiling.edgePad };
  await upscaleTiled(model, rgb.subarray(0, 16 * 16 * 3), 16, 16, 255, { ...opts, tile: 16 }); // warm-up
  const runs: number[] = [];
  let outLength = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    outLength = (await upscaleTiled(model, rgb, W, H, 255, { ...opts, tile: Math.min(384, tiling.maxTile) })).length;
    runs.push((performance.now() - t0) / 1000);
  }
  const seconds = runs.sort((a, b) => a - b)[1]!;
  const mp = (W * SCALE * H * SCALE) / 1e6;
  return { seconds: +seconds.toFixed(3), MPperSec: +(mp / seconds).toFixed(3), params: model.countParams(), outputPixels: outLength / 3 };
}

const spanOptions = { features: 48, norm: true };
const spanModel = buildArch('span', SCALE, spanOptions);
const span = await timeModel(spanModel, tilingFor({ arch: 'span', scale: SCALE, archOptions: spanOptions }));
spanModel.dispose();

const dir = path.join(bundledModelsDir(), 'restora-x4');
const baseModel = await loadLayersModel(dir);
const baseline = { model: 'restora-x4', ...(await timeModel(baseModel, tilingFor(readCard(dir)))) };
baseModel.dispose();

console.log(
  JSON.stringify({
    photo: `${path.basename(source)} crop ${W}x${H} -> ${W * SCALE}x${H * SCALE}`,
    backend: `${backend.id} x${backend.threads}`,
    span: { model: 'SPAN x4, 48 features (random weights)', ...span },
    baseline,
    ratio: +(span.seconds / baseline.seconds).toFixed(2),
    note: 'ratio = SPAN seconds / restora-x4 seconds (above 1: SPAN slower)',
  }),
);
