/** Child process of bench/run.ts: upscales a generated 6000x4000 JPEG x2, reports time and peak RSS. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../src/main/ml/backend.js';
import { loadLayersModel, readCard } from '../src/main/ml/store/modelStore.js';
import { tilingFor } from '../src/main/ml/archs/index.js';
import { upscaleFile } from '../src/main/ml/infer/upscaleFile.js';
import { bundledModelsDir } from '../src/main/paths.js';

await initBackend();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-big-'));
const input = path.join(dir, 'big.jpg');
const W = 6000;
const H = 4000;
await sharp({ create: { width: W, height: H, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
  .blur(1.5)
  // EXIF makes the encoder take its metadata-carrying path, the heavier one.
  .withExif({ IFD0: { Make: 'RestoraBench' } })
  .jpeg({ quality: 90 })
  .toFile(input);
const modelDir = path.join(bundledModelsDir(), 'restora-x2');
const model = await loadLayersModel(modelDir);
const t0 = performance.now();
const r = await upscaleFile(model, { input, output: path.join(dir, 'big-x2.jpg'), scale: 2, format: 'jpg', quality: 90, tile: 384, ...tilingFor(readCard(modelDir)) });
const sec = (performance.now() - t0) / 1000;
const out = { input: [W, H], output: [r.outWidth, r.outHeight], seconds: +sec.toFixed(1), outputMPperSec: +((r.outWidth * r.outHeight) / 1e6 / sec).toFixed(3), peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) };
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(out));
