/**
 * Child process of bench/run.ts: Upscayl's realesrgan-x4fast and x4plus imported into
 * Restora (wasm) against upscayl-bin (ncnn-vulkan on this CPU through lavapipe) on
 * the same real-photo crop, in one run. upscayl-bin's time is its whole run minus its
 * fixed start-up (a 16x16 image), so both sides count inference only.
 *   --big  also a 3000x2000 photo x4 through upscaleFile: x4fast whole (peak RSS with the
 *          12000x8000 PNG encode), x4plus cancelled after 4 tiles (peak RSS, ETA)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../src/main/ml/backend.js';
import { tilingFor } from '../src/main/ml/archs/index.js';
import { upscaleTiled } from '../src/main/ml/infer/tiling.js';
import { upscaleFile } from '../src/main/ml/infer/upscaleFile.js';
import { readNcnnModel } from '../src/main/ml/import/ncnn.js';
import { buildImportedModel } from '../src/main/ml/import/buildModel.js';
import { packageRoot } from '../src/main/paths.js';
import { runUpscayl, upscaylMissing, UPSCAYL_MODELS } from '../test/peers/upscayl.js';

const backend = await initBackend({ prefer: 'wasm' });
const missing = upscaylMissing();
if (missing) {
  console.log(JSON.stringify({ skipped: missing }));
  process.exit(0);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-bench-import-'));
const root = packageRoot();
const wallpaper = path.join(root, 'data', 'debs', 'x', 'usr', 'share', 'wallpapers', 'Path', 'contents', 'images', '2560x1600.jpg');
const source = fs.existsSync(wallpaper) ? wallpaper : path.join(root, 'resources', 'samples', 'coffee.png');
const [W, H] = [160, 120];
const input = path.join(dir, 'crop.png');
await sharp(source).extract({ left: 320, top: 200, width: W, height: H }).removeAlpha().png().toFile(input);
const tiny = path.join(dir, 'tiny.png');
await sharp(input).extract({ left: 0, top: 0, width: 16, height: 16 }).png().toFile(tiny);
const rgb = new Uint8Array(await sharp(input).raw().toBuffer());

const rows: Record<string, unknown>[] = [];
for (const name of ['realesrgan-x4fast', 'realesrgan-x4plus'] as const) {
  const detected = readNcnnModel(path.join(UPSCAYL_MODELS, `${name}.param`), path.join(UPSCAYL_MODELS, `${name}.bin`));
  const model = buildImportedModel(detected, name);
  const tiling = tilingFor({ arch: detected.arch, scale: 4, archOptions: detected.archOptions });
  await upscaleTiled(model, rgb.subarray(0, 16 * 16 * 3), 16, 16, 255, { scale: 4, tile: 16, ...tiling }); // warm-up
  const t0 = performance.now();
  await upscaleTiled(model, rgb, W, H, 255, { scale: 4, tile: 384, ...tiling });
  const oursSec = (performance.now() - t0) / 1000;
  model.dispose();
  const startup = runUpscayl(tiny, path.join(dir, 'tiny-out.png'), name);
  const whole = runUpscayl(input, path.join(dir, `${name}-upscayl.png`), name);
  const theirsSec = Math.max(0.001, (whole - startup) / 1000);
  const mp = (W * 4 * H * 4) / 1e6;
  rows.push({
    model: name,
    params: detected.arch === 'rrdbnet' ? '16.7M (RRDBNet 23 blocks)' : '1.2M (SRVGGNetCompact 32 convs)',
    restora: { backend: `${backend.id} x${backend.threads}`, seconds: +oursSec.toFixed(2), outputMPperSec: +(mp / oursSec).toFixed(4) },
    upscayl: { engine: 'upscayl-bin (ncnn-vulkan, lavapipe)', seconds: +theirsSec.toFixed(2), startupSeconds: +(startup / 1000).toFixed(2), outputMPperSec: +(mp / theirsSec).toFixed(4) },
    speedRatio: +(theirsSec / oursSec).toFixed(2),
  });
}
const report: Record<string, unknown> = { photo: `${path.basename(source)} crop ${W}x${H} -> ${W * 4}x${H * 4}`, rows, note: 'speedRatio = upscayl-bin time / Restora time (above 1: Restora faster)' };

if (process.argv.includes('--big')) {
  // A 3000x2000 photo x4 through upscaleFile, the CLI's own path (decode, tiles, encode):
  // x4fast on the whole photo (peak RSS of the full pipeline, 12000x8000 PNG), then x4plus,
  // whose convs run at output size, cancelled after 4 tiles (the whole photo takes ~an hour here).
  const big = path.join(dir, 'big.jpg');
  await sharp(source).resize(3000, 2000, { fit: 'cover' }).jpeg({ quality: 90 }).toFile(big);
  const runBig = async (name: 'realesrgan-x4fast' | 'realesrgan-x4plus', stopAfter: number) => {
    const detected = readNcnnModel(path.join(UPSCAYL_MODELS, `${name}.param`), path.join(UPSCAYL_MODELS, `${name}.bin`));
    const model = buildImportedModel(detected, name);
    const tiling = tilingFor({ arch: detected.arch, scale: 4, archOptions: detected.archOptions });
    const tile = Math.min(384, tiling.maxTile);
    let done = 0;
    let total = 0;
    let stoppedBy = 'finished';
    const t0 = performance.now();
    try {
      await upscaleFile(
        model,
        { input: big, output: path.join(dir, `big-${name}.png`), scale: 4, format: 'png', tile, ...tiling },
        {
          onProgress: (d, t) => ((done = d), (total = t)),
          isCancelled: () => done >= stopAfter,
        },
      );
    } catch (err) {
      stoppedBy = (err as Error).message;
    }
    const sec = (performance.now() - t0) / 1000;
    model.dispose();
    return {
      tile,
      tilesDone: done,
      tilesTotal: total,
      seconds: +sec.toFixed(1),
      etaWholePhotoMinutes: +(((sec / Math.max(1, done)) * total) / 60).toFixed(1),
      stoppedBy,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  };
  report.big3000x2000 = { 'realesrgan-x4fast': await runBig('realesrgan-x4fast', Infinity), 'realesrgan-x4plus': await runBig('realesrgan-x4plus', 4) };
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(report));
