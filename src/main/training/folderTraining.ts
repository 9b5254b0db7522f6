/**
 * Training a model into a folder (restora train --out DIR), as Restora's bundled models are
 * made: photos from DATA/train and DATA/val (a fixed split, no hash split), the run's folder
 * where the caller says (phases of one model keep their own checkpoints), and the finished
 * model written to DIR with its card and metric history rather than added to the library.
 * Also trains the damage nets (task detect or inpaint: a unet with its mask or inpaint head,
 * scale 1, on old-photo-aged photos damaged with masks; ml/train/damageData.ts).
 * Resumes from the run folder's checkpoint when run again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ModelCard, PixelLoss, PresetId } from '../../shared/api.js';
import { RestoraError } from '../../shared/errors.js';
import { decodeRgbFloat } from '../imaging/decode.js';
import { crop, type FloatImage } from '../imaging/imresize.js';
import { degrade } from '../degrade/presets.js';
import { Rng } from '../ml/core/rng.js';
import { makeBicubicPair, type PairImage } from '../ml/train/dataset.js';
import { threadedDegradedSource } from '../ml/train/degradeLoader.js';
import { damagedPairs } from '../ml/train/damageData.js';
import { DEFAULT_TRAINER_CONFIG, Trainer, type TrainProgress, type TrainerConfig } from '../ml/train/trainer.js';
import { saveLayersModel, writeCard } from '../ml/store/modelStore.js';

export const FOLDER_TASKS = ['restore', 'detect', 'inpaint'] as const;
export type FolderTask = (typeof FOLDER_TASKS)[number];

export interface FolderTrainRequest {
  /** The model's id (its card's). */
  id: string;
  /** A folder with train/ and val/ subfolders of photos. */
  dataDir: string;
  /** Where the finished model, its card and history.json go. */
  out: string;
  /** The run's folder (checkpoints). */
  runDir: string;
  task: FolderTask;
  arch: string;
  archOptions: Record<string, number | string | boolean>;
  scale: number;
  preset: PresetId;
  steps: number;
  batch: number;
  patch: number;
  lr: number;
  loss: PixelLoss;
  /** EMA decay of the weights (0 = off). */
  ema: number;
  klWeight?: number;
  /** Start from these weights: a model folder or a run's checkpoint folder. */
  initFrom?: string;
  /** Stop at this step (the checkpoint is kept; the model is written only when all steps are done). */
  until?: number;
  /** LR side of the region degraded around each patch (whole-image statistics come from it). */
  context?: number;
  /** Colour-jitter the clean photos before degrading them. */
  jitter?: boolean;
  /** Steps the start weights had already trained, for the card's total. */
  priorSteps?: number;
  /** The card's notes (default: a one-line summary of the run). */
  notes?: string;
  /** The card's account of the photos (default: the data folder) and their licence. */
  dataSource?: string;
  license?: string;
}

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

/** Trains `req` (resuming its run folder's checkpoint); returns the folder written, or null when stopped at `until`. */
export async function trainToFolder(req: FolderTrainRequest, onProgress?: (p: TrainProgress) => void, signal?: AbortSignal): Promise<{ dir: string; card: ModelCard } | null> {
  for (const sub of ['train', 'val']) {
    if (!fs.existsSync(path.join(req.dataDir, sub))) throw new RestoraError('USAGE', `${req.dataDir} has no ${sub}/ folder: training into a folder takes the photos from DATA/train and DATA/val.`, req.dataDir);
  }
  if (req.task !== 'restore' && (req.arch !== 'unet' || req.scale !== 1)) {
    throw new RestoraError('USAGE', `The damage nets (task ${req.task}) are unets at scale 1; this run is ${req.arch} x${req.scale}.`, undefined, { hint: { cli: 'Use --arch unet --scale 1.' } });
  }
  const { task, preset, scale } = req;
  const archOptions = task === 'restore' ? req.archOptions : { ...req.archOptions, head: task === 'detect' ? 'mask' : 'inpaint' };
  const trainImages = await loadImages(path.join(req.dataDir, 'train'));
  const valImages = await loadImages(path.join(req.dataDir, 'val'), 384);
  const val: PairImage[] = [];
  // Validation inputs are degraded once with a fixed seed per photo, so every evaluation sees the same damage.
  if (task === 'restore') {
    for (const [i, { name, img }] of valImages.entries()) val.push(preset === 'bicubic' ? makeBicubicPair(name, img, scale) : { name, hr: img, lr: await degrade(img, scale, preset, new Rng(1000 + i)) });
  } else {
    val.push(...(await damagedPairs(valImages)));
  }
  const train =
    task !== 'restore'
      ? threadedDegradedSource(
          trainImages.map((t) => t.img),
          'old-photo',
          req.context,
          false,
          true,
        )
      : preset === 'bicubic'
        ? trainImages.map(({ name, img }) => makeBicubicPair(name, img, scale))
        : threadedDegradedSource(
            trainImages.map((t) => t.img),
            preset,
            req.context,
            req.jitter ?? false,
          );
  const config: TrainerConfig = {
    ...DEFAULT_TRAINER_CONFIG,
    arch: req.arch,
    archOptions,
    ...(req.klWeight !== undefined ? { klWeight: req.klWeight } : {}),
    scale,
    steps: req.steps,
    batch: req.batch,
    patch: req.patch,
    lr: req.lr,
    loss: req.loss,
    ema: req.ema,
    validateEvery: 500,
    checkpointEvery: 100,
    ...(req.initFrom ? { initFrom: req.initFrom } : {}),
  };
  let trainer: Trainer;
  try {
    trainer = await Trainer.open(config, train, val, req.runDir);
    try {
      await trainer.run({ ...(req.until ? { untilStep: req.until } : {}), ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) });
    } catch (err) {
      trainer.dispose();
      throw err;
    }
  } finally {
    if (!Array.isArray(train)) await train.close();
  }
  if (trainer.currentStep < config.steps) {
    trainer.dispose();
    return null;
  }
  const dir = req.out;
  await saveLayersModel(trainer.exportModel, dir);
  const last = [...trainer.history].reverse().find((p) => p.valPsnr !== undefined);
  const lastIou = [...trainer.history].reverse().find((p) => p.valIou !== undefined);
  const card: ModelCard = {
    id: req.id,
    name: task === 'detect' ? 'Restora scratch detection' : task === 'inpaint' ? 'Restora damage inpainting' : preset === 'bicubic' ? `Restora x${scale}` : `Restora ${preset} x${scale}`,
    arch: config.arch,
    archOptions: config.archOptions,
    scale,
    params: trainer.exportModel.countParams(),
    task: task === 'detect' ? 'detect-damage' : task === 'inpaint' ? 'inpaint' : preset === 'bicubic' ? 'upscale' : 'restore',
    trainingData: `${trainImages.length} photos from ${req.dataSource ?? req.dataDir}`,
    degradation:
      task !== 'restore'
        ? 'old-photo, then scratches, creases, dust and torn corners with their masks (src/main/degrade/defects.ts)'
        : preset === 'bicubic'
          ? 'bicubic (MATLAB imresize, antialiased)'
          : `${preset} (src/main/degrade/presets.ts), on the fly, seeded`,
    steps: config.steps + (req.priorSteps ?? 0),
    ...(task === 'restore'
      ? { metrics: last ? { 'heldout-val': { psnr: last.valPsnr!, ssim: last.valSsim! } } : {} }
      : { scores: { 'heldout-val-damaged': task === 'detect' ? { iou: lastIou?.valIou ?? NaN } : { psnrInsideMask: last?.valPsnr ?? NaN, ssim: last?.valSsim ?? NaN } } }),
    measuredWith: 'npx restora eval (see README)',
    date: new Date().toISOString().slice(0, 10),
    ...(req.license ? { license: req.license } : {}),
    notes:
      req.notes ??
      `${config.arch} ${JSON.stringify(config.archOptions)}, ${req.initFrom ? `initialised from ${req.initFrom}, ` : ''}batch ${config.batch}, LR patch ${config.patch}, ${config.loss.toUpperCase()}${config.ema ? `, EMA ${config.ema}` : ''}, Adam lr ${config.lr} cosine, seed ${config.seed}`,
  };
  writeCard(dir, card);
  fs.writeFileSync(path.join(dir, 'history.json'), JSON.stringify(trainer.history));
  trainer.dispose();
  return { dir, card };
}
