/**
 * Trains one of the bundled models on the photos prepared by
 * scripts/fetch-training-photos.sh, then writes it to resources/models/<id>.
 * Resumes automatically from runs/<id>/checkpoint when interrupted.
 *   npx tsx scripts/train-bundled.ts --id restora-x2 --scale 2 --steps 6000
 * --out DIR writes the finished model somewhere else (an intermediate stage of a recipe).
 * --task detect|inpaint trains the damage nets (unet with its mask or inpaint head, scale 1,
 * on damaged photos with masks: src/main/ml/train/damageData.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, type FloatImage } from '../src/main/imaging/imresize.js';
import { makeBicubicPair, type PairImage } from '../src/main/ml/train/dataset.js';
import { threadedDegradedSource } from '../src/main/ml/train/degradeLoader.js';
import { damagedPairs } from '../src/main/ml/train/damageData.js';
import { degrade, type PresetId } from '../src/main/degrade/presets.js';
import { Rng } from '../src/main/ml/core/rng.js';
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
    /** unet: condition on whole-image statistics (src/main/ml/core/conditioning.ts). */
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
    /** restore (default), or the damage nets: detect (scratch detection), inpaint. */
    task: { type: 'string', default: 'restore' },
    /** vae: latent channels, levels (downsamplings) and the KL weight after warm-up. */
    latent: { type: 'string', default: '16' },
    levels: { type: 'string', default: '2' },
    'kl-weight': { type: 'string' },
  },
});
const task = values.task as 'restore' | 'detect' | 'inpaint';
if (!['restore', 'detect', 'inpaint'].includes(task)) throw new Error(`--task ${task}: expected restore, detect or inpaint`);
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
  if (task === 'restore') val.push(preset === 'bicubic' ? makeBicubicPair(name, img, scale) : { name, hr: img, lr: await degrade(img, scale, preset, new Rng(1000 + i)) });
}
if (task !== 'restore') val.push(...(await damagedPairs(await loadImages(path.join(values.data!, 'val'), 384))));
const train =
  task !== 'restore'
    ? threadedDegradedSource(
        trainImages.map((t) => t.img),
        'old-photo',
        values.context ? Number(values.context) : undefined,
        false,
        true,
      )
    : preset === 'bicubic'
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
      ? { channels: Number(values.channels), midBlocks: Number(values.blocks), ...(values.global ? { global: true } : {}), ...(task !== 'restore' ? { head: task === 'detect' ? 'mask' : 'inpaint' } : {}) }
      : values.arch === 'vae'
        ? { channels: Number(values.channels), latent: Number(values.latent), levels: Number(values.levels), blocks: Number(values.blocks) }
        : { channels: Number(values.channels), blocks: Number(values.blocks) },
  ...(values['kl-weight'] !== undefined ? { klWeight: Number(values['kl-weight']) } : {}),
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
      const iou = p.point.valIou !== undefined ? ` val IoU ${p.point.valIou.toFixed(4)}` : '';
      const kl = p.point.kl !== undefined ? ` recon ${p.point.recon!.toFixed(5)} kl ${p.point.kl.toFixed(4)}` : '';
      console.log(`step ${p.step} loss ${p.point.loss.toFixed(5)}${kl} lr ${p.lr.toExponential(2)} ${p.stepsPerSec.toFixed(2)} steps/s${v}${iou}`);
    }
  },
});
if (!Array.isArray(train)) await train.close();
if (trainer.currentStep >= config.steps) {
  const dir = values.out ?? path.join('resources', 'models', id);
  await saveLayersModel(trainer.exportModel, dir);
  const last = [...trainer.history].reverse().find((p) => p.valPsnr !== undefined);
  const lastIou = [...trainer.history].reverse().find((p) => p.valIou !== undefined);
  const card: ModelCard = {
    id,
    name: task === 'detect' ? 'Restora scratch detection' : task === 'inpaint' ? 'Restora damage inpainting' : preset === 'bicubic' ? `Restora x${scale}` : `Restora ${preset} x${scale}`,
    arch: config.arch,
    archOptions: config.archOptions,
    scale,
    params: trainer.exportModel.countParams(),
    task: task === 'detect' ? 'detect-damage' : task === 'inpaint' ? 'inpaint' : preset === 'bicubic' ? 'upscale' : 'restore',
    trainingData: `${trainImages.length} photos from Debian packages (scripts/fetch-training-photos.sh)`,
    degradation: task !== 'restore' ? 'old-photo, then scratches, creases, dust and torn corners with their masks (src/main/degrade/defects.ts)' : preset === 'bicubic' ? 'bicubic (MATLAB imresize, antialiased)' : `${preset} (src/main/degrade/presets.ts), on the fly, seeded`,
    steps: config.steps + Number(values['prior-steps']),
    ...(task === 'restore'
      ? { metrics: last ? { 'heldout-val': { psnr: last.valPsnr!, ssim: last.valSsim! } } : {} }
      : { scores: { 'heldout-val-damaged': task === 'detect' ? { iou: lastIou?.valIou ?? NaN } : { psnrInsideMask: last?.valPsnr ?? NaN, ssim: last?.valSsim ?? NaN } } }),
    measuredWith: 'npx restora eval (see README)',
    date: new Date().toISOString().slice(0, 10),
    license: 'Training photos keep their own licences (see the copyright files of the Debian packages lomiri-wallpapers-16.04, plasma-workspace-wallpapers, mate-backgrounds, palapeli-data, python3-skimage)',
    notes: values.notes ?? `${config.arch} ${JSON.stringify(config.archOptions)}, ${values.init ? `initialised from ${values.init}, ` : ''}batch ${config.batch}, LR patch ${config.patch}, ${config.loss.toUpperCase()}${config.ema ? `, EMA ${config.ema}` : ''}, Adam lr ${config.lr} cosine, seed ${config.seed}`,
  };
  writeCard(dir, card);
  fs.writeFileSync(path.join(dir, 'history.json'), JSON.stringify(trainer.history));
  console.log(`wrote ${dir}`);
}
