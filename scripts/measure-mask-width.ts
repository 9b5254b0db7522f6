/**
 * How wide a marked area the bundled inpainter fills well: a band of W px across the middle
 * of each Set14 photo (192 px centre crops, the first 10 by name) is painted grey, marked and
 * inpainted; Y-PSNR inside the band against the original, beside a plain linear fill across
 * the band (which knows the band's direction, so it is a generous reference). Compare's
 * "too wide" warning and its default brush follow from it (WIDEST_REPAIR in CompareView.vue).
 *   npx tsx scripts/measure-mask-width.ts [--data ../shared/data]
 */
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop } from '../src/main/imaging/imresize.js';
import { inpaintDamage } from '../src/main/ml/infer/damage.js';
import { loadLayersModel, readCard } from '../src/main/ml/store/modelStore.js';
const { values } = parseArgs({ options: { data: { type: 'string', default: '../shared/data' } } });
await initBackend({ prefer: 'wasm', threads: 2 });
const dir = 'resources/models/restora-inpaint';
const net = { model: await loadLayersModel(dir), card: readCard(dir) };
const Y = (r: number, g: number, b: number) => 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
const files = fs
  .readdirSync(path.join(values.data!, 'set14'))
  .filter((f) => f.endsWith('.png'))
  .sort()
  .slice(0, 10);
const S = 192;
for (const w of [2, 4, 8, 12, 16, 24, 32]) {
  let seN = 0;
  let seL = 0;
  let n = 0;
  for (const f of files) {
    let img = await decodeRgbFloat(path.join(path.join(values.data!, 'set14'), f));
    img = crop(img, Math.floor((img.width - S) / 2), Math.floor((img.height - S) / 2), S, S);
    const px = Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
    const mask = new Uint8Array(S * S);
    const y0 = Math.floor(S / 2 - w / 2);
    for (let y = y0; y < y0 + w; y++) for (let x = 16; x < S - 16; x++) mask[y * S + x] = 1;
    const dam = Uint8Array.from(px);
    for (let i = 0; i < mask.length; i++) if (mask[i]) dam.set([200, 200, 200], 3 * i);
    const out = await inpaintDamage(net, dam, S, S, 255, mask, 256);
    for (let y = y0; y < y0 + w; y++)
      for (let x = 16; x < S - 16; x++) {
        const i = y * S + x;
        const t = (y - y0 + 1) / (w + 1);
        const a = (y0 - 1) * S + x;
        const b = (y0 + w) * S + x;
        const lin = [0, 1, 2].map((c) => (1 - t) * px[3 * a + c]! + t * px[3 * b + c]!);
        const yh = Y(px[3 * i]!, px[3 * i + 1]!, px[3 * i + 2]!);
        seN += (Y(out[3 * i]!, out[3 * i + 1]!, out[3 * i + 2]!) - yh) ** 2;
        seL += (Y(lin[0]!, lin[1]!, lin[2]!) - yh) ** 2;
        n++;
      }
  }
  const p = (se: number) => (10 * Math.log10((255 * 255) / (se / n))).toFixed(2);
  console.log(`width ${w}: net ${p(seN)} dB, linear across ${p(seL)} dB`);
}
