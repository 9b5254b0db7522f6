/**
 * Measures the damage nets and the Restore pipeline, and writes the numbers into the
 * cards of restora-scratch-detect (its IoU and false alarms) and restora-inpaint:
 *   npx tsx scripts/measure-damage.ts [--data ../shared/data] [--seed 1] [--restore restora-oldphoto-x2]
 * 1. The detector's rules (repair and review) are its card's, picked by scripts/tune-detector.ts
 *    on real photos without damage and the held-out training photos, never on the test sets.
 * 2. Set14 with synthetic damage, seed 1: each HR image aged with the old-photo preset at
 *    x2 (the same LR as `restora eval --degrade old-photo --seed 1`), then scratched, creased,
 *    dusted and torn with its mask. Scored at x2 against the HR, inside and outside the
 *    masks (Y-PSNR/SSIM, shave 2): bicubic of the damaged input, the restore model alone,
 *    detect -> inpaint -> restore (the repair rule, and the review rule of Find damage
 *    accepted unchanged), the same with the true mask, and the restore model on
 *    the undamaged LR (what a perfect repair would reach).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, imresize, type FloatImage } from '../src/main/imaging/imresize.js';
import { degradeDamaged } from '../src/main/degrade/presets.js';
import { Rng } from '../src/main/ml/core/rng.js';
import { maskOverlap, maskedPsnr } from '../src/main/ml/learning/tasks.js';
import { predictImage } from '../src/main/ml/infer/predict.js';
import { detectDamage, inpaintDamage } from '../src/main/ml/infer/damage.js';
import { measureMasked, type Quality } from '../src/main/ml/eval/metrics.js';
import { loadLayersModel, readCard, writeCard } from '../src/main/ml/store/modelStore.js';
import { bundledModelsDir } from '../src/main/paths.js';
import { INPAINTER_ID, SCRATCH_DETECTOR_ID } from '../src/shared/api.js';

const { values } = parseArgs({ options: { data: { type: 'string', default: '../shared/data' }, seed: { type: 'string', default: '1' }, restore: { type: 'string', default: 'restora-oldphoto-x2' } } });
const seed = Number(values.seed);
await initBackend({ prefer: 'wasm', threads: 1 });
const dirOf = (id: string) => path.join(bundledModelsDir(), id);
const detector = { model: await loadLayersModel(dirOf(SCRATCH_DETECTOR_ID)), card: readCard(dirOf(SCRATCH_DETECTOR_ID)) };
const inpainter = { model: await loadLayersModel(dirOf(INPAINTER_ID)), card: readCard(dirOf(INPAINTER_ID)) };
const restorer = await loadLayersModel(dirOf(values.restore!));
const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

const toPixels = (img: FloatImage) => Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
const fromPixels = (p: ArrayLike<number>, w: number, h: number): FloatImage => ({ width: w, height: h, channels: 3, data: Float32Array.from(p) });

// 1. The detector's rules (repair and review) come from its card: scripts/tune-detector.ts picks them on real photos.
const picked = { threshold: detector.card.threshold ?? 0.5 };
// 2. Set14 with synthetic damage.
type Row = { inside: Quality; outside: Quality };
const methods = ['bicubic', 'restore', 'pipeline', 'pipeline-review', 'oracle-mask', 'undamaged'] as const;
const sums = Object.fromEntries(methods.map((m) => [m, { inside: { psnr: 0, ssim: 0 }, outside: { psnr: 0, ssim: 0 } }])) as Record<(typeof methods)[number], Row>;
let inter = 0;
let union = 0;
let lrDamaged = 0;
let lrInpainted = 0;
let lrPipeline = 0;
let markedFraction = 0;
// False alarms: pixels marked on the same photos before the defects were drawn (aged, undamaged).
let falseAlarms = 0;
const hrDir = path.join(values.data!, 'set14');
const files = fs
  .readdirSync(hrDir)
  .filter((f) => /\.(png|bmp|jpe?g)$/i.test(f))
  .sort();
for (const [i, f] of files.entries()) {
  const hr0 = await decodeRgbFloat(path.join(hrDir, f));
  const hr = crop(hr0, 0, 0, hr0.width - (hr0.width % 2), hr0.height - (hr0.height % 2));
  const d = await degradeDamaged(hr, 2, new Rng(seed * 1000 + i));
  const { width: w, height: h } = d.img;
  const px = toPixels(d.img);
  const found = await detectDamage(detector, px, w, h, 255, 512);
  const o = maskOverlap({ width: w, height: h, channels: 1, data: Float32Array.from(found, (v) => v * 255) }, d.mask);
  inter += o.intersection;
  union += o.union;
  const onUndamaged = await detectDamage(detector, toPixels(d.before), w, h, 255, 512);
  falseAlarms += onUndamaged.reduce((a, b) => a + b, 0) / onUndamaged.length / files.length;
  markedFraction += d.mask.reduce((a, b) => a + b, 0) / d.mask.length / files.length;
  const repaired = fromPixels(await inpaintDamage(inpainter, px, w, h, 255, found, 512), w, h);
  // The studio's Find damage rule, as if a person accepted every mark unchanged.
  const reviewed = fromPixels(await inpaintDamage(inpainter, px, w, h, 255, await detectDamage(detector, px, w, h, 255, 512, undefined, 'review'), 512), w, h);
  const oracle = fromPixels(await inpaintDamage(inpainter, px, w, h, 255, d.mask, 512), w, h);
  lrDamaged += maskedPsnr(d.img, d.before, d.mask) / files.length;
  lrInpainted += maskedPsnr(oracle, d.before, d.mask) / files.length;
  lrPipeline += maskedPsnr(repaired, d.before, d.mask) / files.length;
  const maskHr = new Uint8Array(hr.width * hr.height);
  for (let y = 0; y < hr.height; y++) for (let x = 0; x < hr.width; x++) maskHr[y * hr.width + x] = d.mask[(y >> 1) * w + (x >> 1)]!;
  const outputs = {
    bicubic: imresize(d.img, 2, { uint8: true }),
    restore: predictImage(restorer, d.img),
    pipeline: predictImage(restorer, repaired),
    'pipeline-review': predictImage(restorer, reviewed),
    'oracle-mask': predictImage(restorer, oracle),
    undamaged: predictImage(restorer, d.before),
  };
  for (const m of methods) {
    const q = measureMasked(outputs[m], hr, 2, maskHr);
    for (const part of ['inside', 'outside'] as const) {
      sums[m][part].psnr += q[part].psnr / files.length;
      sums[m][part].ssim += q[part].ssim / files.length;
    }
  }
  process.stderr.write(`${f} `);
}
const iou = union ? inter / union : 1;
console.log(
  `\nSet14 damaged (seed ${seed}, ${files.length} images, ${(100 * markedFraction).toFixed(2)} % of LR pixels damaged): detector IoU ${iou.toFixed(4)} at threshold ${picked.threshold}; on the undamaged LR it marks ${(100 * falseAlarms).toFixed(2)} % of pixels`,
);
console.log(`LR-level PSNR inside the true masks vs the undamaged LR: damaged input ${lrDamaged.toFixed(2)} dB, inpainted (true mask) ${lrInpainted.toFixed(2)} dB, inpainted (detected mask) ${lrPipeline.toFixed(2)} dB`);
console.log('\n| x2 vs HR (Y, shave 2) | PSNR inside | SSIM inside | PSNR outside | SSIM outside |\n|---|---|---|---|---|');
for (const m of methods) {
  const r = sums[m];
  console.log(`| ${m} | ${r.inside.psnr.toFixed(2)} | ${r.inside.ssim.toFixed(4)} | ${r.outside.psnr.toFixed(2)} | ${r.outside.ssim.toFixed(4)} |`);
}
const command = `npx tsx scripts/measure-damage.ts --data ${values.data} --seed ${seed} --restore ${values.restore}`;
const set14Key = `set14-damaged-x2-seed${seed}`;
writeCard(dirOf(SCRATCH_DETECTOR_ID), {
  ...detector.card,
  scores: { ...(detector.card.scores ?? {}), [set14Key]: { iou: round(iou), damagedPercent: round(100 * markedFraction, 2), markedOnUndamagedPercent: round(100 * falseAlarms, 2) } },
  measuredWith: command,
});
writeCard(dirOf(INPAINTER_ID), {
  ...inpainter.card,
  scores: {
    ...(inpainter.card.scores ?? {}),
    [`${set14Key}-lr`]: { psnrInsideDamaged: round(lrDamaged, 3), psnrInsideInpaintedTrueMask: round(lrInpainted, 3), psnrInsideInpaintedDetected: round(lrPipeline, 3) },
    ...Object.fromEntries(methods.map((m) => [`${set14Key}-${m}`, { psnrInside: round(sums[m].inside.psnr, 3), ssimInside: round(sums[m].inside.ssim), psnrOutside: round(sums[m].outside.psnr, 3), ssimOutside: round(sums[m].outside.ssim) }])),
  },
  measuredWith: command,
});
