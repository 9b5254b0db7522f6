/**
 * Before/after strips of REAL photos (no synthetic degradation) for the model pages:
 * the input crop enlarged with nearest neighbour, then each model's output, side by side,
 * labelled. Photos must be ones the project may show (e.g. test/fixtures/real-photos, the
 * Debian sample photos), never ../shared/data/real-photos.
 *   npx tsx scripts/real-crops.ts --photo FILE --crop x,y,w,h --models ID[,ID...] --out FILE.jpg [--models-dir DIR]
 * Model ids are looked up in resources/models, then in --models-dir (e.g. $RESTORA_HOME/models
 * for imported teachers).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop } from '../src/main/imaging/imresize.js';
import { loadLayersModel, readCard } from '../src/main/ml/store/modelStore.js';
import { predictImage } from '../src/main/ml/infer/predict.js';
import { bundledModelsDir } from '../src/main/paths.js';

const { values } = parseArgs({ options: { photo: { type: 'string' }, crop: { type: 'string' }, models: { type: 'string' }, out: { type: 'string' }, 'models-dir': { type: 'string' }, threads: { type: 'string', default: '2' } } });
await initBackend({ prefer: 'wasm', threads: Number(values.threads) });
const [x, y, w, h] = values.crop!.split(',').map(Number) as [number, number, number, number];
const input = crop(await decodeRgbFloat(values.photo!), x, y, w, h);
const dirOf = (id: string) => [path.join(bundledModelsDir(), id), ...(values['models-dir'] ? [path.join(values['models-dir'], id)] : [])].find((d) => fs.existsSync(path.join(d, 'model.json')));
const panels: { label: string; png: Buffer; w: number; h: number }[] = [];
const toPng = (data: Float32Array, pw: number, ph: number) =>
  sharp(Buffer.from(Uint8Array.from(data, (v) => Math.max(0, Math.min(255, Math.round(v))))), { raw: { width: pw, height: ph, channels: 3 } })
    .png()
    .toBuffer();
let scale = 1;
const outputs: { id: string; data: Float32Array; w: number; h: number }[] = [];
for (const id of values.models!.split(',')) {
  const dir = dirOf(id);
  if (!dir) throw new Error(`model ${id} not found`);
  const model = await loadLayersModel(dir);
  scale = readCard(dir).scale;
  const t0 = Date.now();
  const out = predictImage(model, input);
  console.log(`${id}: ${((Date.now() - t0) / 1000).toFixed(2)} s`);
  outputs.push({ id, data: out.data, w: out.width, h: out.height });
  model.dispose();
}
const W = w * scale;
const H = h * scale;
const near = await sharp(await toPng(input.data, w, h))
  .resize(W, H, { kernel: 'nearest' })
  .png()
  .toBuffer();
panels.push({ label: 'input (nearest)', png: near, w: W, h: H });
for (const o of outputs) panels.push({ label: o.id, png: await toPng(o.data, o.w, o.h), w: o.w, h: o.h });
const labelH = 22;
const svg = (text: string) => Buffer.from(`<svg width="${W}" height="${labelH}"><rect width="100%" height="100%" fill="#111"/><text x="6" y="16" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#eee">${text}</text></svg>`);
const composites = panels.flatMap((p, i) => [
  { input: p.png, left: i * W, top: labelH },
  { input: svg(p.label), left: i * W, top: 0 },
]);
await sharp({ create: { width: W * panels.length, height: H + labelH, channels: 3, background: '#111' } })
  .composite(composites)
  .toFormat(values.out!.endsWith('.png') ? 'png' : 'jpeg', { quality: 88 })
  .toFile(values.out!);
console.log(`wrote ${values.out}`);
