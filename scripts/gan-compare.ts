/**
 * GAN stage on the bundled x4 model: fine-tunes resources/models/restora-x4 (pixel
 * loss) with the SRGAN stage of src/main/ml/train/gan.ts on data/photos/train (bicubic
 * pairs), saves the result to runs/gan-x4/model, and compares bicubic, the pixel
 * model and the GAN model on Set5 x4: Y-PSNR / SSIM (../shared/DESIGN.md protocol) and a
 * no-reference sharpness (mean gradient magnitude and variance of the Laplacian of
 * Y, shaved). Writes side-by-side crops (bicubic | pixel | GAN | HR) to
 * runs/gan-x4/crops. Resumes from runs/gan-x4/checkpoint when run again.
 *   npx tsx scripts/gan-compare.ts --steps 300 --batch 4 --patch 24 --threads 1
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, imresize, type FloatImage } from '../src/main/imaging/imresize.js';
import { makeBicubicPair, pairSource, type PairImage } from '../src/main/ml/train/dataset.js';
import { DEFAULT_GAN_CONFIG, GanTrainer, type GanConfig } from '../src/main/ml/train/gan.js';
import { loadLayersModel, readCard, saveLayersModel, writeCard } from '../src/main/ml/store/modelStore.js';
import { measure, shave, toY, type Plane } from '../src/main/ml/eval/metrics.js';
import { predictImage } from '../src/main/ml/infer/predict.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    batch: { type: 'string', default: '4' },
    patch: { type: 'string', default: '24' },
    'disc-patch': { type: 'string', default: '96' },
    'lr-g': { type: 'string', default: '1e-4' },
    'lr-d': { type: 'string', default: '1e-4' },
    'adv-weight': { type: 'string', default: String(DEFAULT_GAN_CONFIG.advWeight) },
    'feature-weight': { type: 'string', default: String(DEFAULT_GAN_CONFIG.featureWeight) },
    bce: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    data: { type: 'string', default: 'data/photos' },
    model: { type: 'string', default: 'resources/models/restora-x4' },
    out: { type: 'string', default: 'runs/gan-x4' },
    set5: { type: 'string', default: path.resolve('../shared/data/set5') },
  },
});
const scale = 4;
const trainDir = path.join(values.data!, 'train');
if (!fs.existsSync(trainDir)) {
  console.error(`${trainDir} is absent: prepare the photos first (scripts/fetch-training-photos.sh); nothing was trained.`);
  process.exit(1);
}
const backend = await initBackend({ prefer: 'wasm', threads: Number(values.threads) });
console.log(`backend ${backend.id} threads ${backend.threads}`);

async function loadDir(dir: string, centre?: number): Promise<{ name: string; img: FloatImage }[]> {
  const out: { name: string; img: FloatImage }[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    let img = await decodeRgbFloat(path.join(dir, f));
    if (centre) {
      const s = Math.min(centre, img.width, img.height);
      img = crop(img, Math.floor((img.width - s) / 2), Math.floor((img.height - s) / 2), s, s);
    }
    out.push({ name: f, img });
  }
  return out;
}

const card = readCard(values.model!);
const config: GanConfig = {
  ...DEFAULT_GAN_CONFIG,
  arch: card.arch,
  archOptions: card.archOptions,
  scale,
  steps: Number(values.steps),
  batch: Number(values.batch),
  patch: Number(values.patch),
  discPatch: Number(values['disc-patch']),
  lrG: Number(values['lr-g']),
  lrD: Number(values['lr-d']),
  advWeight: Number(values['adv-weight']),
  featureWeight: Number(values['feature-weight']),
  relativistic: !values.bce,
  validateEvery: 100,
  checkpointEvery: 25,
};
const train: PairImage[] = (await loadDir(trainDir)).map(({ name, img }) => makeBicubicPair(name, img, scale));
const valDir = path.join(values.data!, 'val');
const val: PairImage[] = fs.existsSync(valDir) ? (await loadDir(valDir, 256)).map(({ name, img }) => makeBicubicPair(name, img, scale)) : [];
console.log(`${train.length} training photos, ${val.length} validation crops; GAN config ${JSON.stringify(config)}`);

const out = values.out!;
const gan = await GanTrainer.open(config, pairSource(train), val, out, values.model!);
console.log(`GAN stage from step ${gan.currentStep}/${config.steps}`);
await gan.run({
  onProgress: (p) => {
    if (!p.point && p.step % 5 === 0) console.log(`step ${p.step} pixel ${p.loss.toFixed(5)} ${p.stepsPerSec.toFixed(3)} steps/s`);
    if (p.point) {
      const v = p.point.valPsnr !== undefined ? ` val ${p.point.valPsnr.toFixed(3)} dB` : '';
      console.log(`step ${p.step} pixel ${p.point.loss.toFixed(5)} G ${p.point.gLoss!.toFixed(4)} D ${p.point.dLoss!.toFixed(4)} ${p.stepsPerSec.toFixed(3)} steps/s${v}`);
    }
  },
});
const modelDir = path.join(out, 'model');
await saveLayersModel(gan.generator, modelDir);
writeCard(modelDir, { ...card, id: 'restora-x4-gan', name: 'Restora x4 GAN (experiment)', steps: config.steps, notes: `GAN stage from ${values.model}: ${JSON.stringify(config)}` });

// ---- Set5 x4 comparison ----
/** Mean gradient magnitude (central differences) and variance of the 4-neighbour Laplacian on Y. */
function sharpness(img: FloatImage): { grad: number; lapVar: number } {
  const p: Plane = shave(toY(img), scale);
  let g = 0;
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let y = 1; y < p.height - 1; y++) {
    for (let x = 1; x < p.width - 1; x++) {
      const i = y * p.width + x;
      const gx = (p.data[i + 1]! - p.data[i - 1]!) / 2;
      const gy = (p.data[i + p.width]! - p.data[i - p.width]!) / 2;
      g += Math.hypot(gx, gy);
      const lap = p.data[i + 1]! + p.data[i - 1]! + p.data[i + p.width]! + p.data[i - p.width]! - 4 * p.data[i]!;
      s += lap;
      s2 += lap * lap;
      n++;
    }
  }
  return { grad: g / n, lapVar: s2 / n - (s / n) ** 2 };
}

const pixel = await loadLayersModel(values.model!);
const methods = ['bicubic', 'pixel', 'gan', 'hr'] as const;
type Row = { psnr: number; ssim: number; grad: number; lapVar: number };
const sums: Record<(typeof methods)[number], Row> = Object.fromEntries(methods.map((m) => [m, { psnr: 0, ssim: 0, grad: 0, lapVar: 0 }])) as Record<(typeof methods)[number], Row>;
const hrDir = values.set5!;
const lrDir = path.join(hrDir, 'LR_bicubic', 'X4');
const IMG = /\.(png|jpe?g|bmp)$/i;
const hrs = fs
  .readdirSync(hrDir)
  .filter((f) => IMG.test(f))
  .sort();
const lrs = fs
  .readdirSync(lrDir)
  .filter((f) => IMG.test(f))
  .sort();
const cropsDir = path.join(out, 'crops');
fs.mkdirSync(cropsDir, { recursive: true });
for (let i = 0; i < hrs.length; i++) {
  const lr = await decodeRgbFloat(path.join(lrDir, lrs[i]!));
  const hr0 = await decodeRgbFloat(path.join(hrDir, hrs[i]!));
  const hr = crop(hr0, 0, 0, lr.width * scale, lr.height * scale);
  const imgs = { bicubic: imresize(lr, scale, { uint8: true }), pixel: predictImage(pixel, lr), gan: predictImage(gan.generator, lr), hr };
  for (const m of methods) {
    const q = m === 'hr' ? { psnr: Number.NaN, ssim: 1 } : measure(imgs[m], hr, scale);
    const s = sharpness(imgs[m]);
    sums[m].psnr += q.psnr / hrs.length;
    sums[m].ssim += q.ssim / hrs.length;
    sums[m].grad += s.grad / hrs.length;
    sums[m].lapVar += s.lapVar / hrs.length;
  }
  // A 128 px crop round the centre of each image, the four versions side by side.
  const c = Math.min(128, hr.width, hr.height);
  const x0 = Math.floor((hr.width - c) / 2);
  const y0 = Math.floor((hr.height - c) / 2);
  const strip = new Uint8Array(c * 4 * c * 3);
  methods.forEach((m, k) => {
    const part = crop(imgs[m], x0, y0, c, c);
    for (let y = 0; y < c; y++) {
      for (let x = 0; x < c * 3; x++) strip[(y * c * 4 + k * c) * 3 + x] = Math.max(0, Math.min(255, Math.round(part.data[y * c * 3 + x]!)));
    }
  });
  await sharp(strip, { raw: { width: c * 4, height: c, channels: 3 } })
    .png()
    .toFile(path.join(cropsDir, `${path.parse(hrs[i]!).name}.png`));
}
pixel.dispose();
console.log('\nSet5 x4 (Y, shave 4) | PSNR | SSIM | mean |grad Y| | var(Laplacian Y)');
for (const m of methods) {
  const r = sums[m];
  console.log(`${m.padEnd(8)} | ${m === 'hr' ? '-' : r.psnr.toFixed(3)} | ${m === 'hr' ? '-' : r.ssim.toFixed(4)} | ${r.grad.toFixed(3)} | ${r.lapVar.toFixed(1)}`);
}
fs.writeFileSync(path.join(out, 'report.json'), JSON.stringify({ config, set5: sums, history: gan.history }, null, 2));
console.log(`crops (bicubic | pixel | GAN | HR) in ${cropsDir}`);
gan.dispose();
