/**
 * Two inpainters side by side on the same synthetic damage (the current defects: scratches,
 * creases, dust, torn corners, crack networks with halos, foxing), with the TRUE masks, so only
 * the filling is compared: Y-PSNR inside the masks against the undamaged photo. (Grayscale
 * prints staying neutral is tested in test/unit/damageMask.test.ts: aging tints these.)
 *   npx tsx scripts/compare-inpainters.ts --a DIR --b DIR [--data ../shared/data] [--seed 1]
 * Photos: the held-out training photos (data/photos/val, 384 px crops) and Set14 (evaluation only).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, type FloatImage } from '../src/main/imaging/imresize.js';
import { damagedPairs } from '../src/main/ml/train/damageData.js';
import { inpaintDamage } from '../src/main/ml/infer/damage.js';
import { loadLayersModel, readCard } from '../src/main/ml/store/modelStore.js';

const { values } = parseArgs({ options: { a: { type: 'string' }, b: { type: 'string' }, data: { type: 'string', default: '../shared/data' }, seed: { type: 'string', default: '1' }, threads: { type: 'string', default: '2' } } });
await initBackend({ prefer: 'wasm', threads: Number(values.threads) });
const load = async (dir: string) => ({ model: await loadLayersModel(dir), card: readCard(dir) });
const nets = { a: await load(values.a!), b: await load(values.b!) };

async function photos(dir: string, side: number): Promise<{ name: string; img: FloatImage }[]> {
  const out: { name: string; img: FloatImage }[] = [];
  for (const f of fs
    .readdirSync(dir)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort()) {
    let img = await decodeRgbFloat(path.join(dir, f));
    const s = Math.min(side, img.width, img.height);
    img = crop(img, Math.floor((img.width - s) / 2), Math.floor((img.height - s) / 2), s, s);
    out.push({ name: f, img });
  }
  return out;
}
const sets = {
  'heldout-val': await photos('data/photos/val', 384),
  set14: await photos(path.join(values.data!, 'set14'), 384),
};
const toPixels = (img: FloatImage) => Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
const Y = (r: number, g: number, b: number) => 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
const report: Record<string, Record<string, number>> = {};
for (const [setName, set] of Object.entries(sets)) {
  const pairs = await damagedPairs(set, Number(values.seed));
  for (const [k, net] of Object.entries(nets)) {
    let se = 0;
    let n = 0;
    for (const p of pairs) {
      const out = await inpaintDamage(net, toPixels(p.lr), p.lr.width, p.lr.height, 255, p.mask!, 384);
      for (let i = 0; i < p.mask!.length; i++) {
        if (!p.mask![i]) continue;
        const d = Y(out[3 * i]!, out[3 * i + 1]!, out[3 * i + 2]!) - Y(p.hr.data[3 * i]!, p.hr.data[3 * i + 1]!, p.hr.data[3 * i + 2]!);
        se += d * d;
        n++;
      }
    }
    report[`${setName} ${k}`] = { psnrInsideY: Math.round(1000 * 10 * Math.log10((255 * 255) / (se / n))) / 1000, maskedPixels: n };
  }
}
console.log(`a = ${values.a}\nb = ${values.b}`);
console.table(report);
