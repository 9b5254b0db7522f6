/**
 * Custom training, end to end: photos from the user's folders -> held-out split ->
 * on-the-fly degradation with a preset -> trainer (resumable) -> a model with its
 * card in the user's library. Every metric point is written to SQLite.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  runOutcome,
  type DatasetStats,
  type ModelCard,
  type PairPreview,
  type PresetId,
  type RunBaselines,
  type RunOutcome,
  type TeacherEstimate,
  type TeacherEstimateRequest,
  type TrainEstimate,
  type TrainingStage,
  type TrainRequest as SharedTrainRequest,
} from '../../shared/api.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import type { Db } from '../db/database.js';
import { degrade } from '../degrade/presets.js';
import { decodeRgbFloat } from '../imaging/decode.js';
import { crop, type FloatImage } from '../imaging/imresize.js';
import { enumerateInputs, hashFile } from '../imaging/inputs.js';
import { checkDecodes, probeImage, uprightSize } from '../imaging/io.js';
import sharp from 'sharp';
import type { BatchSource, PairImage } from '../ml/train/dataset.js';
import { taskOf } from '../ml/learning/tasks.js';
import { threadedDegradedSource } from '../ml/train/degradeLoader.js';
import { measure } from '../ml/eval/metrics.js';
import { bicubicOf, degradedPairs } from '../ml/eval/evaluate.js';
import { saveLayersModel, writeCard } from '../ml/store/modelStore.js';
import { Rng } from '../ml/core/rng.js';
import { ModelLibrary } from '../ml/store/modelLibrary.js';
import { bundledModelsDir } from '../paths.js';
import { DEFAULT_TRAINER_CONFIG, Trainer, validate, type MetricPoint, type TrainProgress, type TrainerConfig } from '../ml/train/trainer.js';
import { predictImage } from '../ml/infer/predict.js';
import { DEFAULT_GAN_CONFIG, GanTrainer, type GanConfig } from '../ml/train/gan.js';
import type * as tf from '@tensorflow/tfjs';
import type { Engine } from '../ml/engine/protocol.js';
import { DEFAULT_TEACHER_REGIONS, TEACHER_CONFIRM_SEC, TEACHER_MARGIN, TEACHER_REGION, TeacherPool, cachedRegionCount, loadTeacher, resolveTeacher, teacherCacheDir, timeTeacher, type FillProgress, type LoadedTeacher } from '../ml/train/teacher.js';
import * as tfjs from '@tensorflow/tfjs';
import { teacherCostRefusal } from '../ml/train/teacherCost.js';
import { checkRecipeRequest, recipeStages } from './recipes.js';
import { trainToFolder, type FolderTrainRequest } from './folderTraining.js';

/** The shared request, plus `resume` (continue the run of the same name). */
export type TrainRequest = SharedTrainRequest & { resume?: boolean };

/** The trainer's settings for a request: the run and its time estimate use the same ones. */
function trainerConfigFor(req: TrainRequest, patch: number, seed: number, init: { dir: string; card: ModelCard } | null, stageParts: { dir: string; prefix: string }[] | null): TrainerConfig {
  return {
    ...DEFAULT_TRAINER_CONFIG,
    arch: req.arch,
    archOptions: init ? init.card.archOptions : (req.archOptions ?? {}),
    scale: req.scale,
    steps: req.steps ?? 2000,
    ...(init ? { initFrom: init.dir } : {}),
    batch: req.batch ?? 16,
    patch,
    seed,
    validateEvery: Math.max(10, Math.round((req.steps ?? 2000) / 10)),
    // Short runs (a quick try in the wizard) must still reach the full learning rate.
    warmupSteps: Math.min(DEFAULT_TRAINER_CONFIG.warmupSteps, Math.max(1, Math.round((req.steps ?? 2000) / 20))),
    checkpointEvery: 50,
    ...(req.loss ? { loss: req.loss } : {}),
    ...(req.lr ? { lr: req.lr } : {}),
    ...(req.optimizer ? { optimizer: req.optimizer } : {}),
    ...(req.optimizer === 'sgd' && req.momentum !== undefined ? { momentum: req.momentum } : {}),
    ...(req.optimizer === 'sgd' && req.nesterov ? { nesterov: true } : {}),
    ...(req.weightDecay !== undefined ? { weightDecay: req.weightDecay } : {}),
    ...(req.ema ? { ema: req.ema } : {}),
    ...(req.klWeight !== undefined ? { klWeight: req.klWeight } : {}),
    ...(req.klWarmup !== undefined ? { klWarmup: req.klWarmup } : {}),
    ...(stageParts ? { initParts: stageParts } : {}),
    ...(req.schedule === 'step' ? { schedule: 'step' as const, milestones: [Math.round((req.steps ?? 2000) * 0.5), Math.round((req.steps ?? 2000) * 0.75)], gamma: 0.5 } : {}),
  };
}

const startScore = (q: { psnr: number; ssim: number }): RunBaselines => ({ start: q.psnr, startSsim: q.ssim });

/** Where the photos came from, for messages and the card: a Library selection lists hundreds of files. */
export function sourcesText(sources: readonly string[]): string {
  return sources.length <= 3 ? sources.join(', ') : `${sources.slice(0, 2).join(', ')} and ${(sources.length - 2).toLocaleString('en-US')} more`;
}

/** What a distillation run reports before and while its teacher labels the regions. */
export interface TeacherHooks {
  /** The measured cost, before anything is written (always measured when this is given). */
  onTeacherEstimate?: (e: TeacherEstimate) => void;
  onTeacherProgress?: (p: FillProgress & { etaSec: number }) => void;
}

/** What a recipe reports as it goes (besides each stage's steps, through onProgress). */
export interface RecipeHooks extends TeacherHooks {
  /** Before each stage: passed over (its model is installed), resumed or started. */
  onStage?: (s: TrainingStage) => void;
  /** After a stage trained, with its result. */
  onStageDone?: (s: TrainingStage, r: TrainResult) => void;
}

/** The student's inputs in words (for the card). */
function inputsText(preset: string, scale: number): string {
  return preset === 'none' ? 'the photos themselves' : `the photos degraded with the ${preset} preset at x${scale}`;
}

export interface TrainResult {
  modelId: string;
  modelDir: string;
  runDir: string;
  heldOut: { psnr: number; ssim: number };
  bicubic: { psnr: number; ssim: number };
  photos: { train: number; val: number; skipped: { path: string; reason: string }[] };
  /** Against bicubic and the start model: says plainly when the new model is worse. */
  outcome: RunOutcome;
}

/**
 * Reproducible held-out split of the user's photos: order by a hash of the path,
 * the first tenth (at least one) is validation. Adding photos moves few others.
 */
/**
 * An evaluation set the user asks for (e.g. Set5): every HR image of the folder,
 * degraded with the run's preset and seed 1000 + i, exactly as
 * `restora eval --degrade PRESET --seed 1` does, so the numbers compare.
 */
async function loadEvalSet(dir: string, scale: number, preset: PresetId): Promise<{ name: string; pairs: PairImage[]; bicubic: { psnr: number; ssim: number } }> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new RestoraError('USAGE', `${dir}: no images in that evaluation folder.`, dir, { hint: { cli: 'Check --eval-dir.' } });
  let pairs: PairImage[];
  try {
    pairs = await degradedPairs(dir, scale, preset, 1);
  } catch (err) {
    if (err instanceof RestoraError && err.code === 'USAGE') throw new RestoraError('USAGE', `${dir}: no images in that evaluation folder.`, dir, { hint: { cli: 'Check --eval-dir.' } });
    throw err;
  }
  const bicubic = { psnr: 0, ssim: 0 };
  for (const p of pairs) {
    const q = measure(bicubicOf(p.lr, scale), p.hr, Math.max(scale, 1));
    bicubic.psnr += q.psnr / pairs.length;
    bicubic.ssim += q.ssim / pairs.length;
  }
  return { name: `eval-${path.basename(path.resolve(dir))}`, pairs, bicubic };
}

function pruneOldPreviews(root: string, keep: number): void {
  const dirs = fs
    .readdirSync(root)
    .map((n) => ({ n, t: fs.statSync(path.join(root, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const d of dirs.slice(keep)) fs.rmSync(path.join(root, d.n), { recursive: true, force: true });
}

/** Held-out LR (nearest-upscaled) | model output | HR side by side, at most 160 px of HR. */
function sampleStrip(model: tf.LayersModel, pair: PairImage, scale: number): FloatImage {
  const side = Math.min(160, pair.hr.width, pair.hr.height);
  const s = side - (side % Math.max(scale, 1));
  const lrSide = s / Math.max(scale, 1);
  const lr = crop(pair.lr, 0, 0, lrSide, lrSide);
  const sr = predictImage(model, lr);
  const hr = crop(pair.hr, 0, 0, s, s);
  const gap = 4;
  const out: FloatImage = { width: 3 * s + 2 * gap, height: s, channels: 3, data: new Float32Array((3 * s + 2 * gap) * s * 3).fill(255) };
  const put = (img: FloatImage, x0: number, f: number) => {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const si = (Math.floor(y / f) * img.width + Math.floor(x / f)) * 3;
        const di = (y * out.width + x0 + x) * 3;
        out.data[di] = img.data[si]!;
        out.data[di + 1] = img.data[si + 1]!;
        out.data[di + 2] = img.data[si + 2]!;
      }
    }
  };
  put(lr, 0, Math.max(scale, 1));
  put(sr, s + gap, 1);
  put(hr, 2 * (s + gap), 1);
  return out;
}

async function writeImageAtomic(img: FloatImage, file: string): Promise<void> {
  const tmp = `${file}.${process.pid}.part`;
  await writePng(img, tmp);
  fs.renameSync(tmp, file);
}

async function writePng(img: FloatImage, file: string): Promise<void> {
  const bytes = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.max(0, Math.min(255, Math.round(img.data[i]!)));
  await sharp(bytes, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toFile(file);
}

export function heldOutSplit<T extends { file: string }>(photos: readonly T[]): { train: T[]; val: T[] } {
  const key = (p: T) => crypto.createHash('md5').update(p.file).digest('hex');
  const ordered = photos
    .map((p) => ({ p, k: key(p) }))
    .sort((a, b) => (a.k < b.k ? -1 : 1))
    .map(({ p }) => p);
  const nVal = Math.max(1, Math.floor(ordered.length / 10));
  return { val: ordered.slice(0, nVal), train: ordered.slice(nVal) };
}

const NAME = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u;

export class TrainService {
  constructor(
    private readonly db: Db,
    private readonly home: string,
    /** Opens the engine the steps run on (WebGPU in a Chromium page); absent = this thread's backend. */
    private readonly openEngine?: () => Promise<Engine | undefined>,
  ) {}

  /** Files already decoded to the last pixel by scan (key: path, size, modification time). */
  private readonly decoded = new Set<string>();

  async loadPhotos(dirs: readonly string[], minSide: number): Promise<{ photos: { file: string; img: FloatImage }[]; skipped: { path: string; reason: string }[] }> {
    const all = enumerateInputs(dirs, true);
    const entries = all.filter((e) => !e.missing);
    const skipped = all.filter((e) => e.missing).map((e) => ({ path: e.input, reason: 'no such file or folder' }));
    const photos: { file: string; img: FloatImage }[] = [];
    const seen = new Set<string>();
    for (const e of entries) {
      try {
        const hash = hashFile(e.input);
        if (seen.has(hash)) {
          skipped.push({ path: e.input, reason: 'duplicate of another photo' });
          continue;
        }
        seen.add(hash);
        const img = await decodeRgbFloat(e.input);
        if (Math.min(img.width, img.height) < minSide) {
          skipped.push({ path: e.input, reason: `${img.width}x${img.height} is smaller than the ${minSide}px training patch` });
          continue;
        }
        photos.push({ file: e.input, img });
      } catch (err) {
        skipped.push({ path: e.input, reason: errorMessage(err) });
      }
    }
    return { photos, skipped };
  }

  /**
   * What a dataset from these folders would be, from headers only (no decoding):
   * usable photos, the split, and every skipped file with why. Stored when named.
   */
  async inspect(dirs: readonly string[], scale: number, patch: number, name?: string): Promise<DatasetStats> {
    const minSide = patch * Math.max(scale, 1);
    const { usable, skipped } = await this.scan(dirs, minSide);
    const split = usable.length >= 2 ? heldOutSplit(usable) : { train: usable, val: [] };
    const stats: DatasetStats = { usable: usable.length, train: split.train.length, val: split.val.length, minSide, skipped };
    if (name) {
      const config = { dataDirs: dirs, scale, patch, train: split.train.map((p) => p.file), val: split.val.map((p) => p.file) };
      return { ...stats, id: this.saveDataset(name, config), name };
    }
    return stats;
  }

  /**
   * The usable photos in these folders (big enough, not a duplicate, and with `decode`
   * decodable to the last pixel) and every skipped file with why. The wizard scans again for
   * each preview, so a file's full decode is remembered while its size and time are unchanged.
   */
  private async scan(dirs: readonly string[], minSide: number, decode = true): Promise<{ usable: { file: string; hash: string }[]; skipped: { path: string; reason: string }[] }> {
    const all = enumerateInputs(dirs, true);
    const skipped = all.filter((e) => e.missing).map((e) => ({ path: e.input, reason: 'no such file or folder' }));
    const usable: { file: string; hash: string }[] = [];
    const seen = new Set<string>();
    for (const e of all.filter((x) => !x.missing)) {
      try {
        const info = await probeImage(e.input);
        const { width: w, height: h } = uprightSize(info);
        if (Math.min(w, h) < minSide) {
          skipped.push({ path: e.input, reason: `${w}x${h} is smaller than the ${minSide}px training patch` });
          continue;
        }
        const hash = hashFile(e.input);
        if (seen.has(hash)) {
          skipped.push({ path: e.input, reason: 'duplicate of another photo' });
          continue;
        }
        // A header can be fine and the data cut short: Preview and the steps would fail on it.
        if (decode) await this.checkDecodesOnce(e.input);
        seen.add(hash);
        usable.push({ file: e.input, hash });
      } catch (err) {
        skipped.push({ path: e.input, reason: errorMessage(err) });
      }
    }
    return { usable, skipped };
  }

  /** checkDecodes, remembered per file version (path, size, modification time). */
  private async checkDecodesOnce(file: string): Promise<void> {
    const st = fs.statSync(file);
    const key = `${file}\0${st.size}\0${st.mtimeMs}`;
    if (this.decoded.has(key)) return;
    await checkDecodes(file);
    this.decoded.add(key);
  }

  /**
   * Writes `count` seeded (LR, HR) pairs as PNGs under <home>/previews/<id>/ so the
   * wizard can show what the degradation does; returns their media paths.
   */
  async preview(dirs: readonly string[], preset: PresetId, scale: number, count: number, patch: number, seed: number): Promise<{ pairs: PairPreview[]; skipped: { path: string; reason: string }[] }> {
    // The same crop size training uses, so every photo training accepts can be previewed.
    const hp = Math.max(patch, 8) * Math.max(scale, 1);
    const { usable, skipped } = await this.scan(dirs, hp);
    const files = heldOutSplit(usable).train;
    if (files.length === 0) throw new RestoraError('USAGE', `No usable photos of ${hp}px or more in ${sourcesText(dirs)}.`);
    const id = crypto.randomBytes(8).toString('hex');
    const dir = path.join(this.home, 'previews', id);
    fs.mkdirSync(dir, { recursive: true });
    pruneOldPreviews(path.dirname(dir), 20);
    const rng = new Rng(seed);
    const pairs: PairPreview[] = [];
    const broken = new Set<string>();
    for (let n = 0, tries = 0; n < count && tries < count + files.length; tries++) {
      const file = files[tries % files.length]!.file;
      if (broken.has(file)) continue;
      // Scanned to the last pixel above; a file changed since is skipped the same way, never a 500.
      let img: FloatImage;
      try {
        img = await decodeRgbFloat(file);
      } catch (err) {
        broken.add(file);
        skipped.push({ path: file, reason: errorMessage(err) });
        continue;
      }
      const x = rng.int(img.width - hp + 1);
      const y = rng.int(img.height - hp + 1);
      const hr = crop(img, x, y, hp, hp);
      const lr = await degrade(hr, scale, preset, rng);
      await writePng(lr, path.join(dir, `${n}-lr.png`));
      await writePng(hr, path.join(dir, `${n}-hr.png`));
      pairs.push({ lr: `preview/${id}/${n}-lr.png`, hr: `preview/${id}/${n}-hr.png` });
      n++;
    }
    if (pairs.length === 0) throw new RestoraError('USAGE', `No photo in ${sourcesText(dirs)} could be decoded for a preview.`);
    return { pairs, skipped };
  }

  async train(
    req: TrainRequest,
    onProgress?: (p: TrainProgress) => void,
    signal?: AbortSignal,
    onRunId?: (runId: number) => void,
    /** Called after <runDir>/sample.png (held-out LR | model | HR) is rewritten at a validation step. */
    onSample?: (step: number) => void,
    hooks: TeacherHooks = {},
  ): Promise<TrainResult> {
    if (req.recipe) throw new RestoraError('USAGE', `The ${req.recipe} recipe trains several runs in order: run it with trainRecipe.`);
    if (!NAME.test(req.name)) throw new RestoraError('USAGE', `The run's name "${req.name}" must be letters, digits, '.', '_' or '-' (up to 64).`, undefined, { hint: { cli: 'Change --name.', studio: 'Change the Name field.' } });
    const patch = req.patch ?? 48;
    // The degraded VAE reconstructs LR photos degraded at x2 (its model works at x1 on them).
    const degradeScale = req.latentStage === 'degraded' ? 2 : req.scale;
    const hp = patch * degradeScale;
    const stageParts = this.latentParts(req);
    if (taskOf(req.arch, req.archOptions ?? {}) !== 'restore') {
      throw new RestoraError('USAGE', `The unet's ${String(req.archOptions?.head)} head is one of the damage nets; they train on masks with restora train --task detect|inpaint --out DIR.`);
    }
    const teacherModel = this.teacherFor(req, patch);
    // Without a teacher the inputs are always a degradation of the photos (their clean originals are the targets).
    const preset: PresetId = req.preset === 'none' ? 'bicubic' : req.preset;
    const init = req.initModel ? this.initModel(req) : null;
    // A teacher's region must fit: its LR side, in photo pixels (x the scale when the photo is degraded first).
    const minSide = teacherModel ? Math.max(patch, TEACHER_REGION) * (req.preset === 'none' ? 1 : req.scale) : hp;
    const { photos, skipped } = await this.loadPhotos(req.dataDirs, minSide);
    if (photos.length < 2) {
      throw new RestoraError('USAGE', `Need at least 2 usable photos of ${minSide}px or more in ${sourcesText(req.dataDirs)}; found ${photos.length}.`);
    }
    const { val: valPhotos, train: trainPhotos } = heldOutSplit(photos);
    const seed = req.seed ?? 1;
    const val: PairImage[] = [];
    const bic = { psnr: 0, ssim: 0 };
    // A teacher's held-out pairs are its own outputs on a region of each held-out photo (made with the pool, below).
    for (const [i, p] of teacherModel ? [] : valPhotos.entries()) {
      const side = Math.min(256, p.img.width, p.img.height);
      const s = side - (side % degradeScale);
      const crop0 = crop(p.img, Math.floor((p.img.width - s) / 2), Math.floor((p.img.height - s) / 2), s, s);
      const lr = await degrade(crop0, degradeScale, preset, new Rng(seed * 7919 + i));
      // The degraded VAE's target is its own (degraded) input.
      const hr = req.latentStage === 'degraded' ? lr : crop0;
      val.push({ name: p.file, hr, lr });
      const q = measure(bicubicOf(lr, req.scale), hr, Math.max(req.scale, 1));
      bic.psnr += q.psnr / valPhotos.length;
      bic.ssim += q.ssim / valPhotos.length;
    }
    const evalSet = req.evalDir ? await loadEvalSet(req.evalDir, req.scale, preset) : null;
    const config = trainerConfigFor(req, patch, seed, init, stageParts);
    const runDir = path.join(this.home, 'runs', req.name);
    const hasCheckpoint = fs.existsSync(path.join(runDir, 'checkpoint', 'state.json'));
    // A distillation stopped while its teacher was labelling regions has no checkpoint yet, but a cache to go on with.
    const hasTeacherCache = Boolean(teacherModel) && fs.existsSync(path.join(teacherCacheDir(runDir), 'pool.json'));
    if (hasCheckpoint && !req.resume)
      throw new RestoraError('USAGE', `A run named "${req.name}" exists in ${runDir}.`, undefined, { hint: { cli: 'Pass --resume to continue it, or choose another --name.', studio: 'Resume it in Runs, or give this run another name.' } });
    if (!hasCheckpoint && !hasTeacherCache && req.resume) throw new RestoraError('NOT_FOUND', `No run named "${req.name}" to resume in ${runDir}.`);
    // The teacher's pool: regions cached in the run's folder are read, nothing is written yet.
    const pool = teacherModel
      ? TeacherPool.open({
          runDir,
          teacher: teacherModel,
          scale: req.scale,
          inputs: req.preset,
          regions: req.teacherRegions ?? DEFAULT_TEACHER_REGIONS,
          seed,
          photos: trainPhotos,
          val: valPhotos,
        })
      : null;
    // Degradation runs on a loader thread, one batch ahead of the step.
    // Conditioned models read whole-image statistics: degrade a 96 px region around each patch.
    const degraded = pool
      ? { ...pool.source(), close: async () => undefined }
      : threadedDegradedSource(
          trainPhotos.map((p) => p.img),
          preset,
          config.archOptions.global ? Math.max(96, patch) : undefined,
        );
    const source: BatchSource & { close(): Promise<void> } =
      req.latentStage === 'degraded'
        ? {
            next: async (rng, batch, p) => {
              const b = await degraded.next(rng, batch, p, 2);
              return { ...b, hr: b.lr, scale: 1 };
            },
            close: () => degraded.close(),
          }
        : degraded;
    // An engine that cannot start (no Chromium, no adapter) fails the run with its reason before any step.
    const engine = this.openEngine
      ? await this.openEngine().catch(async (err: unknown) => {
          await source.close();
          throw err;
        })
      : undefined;
    // The teacher: its cost measured on one region and shown (or refused over an hour unconfirmed) before anything is written.
    let teacher: LoadedTeacher | null = null;
    if (pool && teacherModel && pool.missing > 0) {
      try {
        teacher = await loadTeacher(teacherModel, req.scale, engine);
        if (hooks.onTeacherEstimate || !req.teacherConfirmed) {
          const e = this.estimateOf(teacherModel.card.id, engine?.info.backend ?? tfjs.getBackend(), await timeTeacher(teacher.run, pool.teacherSide), pool.size + valPhotos.length, pool.cached);
          hooks.onTeacherEstimate?.(e);
          if (e.confirmNeeded && !req.teacherConfirmed) throw teacherCostRefusal(e);
        }
      } catch (err) {
        await teacher?.close();
        await source.close();
        await engine?.close();
        throw err;
      }
    }
    // Everything cached (a resumed run): said, and the teacher is not even loaded.
    if (pool && teacherModel && pool.missing === 0) hooks.onTeacherEstimate?.(this.estimateOf(teacherModel.card.id, engine?.info.backend ?? tfjs.getBackend(), 0, pool.size + valPhotos.length, pool.cached));
    const trainer = await Trainer.open(config, source, val, runDir, engine).catch(async (err: unknown) => {
      await teacher?.close();
      await source.close();
      await engine?.close();
      throw err;
    });
    const runId = this.upsertRun(req, config, runDir, this.recordDataset(req, patch, trainPhotos, valPhotos, skipped.length));
    onRunId?.(runId);
    if (pool) {
      try {
        if (teacher) {
          await pool.fill(teacher.run, {
            ...(signal ? { signal } : {}),
            onProgress: (p) => hooks.onTeacherProgress?.({ ...p, etaSec: ((p.total - p.done) * p.seconds) / Math.max(1, p.computed) }),
          });
        }
      } catch (err) {
        const paused = err instanceof RestoraError && err.code === 'CANCELLED';
        this.db.prepare("UPDATE training_runs SET state = ?, error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?").run(paused ? 'paused' : 'failed', paused ? null : errorMessage(err), runId);
        trainer.dispose();
        await source.close();
        await engine?.close();
        throw err;
      } finally {
        await teacher?.close();
      }
      // Held out: the student against the teacher on one region of each held-out photo, and bicubic against it.
      val.push(...pool.valPairs());
      for (const p of val) {
        const q = measure(bicubicOf(p.lr, req.scale), p.hr, req.scale);
        bic.psnr += q.psnr / val.length;
        bic.ssim += q.ssim / val.length;
      }
    }
    // Baselines the run must beat, on the same held-out pairs: bicubic, and the start model when fine-tuning
    // (measured before its first step; a resumed run keeps the ones stored when it started).
    const { start, startSsim } = this.runJson(runId).baselines ?? {};
    const baselines: RunBaselines = {
      ...(val.length && req.latentStage !== 'clean' && req.latentStage !== 'degraded' ? { bicubic: bic.psnr } : {}),
      ...(start !== undefined ? { start, startSsim } : init && val.length && !hasCheckpoint ? startScore(validate(trainer.exportModel, val, req.scale)) : {}),
    };
    this.updateRunJson(runId, { baselines });
    const insert = this.db.prepare('INSERT OR REPLACE INTO metric_points (run_id, step, wall_ms, loss, lr, val_psnr, val_ssim, g_loss, d_loss, eval_psnr, eval_ssim, recon, kl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    // With an evaluation set (e.g. Set5), every validation point is also scored on it.
    const withEval = (p: MetricPoint, model: tf.LayersModel): MetricPoint => {
      if (!evalSet || p.valPsnr === undefined) return p;
      const q = validate(model, evalSet.pairs, req.scale);
      return { ...p, evalPsnr: q.psnr, evalSsim: q.ssim };
    };
    const insertPoint = (p: MetricPoint) => insert.run(runId, p.step, p.wallMs, p.loss, p.lr, p.valPsnr ?? null, p.valSsim ?? null, p.gLoss ?? null, p.dLoss ?? null, p.evalPsnr ?? null, p.evalSsim ?? null, p.recon ?? null, p.kl ?? null);
    // GAN stage: after pixel-loss pretraining, half as many adversarial fine-tuning steps.
    const ganSteps = req.gan ? Math.max(1, Math.round(config.steps / 2)) : 0;
    const total = config.steps + ganSteps;
    let final: tf.LayersModel = trainer.exportModel;
    let gan: GanTrainer | null = null;
    const setState = this.db.prepare("UPDATE training_runs SET state = ?, error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?");
    let sampling = Promise.resolve();
    const sample = (model: tf.LayersModel, step: number) => {
      // Predict now (the weights of this step), encode in the background; one write at a time.
      const strip = sampleStrip(model, val[0]!, req.scale);
      sampling = sampling
        .then(() => writeImageAtomic(strip, path.join(runDir, 'sample.png')))
        .then(() => onSample?.(step))
        .catch(() => undefined); // a sample is a convenience; never fail the run over it
    };
    try {
      await trainer.run({
        ...(signal ? { signal } : {}),
        onProgress: (p) => {
          const point = p.point ? withEval(p.point, trainer.exportModel) : undefined;
          if (point) insertPoint(point);
          if (point?.valPsnr !== undefined && val[0]) sample(trainer.exportModel, p.step);
          onProgress?.({ ...p, steps: total, etaSec: p.etaSec + ganSteps / Math.max(p.stepsPerSec, 1e-9), ...(point ? { point } : {}) });
        },
      });
      if (req.gan) {
        // The pretrained generator is frozen on disk once, so a resumed GAN phase starts from the same weights.
        const pretrained = path.join(runDir, 'pretrained');
        if (!fs.existsSync(path.join(pretrained, 'model.json'))) {
          fs.rmSync(`${pretrained}.tmp`, { recursive: true, force: true });
          await saveLayersModel(trainer.exportModel, `${pretrained}.tmp`);
          fs.renameSync(`${pretrained}.tmp`, pretrained);
        }
        const ganConfig: GanConfig = {
          ...DEFAULT_GAN_CONFIG,
          arch: req.arch,
          archOptions: trainer.config.archOptions,
          scale: req.scale,
          steps: ganSteps,
          batch: Math.min(config.batch, 8),
          patch,
          seed,
          validateEvery: Math.max(10, Math.round(ganSteps / 5)),
          checkpointEvery: 25,
        };
        gan = await GanTrainer.open(ganConfig, source, val, path.join(runDir, 'gan'), pretrained);
        await gan.run({
          ...(signal ? { signal } : {}),
          onProgress: (p) => {
            // Steps continue after pretraining's, so metric_points keeps one row per step.
            const point = p.point && gan ? withEval({ ...p.point, step: config.steps + p.point.step }, gan.generator) : undefined;
            if (point) insertPoint(point);
            if (point?.valPsnr !== undefined && gan && val[0]) sample(gan.generator, point.step);
            onProgress?.({ ...p, step: config.steps + p.step, steps: total, ...(point ? { point } : {}) });
          },
        });
        final = gan.generator;
      }
    } catch (err) {
      const paused = err instanceof RestoraError && err.code === 'CANCELLED';
      setState.run(paused ? 'paused' : 'failed', paused ? null : errorMessage(err), runId);
      throw err;
    } finally {
      await source.close();
      // The GAN stage and everything after run here, on the trainer's mirror of the weights.
      await engine?.close();
    }
    await sampling;
    const q = validate(final, val, req.scale);
    const outcome = runOutcome(q.psnr, baselines);
    this.updateRunJson(runId, { outcome });
    const modelId = req.name;
    const modelDir = path.join(this.home, 'models', modelId);
    await saveLayersModel(final, modelDir);
    const card: ModelCard = {
      id: modelId,
      name: req.name,
      arch: req.arch,
      archOptions: trainer.config.archOptions,
      scale: req.scale,
      params: final.countParams(),
      task: req.scale === 1 ? 'restore' : 'upscale',
      trainingData: `${trainPhotos.length} photos from ${sourcesText(req.dataDirs)}${teacherModel && pool ? ` (targets: ${teacherModel.card.id}'s outputs on ${pool.size} regions of ${TEACHER_REGION}px, inputs ${inputsText(req.preset, req.scale)})` : ''}`,
      degradation: req.preset === 'none' ? 'none (the photos themselves)' : req.preset,
      steps: total,
      ...(req.gan || init || outcome.verdict
        ? {
            notes: [
              outcome.verdict,
              init ? `fine-tuned from ${init.card.name} (${init.card.id})` : '',
              req.gan ? `pixel-loss ${init ? 'fine-tuning' : 'pretraining'} ${config.steps} steps, then GAN stage ${ganSteps} steps (relativistic adversarial + discriminator feature matching)` : '',
            ]
              .filter(Boolean)
              .join('; '),
          }
        : {}),
      ...(init ? { lineage: [{ id: init.card.id, name: init.card.name, ...(init.card.source?.files[0] ? { sha256: init.card.source.files[0].sha256 } : {}) }, ...(init.card.lineage ?? [])] } : {}),
      ...(init?.card.license ? { license: `weights derived from ${init.card.id}: ${init.card.license}` } : {}),
      ...(teacherModel && pool
        ? {
            teacher: {
              id: teacherModel.card.id,
              name: teacherModel.card.name,
              scale: teacherModel.card.scale,
              ...(teacherModel.card.scale !== req.scale ? { downscaled: true } : {}),
              ...(teacherModel.card.license ? { license: teacherModel.card.license } : {}),
              ...(teacherModel.card.source ? { source: teacherModel.card.source } : {}),
              regions: pool.size,
              regionSide: TEACHER_REGION,
              inputs: inputsText(req.preset, req.scale),
            },
            // Both sources of the weights, when a fine-tune learns from a teacher.
            license: [init?.card.license ? `weights derived from ${init.card.id}: ${init.card.license}` : '', `weights distilled from ${teacherModel.card.id}${teacherModel.card.license ? ` (${teacherModel.card.license})` : ''}`]
              .filter(Boolean)
              .join('; '),
          }
        : {}),
      metrics: {
        // A distilled model is held out against its teacher (there is no clean original).
        [teacherModel ? 'heldout-teacher' : 'heldout']: { psnr: q.psnr, ssim: q.ssim },
        ...(baselines.start !== undefined ? { [teacherModel ? 'heldout-teacher-start' : 'heldout-start']: { psnr: baselines.start, ssim: baselines.startSsim ?? Number.NaN } } : {}),
        // An autoencoder stage's input is its target: no baseline to beat.
        ...(req.latentStage === 'clean' || req.latentStage === 'degraded' ? {} : { [teacherModel ? 'heldout-teacher-bicubic' : 'heldout-bicubic']: bic }),
        ...(evalSet ? { [evalSet.name]: validate(final, evalSet.pairs, req.scale), [`${evalSet.name}-bicubic`]: evalSet.bicubic } : {}),
      },
      measuredWith: teacherModel
        ? `restora train --teacher ${teacherModel.card.id} (held-out ${valPhotos.length} photo(s), centre ${TEACHER_REGION} px LR region, inputs ${inputsText(req.preset, req.scale)}, seed ${seed}; reference: the teacher's output)`
        : `restora train (held-out ${valPhotos.length} photo(s), centre 256 px, ${req.preset} degradation seed ${seed})`,
      date: new Date().toISOString().slice(0, 10),
    };
    writeCard(modelDir, card);
    this.db.prepare('INSERT OR REPLACE INTO models (id, source, dir, card_json) VALUES (?, ?, ?, ?)').run(modelId, 'trained', modelDir, JSON.stringify(card));
    setState.run('done', null, runId);
    this.db.prepare('UPDATE training_runs SET model_id = ? WHERE id = ?').run(modelId, runId);
    gan?.dispose();
    trainer.dispose();
    return { modelId, modelDir, runDir, heldOut: q, bicubic: bic, photos: { train: trainPhotos.length, val: valPhotos.length, skipped }, outcome };
  }

  /**
   * A training recipe (request.recipe, e.g. vae-latent): its stages trained in order, each the
   * next one's start. A stage whose model is installed is passed over, one whose run has a
   * checkpoint resumes, the rest start; so running the recipe again takes it up where it
   * stopped, and a finished recipe trains nothing. `hooks.onStage` says which stage runs;
   * the other callbacks are each stage's, as for train(). Returns the stages it trained.
   */
  async trainRecipe(
    req: TrainRequest,
    onProgress?: (p: TrainProgress, stage: TrainingStage) => void,
    signal?: AbortSignal,
    onRunId?: (runId: number, stage: TrainingStage) => void,
    onSample?: (step: number, stage: TrainingStage) => void,
    hooks: RecipeHooks = {},
  ): Promise<{ modelId: string; results: TrainResult[] }> {
    const recipe = req.recipe;
    if (!recipe) throw new RestoraError('USAGE', 'No training recipe in the request.');
    checkRecipeRequest(recipe, req);
    const base: TrainRequest = { ...req, resume: false };
    delete base.recipe;
    const stages = recipeStages(recipe, base, req.patch ?? 48);
    const results: TrainResult[] = [];
    for (const [i, stage] of stages.entries()) {
      const installed = this.library()
        .list()
        .some((m) => m.card.id === stage.name);
      const resume = !installed && fs.existsSync(path.join(this.home, 'runs', stage.name, 'checkpoint', 'state.json'));
      const info: TrainingStage = { recipe, name: stage.name, stage: stage.latentStage!, index: i + 1, total: stages.length, status: installed ? 'installed' : resume ? 'resuming' : 'starting' };
      hooks.onStage?.(info);
      if (installed) continue;
      if (signal?.aborted) throw new RestoraError('CANCELLED', `Training stopped before the recipe's ${info.stage} stage (${info.name}).`);
      const result = await this.train({ ...stage, resume }, onProgress && ((p) => onProgress(p, info)), signal, onRunId && ((id) => onRunId(id, info)), onSample && ((step) => onSample(step, info)), hooks);
      results.push(result);
      hooks.onStageDone?.(info, result);
    }
    return { modelId: stages.at(-1)!.name, results };
  }

  /**
   * A model trained into a folder rather than the library (restora train --out DIR), as the
   * bundled models are made, the damage nets (task detect, inpaint) included: photos from
   * DATA/train and DATA/val, its checkpoints in `req.runDir`; see folderTraining.ts.
   */
  trainToFolder(req: FolderTrainRequest, onProgress?: (p: TrainProgress) => void, signal?: AbortSignal): ReturnType<typeof trainToFolder> {
    return trainToFolder(req, onProgress, signal);
  }

  private library(): ModelLibrary {
    return new ModelLibrary(bundledModelsDir(), path.join(this.home, 'models'));
  }

  /** The run's teacher (usage errors name the choices), or null; checks what goes with it. */
  private teacherFor(req: TrainRequest, patch: number): ReturnType<typeof resolveTeacher> | null {
    if (!req.teacher) {
      if (req.preset === 'none')
        throw new RestoraError('USAGE', 'Learning from the photos themselves (no degradation) needs a teacher: without one there is no target to learn.', undefined, {
          hint: { cli: 'Add --teacher MODEL, or pick a --preset.', studio: 'Pick a teacher model, or a degradation preset.' },
        });
      if (req.teacherDownscale || req.teacherRegions !== undefined)
        throw new RestoraError('USAGE', "The teacher's downscale and regions go with a teacher.", undefined, { hint: { cli: '--teacher-downscale and --teacher-regions need --teacher MODEL.' } });
      return null;
    }
    if (req.latentStage) throw new RestoraError('USAGE', 'The VAE latent recipe cannot learn from a teacher.', undefined, { hint: { cli: 'Leave --teacher out.', studio: 'Choose no teacher.' } });
    const m = resolveTeacher(this.library().list(), req.teacher, req.scale, req.teacherDownscale);
    if (patch > TEACHER_REGION)
      throw new RestoraError('USAGE', `The patch (${patch} px) is larger than the teacher's ${TEACHER_REGION} px regions.`, undefined, {
        hint: { cli: `Use --patch ${TEACHER_REGION} or less.`, studio: `Set the patch to ${TEACHER_REGION} px or less.` },
      });
    return m;
  }

  private estimateOf(teacher: string, backend: string, secondsPerRegion: number, regions: number, cached: number): TeacherEstimate {
    const toCompute = Math.max(0, regions - cached);
    const seconds = secondsPerRegion * toCompute;
    return { teacher, backend, secondsPerRegion, regionSide: TEACHER_REGION + 2 * TEACHER_MARGIN, regions, cached, toCompute, seconds, confirmNeeded: seconds > TEACHER_CONFIRM_SEC };
  }

  /**
   * The run's time here, measured: its model, batch, patch and degradation on (up to 4 of) its
   * photos, one untimed step (kernels compile, the loader fills), then steps timed until 3 are
   * done or 15 s have passed. Validation points add a little; a GAN stage is not included.
   */
  async estimateSteps(req: TrainRequest): Promise<TrainEstimate> {
    if (req.recipe) {
      // A recipe is timed on its first stage (the clean-photo VAE, the largest patches); each stage has the run's steps.
      checkRecipeRequest(req.recipe, req);
      const base: TrainRequest = { ...req };
      delete base.recipe;
      return this.estimateSteps(recipeStages(req.recipe, base, req.patch ?? 48)[0]!);
    }
    const patch = req.patch ?? 48;
    const hp = patch * (req.latentStage === 'degraded' ? 2 : req.scale);
    const init = req.initModel ? this.initModel(req) : null;
    // Headers only: the timing needs 4 photos, not the whole set decoded (a broken one is passed over).
    const { usable } = await this.scan(req.dataDirs, hp, false);
    const photos: FloatImage[] = [];
    for (const u of usable) {
      if (photos.length === 4) break;
      try {
        photos.push(await decodeRgbFloat(u.file));
      } catch {
        // cut short after its header: Inspect lists it; the timing takes the next photo
      }
    }
    if (photos.length === 0) throw new RestoraError('USAGE', `No usable photos of ${hp}px or more in ${sourcesText(req.dataDirs)} to time a step on.`);
    const config: TrainerConfig = { ...trainerConfigFor(req, patch, req.seed ?? 1, init, this.latentParts(req)), validateEvery: Number.MAX_SAFE_INTEGER, checkpointEvery: Number.MAX_SAFE_INTEGER };
    const preset: PresetId = req.preset === 'none' ? 'bicubic' : req.preset;
    const source = threadedDegradedSource(photos, preset, config.archOptions.global ? Math.max(96, patch) : undefined);
    const scratch = path.join(this.home, 'tmp');
    fs.mkdirSync(scratch, { recursive: true });
    const dir = fs.mkdtempSync(path.join(scratch, 'estimate-'));
    try {
      const trainer = await Trainer.open(config, source, [], dir);
      try {
        await trainer.nextStep();
        const t0 = performance.now();
        let timed = 0;
        while (timed < 3 && (timed === 0 || performance.now() - t0 < 15_000)) {
          await trainer.nextStep();
          timed++;
        }
        const secondsPerStep = (performance.now() - t0) / 1000 / timed;
        const steps = config.steps;
        return {
          secondsPerStep,
          timedSteps: timed,
          steps,
          minutes: (steps * secondsPerStep) / 60,
          stepsFor30Min: Math.max(10, Math.round(1800 / secondsPerStep / 10) * 10),
          backend: tfjs.getBackend(),
        };
      } finally {
        trainer.dispose();
      }
    } finally {
      await source.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * The teacher's cost for a run, measured here on one region (random pixels: a conv net's
   * time does not depend on them), times the regions its folder does not cache yet. Reads
   * photo headers only and writes nothing.
   */
  async estimateTeacher(req: TeacherEstimateRequest): Promise<TeacherEstimate> {
    const model = resolveTeacher(this.library().list(), req.teacher, req.scale, req.teacherDownscale);
    const minSide = TEACHER_REGION * (req.preset === 'none' ? 1 : req.scale);
    // Headers only, as before: the teacher's cost counts regions, it does not decode the photos.
    const { usable } = await this.scan(req.dataDirs, minSide, false);
    if (usable.length < 2) throw new RestoraError('USAGE', `Need at least 2 usable photos of ${minSide}px or more in ${sourcesText(req.dataDirs)}; found ${usable.length}.`);
    const regions = (req.teacherRegions ?? DEFAULT_TEACHER_REGIONS) + heldOutSplit(usable).val.length;
    const cached = req.name && NAME.test(req.name) ? cachedRegionCount(path.join(this.home, 'runs', req.name), model.card.id, req.teacherRegions ?? DEFAULT_TEACHER_REGIONS) : 0;
    const engine = this.openEngine ? await this.openEngine() : undefined;
    try {
      const teacher = await loadTeacher(model, req.scale, engine);
      try {
        return this.estimateOf(model.card.id, engine?.info.backend ?? tfjs.getBackend(), await timeTeacher(teacher.run, TEACHER_REGION + 2 * TEACHER_MARGIN), regions, cached);
      } finally {
        await teacher.close();
      }
    } finally {
      await engine?.close();
    }
  }

  /**
   * Stores the photos a run trains and validates on as the dataset "run:<name>", so a
   * model can always be traced back to its data, even after the folders change.
   */
  private recordDataset(req: TrainRequest, patch: number, train: readonly { file: string }[], val: readonly { file: string }[], skipped: number): number {
    const name = `run:${req.name}`;
    return this.saveDataset(name, { dataDirs: req.dataDirs, scale: req.scale, patch, preset: req.preset, ...(req.teacher ? { teacher: req.teacher } : {}), train: train.map((p) => p.file), val: val.map((p) => p.file), skipped });
  }

  /** Inserts or replaces a named dataset; returns its id. */
  private saveDataset(name: string, config: object): number {
    this.db.prepare('INSERT INTO datasets (name, config_json) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET config_json = excluded.config_json').run(name, JSON.stringify(config));
    return (this.db.prepare('SELECT id FROM datasets WHERE name = ?').get(name) as { id: number }).id;
  }

  /**
   * The mapping stage's two VAEs (the models <name>-clean and <name>-degraded), checked
   * against its options; null for any other run.
   */
  private latentParts(req: TrainRequest): { dir: string; prefix: string }[] | null {
    if (req.latentStage !== 'mapping') {
      if (req.arch === 'vae-mapping') throw new RestoraError('USAGE', 'vae-mapping is the last stage of the VAE latent recipe, trained by the recipe.', undefined, { hint: { cli: 'Train it with --recipe vae-latent.' } });
      return null;
    }
    const models = new ModelLibrary(bundledModelsDir(), path.join(this.home, 'models'));
    const parts: { dir: string; prefix: string }[] = [];
    for (const [stage, prefix] of [
      ['clean', 'clean_'],
      ['degraded', 'deg_'],
    ] as const) {
      const id = `${req.name}-${stage}`;
      let m;
      try {
        m = models.get(id);
      } catch {
        throw new RestoraError('USAGE', `The mapping stage needs its two VAEs, and the ${stage}-photo VAE "${id}" is not trained yet: run the recipe's ${stage} stage first.`, undefined, {
          hint: { cli: 'restora train --recipe vae-latent trains all three in order.' },
        });
      }
      if (m.card.arch !== 'vae') throw new RestoraError('USAGE', `"${id}" is a ${m.card.arch} model, not the recipe's ${stage}-photo VAE.`);
      for (const k of ['channels', 'latent', 'blocks'] as const) {
        if (req.archOptions?.[k] !== undefined && m.card.archOptions[k] !== req.archOptions[k]) {
          throw new RestoraError('USAGE', `"${id}" has ${k} ${String(m.card.archOptions[k])}, the mapping stage ${String(req.archOptions[k])}: the three stages must share them.`);
        }
      }
      parts.push({ dir: m.dir, prefix });
    }
    return parts;
  }

  /** The model a fine-tune starts from: it must be trainable here and match the request. */
  private initModel(req: TrainRequest): { dir: string; card: ModelCard } {
    const m = new ModelLibrary(bundledModelsDir(), path.join(this.home, 'models')).get(req.initModel!);
    if (m.card.scale !== req.scale)
      throw new RestoraError('USAGE', `The start model ${m.card.id} upscales x${m.card.scale}; this run is x${req.scale}.`, undefined, {
        hint: { cli: `Use --scale ${m.card.scale}, or another --init.`, studio: `Pick x${m.card.scale}, or another start model.` },
      });
    if (m.card.arch !== req.arch)
      throw new RestoraError('USAGE', `The start model ${m.card.id} is a ${m.card.arch} model; this run's architecture is ${req.arch}.`, undefined, { hint: { cli: "Leave --arch out to take the model's.", studio: "Pick the model's architecture." } });
    if (m.card.arch === 'imported') throw new RestoraError('USAGE', `${m.card.id} was imported as a bare tfjs model of unknown architecture and cannot be fine-tuned.`);
    if (req.archOptions && Object.keys(req.archOptions).length)
      throw new RestoraError('USAGE', `The start model ${m.card.id} fixes the architecture's options.`, undefined, { hint: { cli: 'Leave --opt out.', studio: 'Leave the architecture options as they are.' } });
    return m;
  }

  /** The run's stored settings and findings (a resume keeps the start model's score measured when it started). */
  private runJson(runId: number): { baselines?: RunBaselines } & Record<string, unknown> {
    const row = this.db.prepare('SELECT config_json FROM training_runs WHERE id = ?').get(runId) as { config_json: string } | undefined;
    return row ? (JSON.parse(row.config_json) as { baselines?: RunBaselines }) : {};
  }

  private updateRunJson(runId: number, patch: Record<string, unknown>): void {
    this.db.prepare('UPDATE training_runs SET config_json = ? WHERE id = ?').run(JSON.stringify({ ...this.runJson(runId), ...patch }), runId);
  }

  private upsertRun(req: TrainRequest, config: TrainerConfig, runDir: string, datasetId: number): number {
    const row = this.db.prepare('SELECT id, config_json FROM training_runs WHERE run_dir = ?').get(runDir) as { id: number; config_json: string } | undefined;
    const request: Partial<TrainRequest> = { ...req };
    delete request.resume;
    const before = row ? (JSON.parse(row.config_json) as { baselines?: RunBaselines }) : {};
    const json = JSON.stringify({ ...config, preset: req.preset, data: req.dataDirs, request, ...(before.baselines ? { baselines: before.baselines } : {}) });
    if (row) {
      this.db.prepare("UPDATE training_runs SET state = 'running', error = NULL, config_json = ?, steps = ?, dataset_id = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?").run(json, config.steps, datasetId, row.id);
      return row.id;
    }
    return Number(this.db.prepare("INSERT INTO training_runs (name, config_json, state, run_dir, steps, dataset_id) VALUES (?, ?, 'running', ?, ?, ?)").run(req.name, json, runDir, config.steps, datasetId).lastInsertRowid);
  }

  history(name: string): { step: number; loss: number; lr: number; valPsnr: number | null; valSsim: number | null }[] {
    return this.db.prepare('SELECT step, loss, lr, val_psnr AS valPsnr, val_ssim AS valSsim FROM metric_points WHERE run_id = (SELECT id FROM training_runs WHERE name = ? ORDER BY id DESC LIMIT 1) ORDER BY step').all(name) as {
      step: number;
      loss: number;
      lr: number;
      valPsnr: number | null;
      valSsim: number | null;
    }[];
  }
}
