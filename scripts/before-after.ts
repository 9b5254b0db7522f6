/**
 * A model card's before/after picture: a real photo crop degraded with a preset
 * (seeded), then bicubic of the degraded input | the model (as `restora upscale`
 * runs it, colours kept for restoration models) | the original, side by side, with
 * each panel's Y-PSNR / SSIM against the original printed.
 *   npx tsx scripts/before-after.ts restora-realworld-x2 --preset realistic --seed 1 \
 *     --photo resources/samples/coffee.png --crop 180,60,240,160 --out resources/models/restora-realworld-x2/before-after.png
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, type FloatImage } from '../src/main/imaging/imresize.js';
import { degrade, type PresetId } from '../src/main/degrade/presets.js';
import { Rng } from '../src/main/ml/core/rng.js';
import { loadLayersModel, readCard } from '../src/main/ml/store/modelStore.js';
import { predictImage } from '../src/main/ml/infer/predict.js';
import { bicubicOf } from '../src/main/ml/eval/evaluate.js';
import { measure } from '../src/main/ml/eval/metrics.js';
import { keepInputColours } from '../src/main/imaging/keepColours.js';
import { bundledModelsDir } from '../src/main/paths.js';

const { values, positionals } = parseArgs({
  options: { preset: { type: 'string', default: 'realistic' }, seed: { type: 'string', default: '1' }, photo: { type: 'string' }, crop: { type: 'string' }, out: { type: 'string' } },
  allowPositionals: true,
});
const id = positionals[0]!;
await initBackend({ prefer: 'wasm' });
const dir = path.join(bundledModelsDir(), id);
const card = readCard(dir);
const s = card.scale;
const [x, y, w, h] = values.crop!.split(',').map(Number) as [number, number, number, number];
const hr = crop(await decodeRgbFloat(values.photo!), x, y, w - (w % s), h - (h % s));
const lr = await degrade(hr, s, values.preset as PresetId, new Rng(Number(values.seed)));
const bic = bicubicOf(lr, s);
const model = await loadLayersModel(dir);
const out = predictImage(model, lr);
if (card.task === 'restore') {
  const u8 = (img: FloatImage) => Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
  const o = u8(out);
  keepInputColours(u8(lr), lr.width, lr.height, o, s, 255);
  out.data.set(o);
}
const report = (name: string, img: FloatImage) => {
  const q = measure(img, hr, s);
  console.log(`${name.padEnd(28)} ${q.psnr.toFixed(2)} dB / ${q.ssim.toFixed(4)}`);
};
report(`bicubic of ${values.preset} input`, bic);
report(id, out);
const panels = [bic, out, hr];
const W = hr.width;
const strip = Buffer.alloc(W * 3 * hr.height * 3);
for (const [p, img] of panels.entries()) for (let r = 0; r < hr.height; r++) for (let c = 0; c < W * 3; c++) strip[(r * W * 3 + p * W) * 3 + c] = Math.max(0, Math.min(255, Math.round(img.data[r * W * 3 + c]!)));
await sharp(strip, { raw: { width: W * 3, height: hr.height, channels: 3 } })
  .png()
  .toFile(values.out!);
console.log(`wrote ${values.out}: bicubic of the ${values.preset} input (seed ${values.seed}) | ${id} | original`);
