/**
 * Trains one of the bundled models on the photos prepared by
 * scripts/fetch-training-photos.sh, then writes it to resources/models/<id>.
 * Resumes automatically from runs/<id>/checkpoint when interrupted.
 *   npx tsx scripts/train-bundled.ts --id restora-x2 --scale 2 --steps 6000
 * --out DIR writes the finished model somewhere else (an intermediate stage of a recipe).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, type FloatImage } from '../src/main/imaging/imresize.js';
import { makeBicubicPair, type PairImage } from '../src/main/ml/train/dataset.js';
import { threadedDegradedSource } from '../src/main/ml/train/degradeLoader.js';
import { degrade, type PresetId } from '../src/main/degrade/presets.js';
import { Rng } from '../src/main/ml/rng.js';
import { DEFAULT_TRAINER_CONFIG, Trainer, type TrainerConfig } from '../src/main/ml/train/trainer.js';
import { saveLayersModel, writeCard } from '../src/main/ml/store/modelStore.js';
import { PIXEL_LOSSES, type ModelCard } from '../src/shared/api.js';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    scale: { type: 'string', default: '2' },
    steps: { type: 'string', default: '6000' },
    batch: { type: 'string', default: '16' },
    patch: { type: 'string', default: '48' },
    arch: { type: 'string', default: 'compact' },
    channels: { type: 'string', default: '32' },
    /** compact: conv blocks; unet: 3x3 blocks at 1/4 resolution. */
    blocks: { type: 'string', default: '5' },
    lr: { type: 'string', default: '0.001' },
    threads: { type: 'string', default: '1' },
    data: { type: 'string', default: 'data/photos' },
    until: { type: 'string' },
    preset: { type: 'string', default: 'bicubic' },
    init: { type: 'string' },
    /** unet: condition on whole-image statistics (src/main/ml/infer/conditioning.ts). */
    global: { type: 'boolean', default: false },
    /** LR side of the region degraded around each patch (whole-image statistics come from it). */
    context: { type: 'string' },
    /** The run's folder under runs/ (default: the id), so stages of one model keep separate checkpoints. */
    run: { type: 'string' },
    /** The card's notes (default: a one-line summary of this stage). */
    notes: { type: 'string' },
    /** Where the finished model goes (default resources/models/<id>). */
    out: { type: 'string' },
    /** Steps the init model had already trained, for the card's total. */
    'prior-steps': { type: 'string', default: '0' },
    /** Pixel loss: l1 (default), mse (optimises PSNR directly: the last phase) or charbonnier. */
    loss: { type: 'string', default: 'l1' },
    /** EMA decay of the weights (0 = off); the model written is the average. */
    ema: { type: 'string', default: '0' },
    /** Colour-jitter the clean photos before degrading them (a wider idea of "undamaged"). */
    jitter: { type: 'boolean', default: false },
  },
});
const preset = values.preset as PresetId;
if (!(PIXEL_LOSSES as readonly string[]).includes(values.loss!)) throw new Error(`--loss ${values.loss}: expected one of ${PIXEL_LOSSES.join(', ')}`);
const id = values.id ?? `restora-x${values.scale}`;
const scale = Number(values.scale);
const backend = await initBackend({ prefer: 'wasm', threads: Number(values.threads) });
console.log(`backend ${backend.id} threads ${backend.threads}`);

async function loadImages(dir: string, centreCrop?: number): Promise<{ name: string; img: FloatImage }[]> {
  const out: { name: string; img: FloatImage }[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    let img = await decodeRgbFloat(path.join(dir, f));
    if (centreCrop) {
      const s = Math.min(centreCrop, img.width, img.height);
      img = crop(img, Math.floor((img.width - s) / 2), Math.floor((img.height - s) / 2), s, s);
    }
    out.push({ name: f, img });
  }
  return out;
}
const trainImages = await loadImages(path.join(values.data!, 'train'));
const val: PairImage[] = [];
for (const [i, { name, img }] of (await loadImages(path.join(values.data!, 'val'), 384)).entries()) {
  // Validation inputs are degraded once with a fixed seed per photo, so every evaluation sees the same damage.
  val.push(preset === 'bicubic' ? makeBicubicPair(name, img, scale) : { name, hr: img, lr: await degrade(img, scale, preset, new Rng(1000 + i)) });
}
const train =
  preset === 'bicubic'
    ? trainImages.map(({ name, img }) => makeBicubicPair(name, img, scale))
    : threadedDegradedSource(
        trainImages.map((t) => t.img),
        preset,
        values.context ? Number(values.context) : undefined,
        values.jitter,
      );
console.log(`${trainImages.length} training photos (${preset}), ${val.length} validation crops`);

const config: TrainerConfig = {
  ...DEFAULT_TRAINER_CONFIG,
  arch: values.arch!,
  archOptions:
    values.arch === 'unet'
      ? { channels: Number(values.channels), midBlocks: Number(values.blocks), ...(values.global ? { global: true } : {}) }
      : { channels: Number(values.channels), blocks: Number(values.blocks) },
  scale,
  steps: Number(values.steps),
  batch: Number(values.batch),
  patch: Number(values.patch),
  lr: Number(values.lr),
  loss: values.loss as TrainerConfig['loss'],
  ema: Number(values.ema),
  validateEvery: 500,
  checkpointEvery: 100,
  ...(values.init ? { initFrom: values.init } : {}),
};
const runDir = path.join('runs', values.run ?? id);
const trainer = await Trainer.open(config, train, val, runDir);
console.log(`starting at step ${trainer.currentStep}/${config.steps}`);
await trainer.run({
  ...(values.until ? { untilStep: Number(values.until) } : {}),
  onProgress: (p) => {
    if (p.point) {
      const v = p.point.valPsnr !== undefined ? ` val ${p.point.valPsnr.toFixed(3)} dB / ${p.point.valSsim!.toFixed(4)}` : '';
      console.log(`step ${p.step} loss ${p.point.loss.toFixed(5)} lr ${p.lr.toExponential(2)} ${p.stepsPerSec.toFixed(2)} steps/s${v}`);
    }
  },
});
if (!Array.isArray(train)) await train.close();
if (trainer.currentStep >= config.steps) {
  const dir = values.out ?? path.join('resources', 'models', id);
  await saveLayersModel(trainer.exportModel, dir);
  const last = [...trainer.history].reverse().find((p) => p.valPsnr !== undefined);
  const card: ModelCard = {
    id,
    name: preset === 'bicubic' ? `Restora x${scale}` : `Restora ${preset} x${scale}`,
    arch: config.arch,
    archOptions: config.archOptions,
    scale,
    params: trainer.exportModel.countParams(),
    task: preset === 'bicubic' ? 'upscale' : 'restore',
    trainingData: `${trainImages.length} photos from Debian packages (scripts/fetch-training-photos.sh)`,
    degradation: preset === 'bicubic' ? 'bicubic (MATLAB imresize, antialiased)' : `${preset} (src/main/degrade/presets.ts), on the fly, seeded`,
    steps: config.steps + Number(values['prior-steps']),
    metrics: last ? { 'heldout-val': { psnr: last.valPsnr!, ssim: last.valSsim! } } : {},
    measuredWith: 'npx restora eval (see README)',
    date: new Date().toISOString().slice(0, 10),
    license: 'Training photos keep their own licences (see the copyright files of the Debian packages lomiri-wallpapers-16.04, plasma-workspace-wallpapers, mate-backgrounds, palapeli-data, python3-skimage)',
    notes: values.notes ?? `${config.arch} ${JSON.stringify(config.archOptions)}, ${values.init ? `initialised from ${values.init}, ` : ''}batch ${config.batch}, LR patch ${config.patch}, ${config.loss.toUpperCase()}${config.ema ? `, EMA ${config.ema}` : ''}, Adam lr ${config.lr} cosine, seed ${config.seed}`,
  };
  writeCard(dir, card);
  fs.writeFileSync(path.join(dir, 'history.json'), JSON.stringify(trainer.history));
  console.log(`wrote ${dir}`);
}
