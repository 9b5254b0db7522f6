/**
 * Measures the tone steps (src/main/imaging/tone.ts). Evaluation only: reads photos and
 * test sets from where they are, writes nothing into the project.
 *
 *   npx tsx scripts/tone-measure.ts clip INPUTS_DIR OUT_DIR...   clipped % (luma >= 250) of each input and of
 *                                                              its result in each output folder (same base name)
 *   npx tsx scripts/tone-measure.ts eval MODEL HR_DIR [SEED]     Y-PSNR/SSIM, old-photo degraded x2, without and
 *                                                              with the highlight guard (the CLI eval runs the bare model)
 *   npx tsx scripts/tone-measure.ts levels HR_DIR [SEED]         levels + white balance on seeded synthetic fades
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeImage } from '../src/main/imaging/io.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, type FloatImage } from '../src/main/imaging/imresize.js';
import { autoLevels, clippedFraction, guardHighlights } from '../src/main/imaging/tone.js';
import { measure } from '../src/main/ml/eval/metrics.js';
import { Rng } from '../src/main/ml/core/rng.js';

const IMG = /\.(png|jpe?g|webp|tiff?|bmp)$/i;
const pct = (f: number) => (100 * f).toFixed(2);

async function clip(inputs: string, outs: string[]): Promise<void> {
  console.log(['photo', 'input %', ...outs.map((o) => `${path.basename(o)} %`)].join('\t'));
  for (const f of fs
    .readdirSync(inputs)
    .filter((x) => IMG.test(x))
    .sort()) {
    const a = await decodeImage(path.join(inputs, f));
    const row = [f, pct(clippedFraction(a.rgb, a.maxValue))];
    for (const o of outs) {
      const base = path.basename(f, path.extname(f));
      const hit = fs.readdirSync(o).find((x) => path.basename(x, path.extname(x)) === base && IMG.test(x));
      if (!hit) {
        row.push('-');
        continue;
      }
      const b = await decodeImage(path.join(o, hit));
      row.push(pct(clippedFraction(b.rgb, b.maxValue)));
    }
    console.log(row.join('\t'));
  }
}

async function evalGuard(model: string, hrDir: string, seed: number): Promise<void> {
  const { initBackend } = await import('../src/main/ml/backend.js');
  const { loadLayersModel } = await import('../src/main/ml/store/modelStore.js');
  const { predictImage } = await import('../src/main/ml/infer/predict.js');
  const { degradedPairs } = await import('../src/main/ml/eval/evaluate.js');
  const { ModelLibrary } = await import('../src/main/ml/store/modelLibrary.js');
  const { bundledModelsDir } = await import('../src/main/paths.js');
  await initBackend({});
  const dir = new ModelLibrary(bundledModelsDir(), '/nonexistent').get(model).dir;
  const net = await loadLayersModel(dir);
  let sumA = 0;
  let sumB = 0;
  let ssA = 0;
  let ssB = 0;
  const pairs = await degradedPairs(hrDir, 2, 'old-photo', seed);
  console.log('image\tbare dB\tguarded dB\tclip in %\tclip bare %\tclip guarded %');
  for (const p of pairs) {
    const sr = predictImage(net, p.lr);
    // The app writes rounded samples: score what a user gets.
    const bare: FloatImage = { ...sr, data: Float32Array.from(sr.data, (v) => Math.min(255, Math.max(0, Math.round(v)))) };
    const guarded: FloatImage = { ...bare, data: bare.data.slice() };
    guardHighlights(p.lr.data, p.lr.width, p.lr.height, guarded.data, 2, 255);
    guarded.data.forEach((v, i) => (guarded.data[i] = Math.round(v)));
    const a = measure(bare, p.hr, 2);
    const b = measure(guarded, p.hr, 2);
    sumA += a.psnr;
    sumB += b.psnr;
    ssA += a.ssim;
    ssB += b.ssim;
    console.log(`${p.name}\t${a.psnr.toFixed(3)}\t${b.psnr.toFixed(3)}\t${pct(clippedFraction(p.lr.data, 255))}\t${pct(clippedFraction(bare.data, 255))}\t${pct(clippedFraction(guarded.data, 255))}`);
  }
  const n = pairs.length;
  console.log(`mean\t${(sumA / n).toFixed(3)} / ${(ssA / n).toFixed(4)}\t${(sumB / n).toFixed(3)} / ${(ssB / n).toFixed(4)}`);
  net.dispose();
}

/** RGB PSNR (all channels, no shave): Y-PSNR barely sees a colour cast. */
function rgbPsnr(a: FloatImage, b: FloatImage): number {
  let se = 0;
  for (let i = 0; i < a.data.length; i++) se += (a.data[i]! - b.data[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.data.length));
}

/** Two fades a print suffers: fading + yellowing (warm), and a dye fade with a magenta-red cast and a gamma shift. */
function fade(img: FloatImage, kind: 'yellow' | 'magenta', rng: Rng): FloatImage {
  const f = rng.uniform(0.15, 0.4);
  const t = rng.uniform(0.3, 0.9);
  const gamma = rng.uniform(0.85, 1.15);
  const gains = kind === 'yellow' ? [1 + 0.08 * t, 1 + 0.03 * t, 1 - 0.25 * t] : [1 + 0.05 * t, 1 - 0.15 * t, 1 - 0.05 * t];
  const data = new Float32Array(img.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = 255 * Math.pow(img.data[i]! / 255, gamma);
    const faded = v * (1 - f) + 70 * f;
    data[i] = Math.min(255, Math.max(0, Math.round(faded * gains[i % 3]!)));
  }
  return { ...img, data };
}

async function levels(hrDir: string, seed: number): Promise<void> {
  const files = fs
    .readdirSync(hrDir)
    .filter((f) => IMG.test(f))
    .sort();
  const rows: number[][] = [];
  console.log('image\tfade\tY dB faded -> levelled\tRGB dB faded -> levelled\tclean: Y dB / RGB dB after levels');
  for (const [i, f] of files.entries()) {
    const hr0 = await decodeRgbFloat(path.join(hrDir, f));
    const hr = crop(hr0, 0, 0, hr0.width, hr0.height);
    for (const kind of ['yellow', 'magenta'] as const) {
      const faded = fade(hr, kind, new Rng(seed * 1000 + i * 2 + (kind === 'yellow' ? 0 : 1)));
      const fixed: FloatImage = { ...faded, data: faded.data.slice() };
      autoLevels(fixed.data, fixed.width, fixed.height, 255);
      fixed.data.forEach((v, j) => (fixed.data[j] = Math.round(v)));
      const clean: FloatImage = { ...hr, data: hr.data.slice() };
      autoLevels(clean.data, clean.width, clean.height, 255);
      clean.data.forEach((v, j) => (clean.data[j] = Math.round(v)));
      // An unchanged image scores infinity: capped at 60 dB so the means stay readable.
      const r = [measure(faded, hr, 1).psnr, measure(fixed, hr, 1).psnr, rgbPsnr(faded, hr), rgbPsnr(fixed, hr), measure(clean, hr, 1).psnr, rgbPsnr(clean, hr)];
      for (let k = 0; k < r.length; k++) r[k] = Math.min(60, r[k]!);
      rows.push(r);
      console.log(`${f}\t${kind}\t${r[0]!.toFixed(2)} -> ${r[1]!.toFixed(2)}\t${r[2]!.toFixed(2)} -> ${r[3]!.toFixed(2)}\t${r[4]!.toFixed(2)} / ${r[5]!.toFixed(2)}`);
    }
  }
  const m = (k: number) => (rows.reduce((a, r) => a + r[k]!, 0) / rows.length).toFixed(2);
  console.log(`mean\t\t${m(0)} -> ${m(1)}\t${m(2)} -> ${m(3)}\t${m(4)} / ${m(5)}`);
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'clip' && rest.length >= 2) await clip(rest[0]!, rest.slice(1));
else if (cmd === 'eval' && rest.length >= 2) await evalGuard(rest[0]!, rest[1]!, Number(rest[2] ?? 1));
else if (cmd === 'levels' && rest.length >= 1) await levels(rest[0]!, Number(rest[1] ?? 1));
else {
  console.error('usage: tone-measure.ts clip INPUTS OUT... | eval MODEL HR_DIR [SEED] | levels HR_DIR [SEED]');
  process.exit(2);
}
