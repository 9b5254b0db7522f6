/**
 * The seed's progressive 8x upsampler: three `upsampler2x` stages trained one after
 * the other for 64->128, 128->256 and 256->512 (bicubic pairs at each resolution,
 * cut from 512 px crops of data/photos/train), stacked with stackUpsamplers into
 * `upsampler8x`, fine-tuned end to end on 64->512, and scored at 8x (Y-PSNR / SSIM,
 * ../shared/DESIGN.md protocol) against bicubic on held-out 512 px crops of data/photos/val.
 * Every phase checkpoints under --out and resumes when the command is run again.
 *   npx tsx scripts/train-progressive-8x.ts --steps-per-stage 2000 --finetune-steps 2000 --threads 1
 * (47 min on 2 cores beside other work: +1.21 dB over bicubic at 8x; bench/README.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, imresize, type FloatImage } from '../src/main/imaging/imresize.js';
import { stackUpsamplers } from '../src/main/ml/archs/index.js';
import type { PairImage } from '../src/main/ml/train/dataset.js';
import { saveLayersModel } from '../src/main/ml/store/modelStore.js';
import { measure } from '../src/main/ml/eval/metrics.js';
import { DEFAULT_TRAINER_CONFIG, Trainer, type TrainerConfig } from '../src/main/ml/train/trainer.js';
import { predictImage } from '../src/main/ml/infer/predict.js';

const { values } = parseArgs({
  options: {
    'steps-per-stage': { type: 'string', default: '150' },
    'finetune-steps': { type: 'string', default: '150' },
    batch: { type: 'string', default: '8' },
    /** LR patch of each 2x stage (multiple of 8, at most 64). */
    patch: { type: 'string', default: '32' },
    /** LR patch of the 8x fine-tune (multiple of 8, at most 64). */
    'finetune-patch': { type: 'string', default: '16' },
    'finetune-batch': { type: 'string', default: '4' },
    lr: { type: 'string', default: '0.001' },
    'finetune-lr': { type: 'string', default: '0.0002' },
    width: { type: 'string', default: '16' },
    /** --seed-form: the seed's stages exactly (no bicubic skip, no U-Net skips); --no-skips: the bicubic skip only. */
    'seed-form': { type: 'boolean', default: false },
    'no-skips': { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    data: { type: 'string', default: 'data/photos' },
    out: { type: 'string', default: 'runs/progressive-8x' },
  },
});
const trainDir = path.join(values.data!, 'train');
const valDir = path.join(values.data!, 'val');
if (!fs.existsSync(trainDir) || !fs.existsSync(valDir)) {
  console.error(`${trainDir} or ${valDir} is absent: prepare the photos first (scripts/fetch-training-photos.sh).`);
  process.exit(1);
}
const backend = await initBackend({ prefer: 'wasm', threads: Number(values.threads) });
console.log(`backend ${backend.id} threads ${backend.threads}`);
const out = values.out!;
const archOptions = { width: Number(values.width), residual: !values['seed-form'], skips: !values['seed-form'] && !values['no-skips'] };
const t0 = performance.now();

/**
 * 512 px crops: each photo is first brought to a 1024 px short side (so a crop holds
 * a scene, not a blur of a few pixels), then cut on a grid, at most `max` crops.
 */
async function crops512(dir: string, max: number): Promise<FloatImage[]> {
  const outCrops: FloatImage[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    let img = await decodeRgbFloat(path.join(dir, f));
    const short = Math.min(img.width, img.height);
    if (short < 512) continue;
    if (short > 1024) img = imresize(img, 1024 / short, { uint8: true });
    const nx = Math.floor(img.width / 512);
    const ny = Math.floor(img.height / 512);
    const ox = Math.floor((img.width - nx * 512) / 2);
    const oy = Math.floor((img.height - ny * 512) / 2);
    let n = 0;
    for (let y = 0; y < ny && n < max; y++) for (let x = 0; x < nx && n < max; x++, n++) outCrops.push(crop(img, ox + x * 512, oy + y * 512, 512, 512));
  }
  return outCrops;
}

const train512 = await crops512(trainDir, 4);
const val512 = await crops512(valDir, 1);
console.log(`${train512.length} training crops, ${val512.length} held-out crops (512 px)`);
/** Pyramid level k of a 512 crop: 64 * 2^k px, by bicubic from the 512 crop. */
const level = (img: FloatImage, k: number): FloatImage => (k === 3 ? img : imresize(img, 2 ** (k - 3), { uint8: true }));

function trainerConfig(arch: string, scale: number, steps: number, patch: number, batch: number, lr: number, initFrom?: string): TrainerConfig {
  return {
    ...DEFAULT_TRAINER_CONFIG,
    arch,
    archOptions,
    scale,
    steps,
    batch,
    patch,
    lr,
    warmupSteps: Math.max(1, Math.round(steps / 20)),
    validateEvery: steps,
    checkpointEvery: 50,
    ...(initFrom ? { initFrom } : {}),
  };
}

async function trainPhase(name: string, config: TrainerConfig, train: PairImage[], val: PairImage[]): Promise<tf.LayersModel> {
  const trainer = await Trainer.open(config, train, val, path.join(out, name));
  console.log(`${name}: ${config.arch} x${config.scale}, from step ${trainer.currentStep}/${config.steps}`);
  await trainer.run({
    onProgress: (p) => {
      if (p.point) {
        const v = p.point.valPsnr !== undefined ? ` val ${p.point.valPsnr.toFixed(3)} dB / ${p.point.valSsim!.toFixed(4)}` : '';
        console.log(`  ${name} step ${p.step} loss ${p.point.loss.toFixed(5)} ${p.stepsPerSec.toFixed(2)} steps/s${v}`);
      }
    },
  });
  return trainer.model;
}

const stepsPerStage = Number(values['steps-per-stage']);
const stages: tf.LayersModel[] = [];
for (let k = 0; k < 3; k++) {
  const name = `stage${k + 1}`;
  const pair = (img: FloatImage, i: number): PairImage => {
    const hr = level(img, k + 1);
    return { name: `${name}-${i}`, hr, lr: imresize(hr, 0.5, { uint8: true }) };
  };
  const cfg = trainerConfig('upsampler2x', 2, stepsPerStage, Number(values.patch), Number(values.batch), Number(values.lr));
  stages.push(await trainPhase(name, cfg, train512.map(pair), val512.map(pair)));
}

// The 8x pairs: LR is bicubic 1/8 of the 512 crop (as the 8x evaluation uses).
const pair8 = (img: FloatImage, i: number): PairImage => ({ name: `x8-${i}`, hr: img, lr: imresize(img, 1 / 8, { uint8: true }) });
const train8 = train512.map(pair8);
const val8 = val512.map(pair8);

function score(upscale: (lr: FloatImage) => FloatImage): { psnr: number; ssim: number } {
  let psnr = 0;
  let ssim = 0;
  for (const p of val8) {
    const q = measure(upscale(p.lr), p.hr, 8);
    psnr += q.psnr / val8.length;
    ssim += q.ssim / val8.length;
  }
  return { psnr, ssim };
}

const stackedDir = path.join(out, 'stacked');
const stacked = stackUpsamplers(stages, archOptions);
await saveLayersModel(stacked, stackedDir);
const beforeFt = score((lr) => predictImage(stacked, lr));
stacked.dispose();
for (const s of stages) s.dispose();

const ftSteps = Number(values['finetune-steps']);
const ftCfg = trainerConfig('upsampler8x', 8, ftSteps, Number(values['finetune-patch']), Number(values['finetune-batch']), Number(values['finetune-lr']), stackedDir);
const fine = await trainPhase('finetune', ftCfg, train8, val8);
await saveLayersModel(fine, path.join(out, 'model'));
const afterFt = score((lr) => predictImage(fine, lr));
const bicubic = score((lr) => imresize(lr, 8, { uint8: true }));
fine.dispose();

const minutes = (performance.now() - t0) / 60000;
const report = { archOptions, stepsPerStage, finetuneSteps: ftSteps, valCrops: val8.length, trainCrops: train8.length, bicubic, stacked: beforeFt, finetuned: afterFt, minutes };
fs.writeFileSync(path.join(out, 'report.json'), JSON.stringify(report, null, 2));
console.log(`\n8x on ${val8.length} held-out 512 px crops (Y, shave 8) | PSNR | SSIM`);
console.log(`bicubic            | ${bicubic.psnr.toFixed(3)} | ${bicubic.ssim.toFixed(4)}`);
console.log(`stacked 3 x 2x     | ${beforeFt.psnr.toFixed(3)} | ${beforeFt.ssim.toFixed(4)}`);
console.log(`+ end-to-end tune  | ${afterFt.psnr.toFixed(3)} | ${afterFt.ssim.toFixed(4)}`);
console.log(`(${minutes.toFixed(1)} min, this script's wall time including resumed phases' remainder only)`);
