/**
 * The README's "restored scan" picture: a photo aged and damaged with Restora's own
 * synthetic defects (no real damaged print is redistributable here), then restored
 * twice through the app's own pipeline (what `restora restore` runs): with the repair
 * step off, and with detect -> inpaint first. Writes the damaged photo, the two results
 * and a side-by-side crop (damaged | restore alone | repair + restore).
 *   npx tsx scripts/restore-before-after.ts --photo resources/samples/coffee.png --seed 3 \
 *     --crop 120,40,260,180 --out docs/screenshots/restore-scratches.jpg
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createApp } from '../src/main/app/createApp.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { degradeDamaged } from '../src/main/degrade/presets.js';
import { Rng } from '../src/main/ml/core/rng.js';

const { values } = parseArgs({ options: { photo: { type: 'string' }, seed: { type: 'string', default: '3' }, crop: { type: 'string' }, out: { type: 'string' } } });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-before-after-'));
const img = await decodeRgbFloat(values.photo!);
const d = await degradeDamaged(img, 1, new Rng(Number(values.seed)));
const damaged = path.join(work, 'damaged.png');
await sharp(Buffer.from(Uint8Array.from(d.img.data, (v) => Math.round(v))), { raw: { width: d.img.width, height: d.img.height, channels: 3 } })
  .png()
  .toFile(damaged);
const app = createApp({ home: path.join(work, 'home') });
const run = async (repair: 'auto' | 'off', out: string) => {
  const [r] = await app.upscale.run([damaged], path.join(work, out), { modelId: 'restora-oldphoto-x2', repair });
  if (!r?.ok) throw new Error(r?.error?.message);
  console.log(`${out}: ${r.output}${r.repairedPixels !== undefined ? `, ${r.repairedPixels} pixels repaired (${d.mask.reduce((a, b) => a + b, 0)} damaged)` : ''}`);
  return r.output!;
};
const plain = await run('off', 'plain');
const repaired = await run('auto', 'repaired');
await app.close();
const [x, y, w, h] = values.crop!.split(',').map(Number) as [number, number, number, number];
const panel = (file: string, factor: number) =>
  sharp(file)
    .extract({ left: x * factor, top: y * factor, width: w * factor, height: h * factor })
    .resize(w * 2, h * 2, { kernel: 'nearest' })
    .png()
    .toBuffer();
const tiles = [await panel(damaged, 1), await panel(plain, 2), await panel(repaired, 2)];
const gap = 8;
await sharp({ create: { width: 3 * w * 2 + 2 * gap, height: h * 2, channels: 3, background: '#ffffff' } })
  .composite(tiles.map((input, i) => ({ input, left: i * (w * 2 + gap), top: 0 })))
  .jpeg({ quality: 88 })
  .toFile(values.out!);
console.log(`wrote ${values.out} (damaged input, nearest x2 | restora-oldphoto-x2 alone | detect -> inpaint -> restora-oldphoto-x2)`);
