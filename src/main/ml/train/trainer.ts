/**
 * Trainer core: seeded patch sampling, pixel loss, Adam or AdamW with warm-up +
 * cosine or step LR, optional EMA of the weights, periodic validation on held-out
 * photos, atomic checkpoints and exact resume (weights, optimizer moments, EMA,
 * RNG state, history). Runs wherever it is called; the app runs it inside a
 * worker thread. With a compute engine (WebGPU in a Chromium page) the steps run
 * there and this model is a mirror, refreshed before each validation and checkpoint.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildArch, getTrainableArch, type ArchOptions } from '../archs/index.js';
import { predictImage } from '../infer/predict.js';
import { ADAM, createOptimizer, restoreOptimizer, type OptimizerSpec } from '../core/optimizers.js';
import { pairSource, type BatchSource, type Batch, type PairImage } from './dataset.js';
import type { PixelLoss } from '../learning/losses.js';
import { decayedKernels, optimiseStep } from '../learning/step.js';
import { bestThreshold, latentSampler, maskedPsnr, taskOf, withMask, type TrainTask } from '../learning/tasks.js';
import { Rng } from '../core/rng.js';
import { WeightEma } from '../core/ema.js';
import { measure } from '../eval/metrics.js';
import { decodeNamedTensors, encodeNamedTensors, loadLayersModel, saveLayersModel } from '../store/modelStore.js';
import { writeFileAtomic } from '../../imaging/atomic.js';
import { RestoraError } from '../../../shared/errors.js';
import type { TrainingLive } from '../../../shared/api.js';
import type { FloatImage } from '../../imaging/imresize.js';
import { expectReply, type Engine, type WeightSpec } from '../engine/protocol.js';

export interface TrainerConfig {
  arch: string;
  archOptions: ArchOptions;
  scale: number;
  steps: number;
  batch: number;
  /** LR patch side in pixels. */
  patch: number;
  lr: number;
  lrMin: number;
  warmupSteps: number;
  loss: PixelLoss;
  seed: number;
  validateEvery: number;
  checkpointEvery: number;
  /** Start a new run from this model folder's weights (same architecture) instead of random ones. */
  initFrom?: string;
  /**
   * The options below are optional so that configs and checkpoints written before
   * they existed mean exactly what they meant then (Adam, cosine, no EMA).
   * 'adamw': Adam plus decoupled weight decay (Loshchilov & Hutter) on kernels.
   */
  optimizer?: 'adam' | 'adamw' | 'sgd';
  /** SGD's momentum (default 0.9) and whether it is Nesterov's. */
  momentum?: number;
  nesterov?: boolean;
  /** AdamW decay per unit of learning rate: w -= lr * weightDecay * w after each step. */
  weightDecay?: number;
  /** LR after warm-up: cosine to lrMin, or 'step': lr * gamma^(milestones passed). */
  schedule?: 'cosine' | 'step';
  /** Absolute steps at which the 'step' schedule multiplies the LR by gamma. */
  milestones?: number[];
  gamma?: number;
  /** EMA decay of the weights (e.g. 0.999); 0 or absent = off. The EMA model is validated and exported. */
  ema?: number;
  /** VAEs: weight of the KL term (per latent element) after warm-up, and the steps over which it rises from 0. */
  klWeight?: number;
  klWarmup?: number;
  /**
   * A composite model's parts (the VAE latent mapping): weights copied from trained models
   * into the layers named `prefix` + their name; layers the new model lacks are skipped.
   */
  initParts?: { dir: string; prefix: string }[];
}

/**
 * 1e-5, not the 1e-3 first tried: at 1e-3 the latent of an x2 VAE collapsed to the prior by
 * step 1,000 and the model scored exactly bicubic (docs/models/vae.md).
 */
export const DEFAULT_KL_WEIGHT = 1e-5;

export const DEFAULT_TRAINER_CONFIG: Omit<TrainerConfig, 'arch' | 'scale'> = {
  archOptions: {},
  steps: 1000,
  batch: 16,
  patch: 48,
  lr: 1e-3,
  lrMin: 1e-5,
  warmupSteps: 100,
  loss: 'l1',
  seed: 1,
  validateEvery: 250,
  checkpointEvery: 250,
  optimizer: 'adam',
  weightDecay: 0,
  schedule: 'cosine',
  milestones: [],
  gamma: 0.5,
  ema: 0,
};

export interface MetricPoint {
  step: number;
  wallMs: number;
  loss: number;
  lr: number;
  valPsnr?: number;
  valSsim?: number;
  /** GAN stage only: generator total loss and discriminator loss. */
  gLoss?: number;
  dLoss?: number;
  /** VAEs: the reconstruction loss and the KL per latent element (loss = recon + weight * kl). */
  recon?: number;
  kl?: number;
  /** Scratch detection: intersection over union of the mask on the validation photos, at the best threshold (tasks.ts bestThreshold). */
  valIou?: number;
  /** On the evaluation set the user asked for (e.g. Set5), at validation steps. */
  evalPsnr?: number;
  evalSsim?: number;
}

export interface TrainProgress extends TrainingLive {
  point?: MetricPoint;
}

interface CheckpointState {
  version: 1;
  config: TrainerConfig;
  step: number;
  rng: number[];
  elapsedMs: number;
  history: MetricPoint[];
}

export function learningRateAt(c: TrainerConfig, step: number): number {
  if (step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  if (c.schedule === 'step') {
    const passed = (c.milestones ?? []).filter((m) => step >= m).length;
    return c.lr * (c.gamma ?? 0.5) ** passed;
  }
  const t = Math.min(1, (step - c.warmupSteps) / Math.max(1, c.steps - c.warmupSteps));
  return c.lrMin + 0.5 * (c.lr - c.lrMin) * (1 + Math.cos(Math.PI * t));
}

/**
 * Copies every layer's weights from `from` into `to`. `to` may have extra layers
 * named cond_* (whole-image conditioning, zero-initialised) that `from` lacks: a
 * conditioned model then starts as the same function as the plain one.
 */
function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  const source = new Map(from.layers.filter((l) => l.weights.length > 0).map((l) => [l.name, l]));
  for (const layer of to.layers) {
    if (layer.weights.length === 0) continue;
    const src = source.get(layer.name);
    if (src) {
      layer.setWeights(src.getWeights());
      source.delete(layer.name);
    } else if (!layer.name.startsWith('cond_')) {
      throw new Error(`no weights for layer ${layer.name}`);
    }
  }
  if (source.size > 0) throw new Error(`layers ${[...source.keys()].join(', ')} have no place in the new model`);
}

export function validate(model: tf.LayersModel, pairs: readonly PairImage[], scale: number): { psnr: number; ssim: number } {
  let psnr = 0;
  let ssim = 0;
  for (const p of pairs) {
    const q = measure(predictImage(model, p.lr), p.hr, scale);
    psnr += q.psnr;
    ssim += q.ssim;
  }
  return { psnr: psnr / pairs.length, ssim: ssim / pairs.length };
}

/**
 * The validation scores of a model by its task (tasks.ts): PSNR/SSIM of the restored
 * photos; the inpainter's PSNR inside the masks (outside them it passes pixels through)
 * and whole-photo SSIM; the detector's IoU over all validation pixels.
 */
export function validateTask(model: tf.LayersModel, pairs: readonly PairImage[], scale: number, task: TrainTask): Pick<MetricPoint, 'valPsnr' | 'valSsim' | 'valIou'> {
  if (task === 'restore') {
    const q = validate(model, pairs, scale);
    return { valPsnr: q.psnr, valSsim: q.ssim };
  }
  let psnr = 0;
  let ssim = 0;
  const detected: { prob: FloatImage; mask: Uint8Array }[] = [];
  for (const p of pairs) {
    if (!p.mask) throw new Error(`validation pair ${p.name} has no damage mask`);
    if (task === 'detect') {
      detected.push({ prob: predictImage(model, p.lr), mask: p.mask });
    } else {
      const out = predictImage(model, withMask(p.lr, p.mask));
      psnr += maskedPsnr(out, p.hr, p.mask);
      ssim += measure(out, p.hr, 1).ssim;
    }
  }
  // The detector's IoU at its best threshold on these photos (the one its card will keep).
  return task === 'detect' ? { valIou: bestThreshold(detected).iou } : { valPsnr: psnr / pairs.length, valSsim: ssim / pairs.length };
}

/** Copies each part's layer weights into the layers of `to` named prefix + name (layers `to` lacks are skipped). */
async function copyParts(parts: readonly { dir: string; prefix: string }[], to: tf.LayersModel): Promise<void> {
  const targets = new Map(to.layers.filter((l) => l.weights.length > 0).map((l) => [l.name, l]));
  for (const part of parts) {
    const from = await loadLayersModel(part.dir);
    try {
      for (const layer of from.layers) {
        const target = targets.get(part.prefix + layer.name);
        if (layer.weights.length > 0 && target) target.setWeights(layer.getWeights());
      }
    } finally {
      from.dispose();
    }
  }
}

/**
 * Builds a fresh model whose initial weights are a function of the seed. tfjs
 * initializers without an explicit seed draw their seed from Math.random, so it
 * is swapped for the run's seeded generator while the layers are built.
 */
export function buildSeeded(config: Pick<TrainerConfig, 'arch' | 'scale' | 'archOptions' | 'seed'>): tf.LayersModel {
  const rng = new Rng(config.seed ^ 0x5eed);
  const original = Math.random;
  Math.random = () => rng.next();
  try {
    const model = buildArch(config.arch, config.scale, config.archOptions);
    model.getWeights(); // weights are created eagerly; make sure before restoring
    return model;
  } finally {
    Math.random = original;
  }
}

/** The optimizer a config asks for (configs from before SGD mean Adam). */
export function optimizerSpec(c: TrainerConfig): OptimizerSpec {
  return { kind: c.optimizer ?? 'adam', ...(c.momentum !== undefined ? { momentum: c.momentum } : {}), ...(c.nesterov !== undefined ? { nesterov: c.nesterov } : {}) };
}

function sameArch(a: TrainerConfig, b: TrainerConfig): boolean {
  return a.arch === b.arch && a.scale === b.scale && JSON.stringify(a.archOptions) === JSON.stringify(b.archOptions);
}

/** The key the trainer's model has on a compute engine. */
const ENGINE_KEY = 'trainer';

export class Trainer {
  readonly model: tf.LayersModel;
  readonly history: MetricPoint[];
  private readonly optimizer: tf.Optimizer;
  /** Kernels that AdamW decays (not biases, BN scales/offsets or PReLU slopes). */
  private readonly decayed: tf.Variable[];
  private readonly ema: WeightEma | null;
  private step: number;
  private rng: Rng;
  private elapsedMs: number;
  /** Where the steps run when not here; the local model then trails it until `pull()`. */
  private engine: Engine | null = null;
  private mirrorStale = false;

  private constructor(
    readonly config: TrainerConfig,
    private readonly source: BatchSource,
    private readonly val: readonly PairImage[],
    private readonly runDir: string,
    model: tf.LayersModel,
    state: CheckpointState | null,
  ) {
    this.model = model;
    this.optimizer = createOptimizer(optimizerSpec(config), config.lr);
    this.decayed = decayedKernels(model);
    this.ema = config.ema ? WeightEma.create(model, buildArch(config.arch, config.scale, config.archOptions), config.ema) : null;
    this.step = state?.step ?? 0;
    this.rng = new Rng(state?.rng ?? config.seed);
    this.elapsedMs = state?.elapsedMs ?? 0;
    this.history = state?.history ?? [];
  }

  /** The model to validate and export: the EMA weights when EMA is on. */
  get exportModel(): tf.LayersModel {
    return this.ema?.model ?? this.model;
  }

  /** Frees the model, its EMA shadow and the optimizer state. */
  dispose(): void {
    this.ema?.dispose();
    this.model.dispose();
    this.optimizer.dispose();
  }

  get checkpointDir(): string {
    return path.join(this.runDir, 'checkpoint');
  }

  /**
   * Creates a new run in `runDir`, or resumes the checkpoint found there.
   * `train` is either precomputed bicubic pairs or a batch source (degradations).
   */
  static async open(config: TrainerConfig, train: readonly PairImage[] | BatchSource, val: readonly PairImage[], runDir: string, engine?: Engine): Promise<Trainer> {
    const t = await Trainer.openHere(config, train, val, runDir);
    // The compute engine's step protocol carries image pairs only: the damage nets (masks) and
    // VAEs (the KL term and its noise seed) train here, on this thread's backend.
    if (engine && t.task === 'restore' && !latentSampler(t.model)) {
      try {
        await t.attach(engine);
      } catch (err) {
        t.dispose();
        throw err;
      }
    }
    return t;
  }

  private static async openHere(config: TrainerConfig, train: readonly PairImage[] | BatchSource, val: readonly PairImage[], runDir: string): Promise<Trainer> {
    getTrainableArch(config.arch, { composite: !!config.initParts?.length });
    if (config.klWeight !== undefined && !(Number.isFinite(config.klWeight) && config.klWeight >= 0)) {
      throw new RestoraError('USAGE', `The KL weight must be a number of 0 or more, not ${config.klWeight}.`);
    }
    for (const part of config.initParts ?? []) {
      if (!fs.existsSync(path.join(part.dir, 'model.json'))) {
        throw new RestoraError('USAGE', `The ${config.arch} stage needs the trained model in ${part.dir}, and there is none: train the earlier stages first.`, part.dir);
      }
    }
    if (Array.isArray(train)) {
      if (train.length === 0) throw new RestoraError('USAGE', 'No training images.');
      for (const p of train as readonly PairImage[]) {
        if (p.lr.width < config.patch || p.lr.height < config.patch) {
          throw new RestoraError('IMAGE_TOO_SMALL', `${p.name} is smaller than the ${config.patch}px patch at x${config.scale}.`, p.name);
        }
      }
    }
    const source: BatchSource = Array.isArray(train) ? pairSource(train as readonly PairImage[]) : (train as BatchSource);
    fs.mkdirSync(runDir, { recursive: true });
    const ckpt = path.join(runDir, 'checkpoint');
    if (!fs.existsSync(path.join(ckpt, 'state.json')) && fs.existsSync(path.join(`${ckpt}.old`, 'state.json'))) {
      // A crash between the two renames of a checkpoint swap: the old one is complete.
      fs.renameSync(`${ckpt}.old`, ckpt);
    }
    if (fs.existsSync(path.join(ckpt, 'state.json'))) {
      const state = JSON.parse(fs.readFileSync(path.join(ckpt, 'state.json'), 'utf8')) as CheckpointState;
      if (!sameArch(state.config, config)) {
        throw new RestoraError(
          'CHECKPOINT_MISMATCH',
          `Run in ${runDir} was trained as ${state.config.arch} x${state.config.scale} ${JSON.stringify(state.config.archOptions)}; ` + `it cannot resume as ${config.arch} x${config.scale} ${JSON.stringify(config.archOptions)}.`,
          runDir,
        );
      }
      const model = await loadLayersModel(ckpt);
      const t = new Trainer({ ...config, archOptions: state.config.archOptions }, source, val, runDir, model, state);
      const opt = fs.readFileSync(path.join(ckpt, 'optimizer.bin'));
      await restoreOptimizer(t.optimizer, decodeNamedTensors(new Uint8Array(opt)));
      // A checkpoint from before EMA (or from a run without it) starts the average here.
      const emaFile = path.join(ckpt, 'ema.bin');
      if (t.ema && fs.existsSync(emaFile)) t.ema.restore(new Uint8Array(fs.readFileSync(emaFile)));
      return t;
    }
    const model = buildSeeded(config);
    if (config.initParts?.length) await copyParts(config.initParts, model);
    if (config.initFrom) {
      const init = await loadLayersModel(config.initFrom);
      try {
        copyWeights(init, model);
      } catch (err) {
        model.dispose();
        throw new RestoraError('CHECKPOINT_MISMATCH', `${config.initFrom} does not have the weights of ${config.arch} x${config.scale}: ${(err as Error).message}`, config.initFrom);
      } finally {
        init.dispose();
      }
    }
    return new Trainer(config, source, val, runDir, model, null);
  }

  get currentStep(): number {
    return this.step;
  }

  get task(): TrainTask {
    return taskOf(this.config.arch, this.config.archOptions);
  }

  /** The KL term's weight at a step: linear warm-up from 0 (default over the first fifth of the run). */
  klWeightAt(step: number): number {
    const c = this.config;
    const w = c.klWeight ?? DEFAULT_KL_WEIGHT;
    const warm = c.klWarmup ?? Math.round(c.steps / 5);
    return warm > 0 ? w * Math.min(1, step / warm) : w;
  }

  /** The VAE's KL per latent element at the last local step (null for other nets). */
  private lastKl: number | null = null;

  /** Which tfjs backend runs the steps. */
  get computeBackend(): string {
    return this.engine?.info.backend ?? tf.getBackend();
  }

  /** Hands the model, Adam's moments and the EMA shadow to `engine`; later steps run there. */
  private async attach(engine: Engine): Promise<void> {
    let artifacts: tf.io.ModelArtifacts | undefined;
    await this.model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const a = artifacts!;
    expectReply(await engine.call({ op: 'load', model: ENGINE_KEY, topology: a.modelTopology as object, weightSpecs: a.weightSpecs as WeightSpec[], weights: new Uint8Array(a.weightData as ArrayBuffer) }), 'loaded');
    const c = this.config;
    const resumed = this.step > 0;
    const setup = {
      ...ADAM,
      optimizer: optimizerSpec(c),
      loss: c.loss,
      ema: c.ema ?? 0,
      ...(resumed ? { optimizerState: await encodeNamedTensors(await this.optimizer.getWeights()) } : {}),
      ...(this.ema ? { emaState: await this.ema.encode() } : {}),
    };
    expectReply(await engine.call({ op: 'trainInit', model: ENGINE_KEY, setup }), 'done');
    this.engine = engine;
  }

  /** Brings the engine's weights, moments and EMA shadow into the local model (before validating or saving). */
  private async pull(): Promise<void> {
    if (!this.engine || !this.mirrorStale) return;
    const st = expectReply(await this.engine.call({ op: 'state', model: ENGINE_KEY }), 'state');
    const weights = decodeNamedTensors(st.weights);
    this.model.weights.forEach((w, i) => w.write(weights[i]!.tensor));
    tf.dispose(weights.map((w) => w.tensor));
    if (st.optimizer) {
      const named = decodeNamedTensors(st.optimizer);
      await restoreOptimizer(this.optimizer, named);
      tf.dispose(named.map((n) => n.tensor));
    }
    if (st.ema && this.ema) this.ema.restore(st.ema);
    this.mirrorStale = false;
  }

  async checkpoint(): Promise<void> {
    // A lost device fails here, before anything is written: the last good checkpoint stays.
    await this.pull();
    const dir = this.checkpointDir;
    const tmp = `${dir}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    try {
      await saveLayersModel(this.model, tmp);
      writeFileAtomic(path.join(tmp, 'optimizer.bin'), await encodeNamedTensors(await this.optimizer.getWeights()));
      if (this.ema) writeFileAtomic(path.join(tmp, 'ema.bin'), await this.ema.encode());
      const state: CheckpointState = {
        version: 1,
        config: this.config,
        step: this.step,
        rng: this.rng.state(),
        elapsedMs: this.elapsedMs,
        history: this.history,
      };
      writeFileAtomic(path.join(tmp, 'state.json'), JSON.stringify(state));
    } catch (err) {
      // A full disk (or any write error) must not touch the last good checkpoint: drop the partial one.
      fs.rmSync(tmp, { recursive: true, force: true });
      const full = (err as NodeJS.ErrnoException).code === 'ENOSPC' || /ENOSPC|no space/i.test(String((err as Error).message));
      throw new RestoraError('WRITE_FAILED', `Could not write the checkpoint of step ${this.step} in ${dir}: ${full ? 'the disk is full' : (err as Error).message}. ` + `The last good checkpoint is kept; free some space and resume.`, dir, {
        cause: err,
      });
    }
    fs.rmSync(`${dir}.old`, { recursive: true, force: true });
    if (fs.existsSync(dir)) fs.renameSync(dir, `${dir}.old`);
    fs.renameSync(tmp, dir);
    fs.rmSync(`${dir}.old`, { recursive: true, force: true });
  }

  /** One optimisation step on a synchronous source (precomputed pairs), here; returns the loss. */
  trainStep(): number {
    const c = this.config;
    if (this.engine) throw new Error('trainStep() runs here; with a compute engine use nextStep()');
    const b = this.source.next(this.rng, c.batch, c.patch, c.scale);
    if (b instanceof Promise) throw new Error('trainStep() needs a synchronous batch source; use step()');
    return this.optimise(b);
  }

  /** One optimisation step on any source, here or on the engine; returns the loss. */
  async nextStep(): Promise<number> {
    const c = this.config;
    const b = await this.source.next(this.rng, c.batch, c.patch, c.scale);
    if (!this.engine) return this.optimise(b);
    const lr = learningRateAt(c, this.step);
    const weightDecay = c.optimizer === 'adamw' ? (c.weightDecay ?? 0) : 0;
    this.mirrorStale = true;
    const r = await this.engine.call({ op: 'trainStep', model: ENGINE_KEY, lr, weightDecay, batch: c.batch, patch: c.patch, scale: c.scale, x: b.lr, y: b.hr, stats: b.cond ?? null });
    this.step++;
    return expectReply(r, 'stepped').loss;
  }

  /** The exported model's weights, current (pulled from the engine when the steps run there). */
  async currentExportModel(): Promise<tf.LayersModel> {
    await this.pull();
    return this.exportModel;
  }

  private optimise(b: Batch): number {
    const c = this.config;
    const lr = learningRateAt(c, this.step);
    const wd = c.optimizer === 'adamw' ? (c.weightDecay ?? 0) : 0;
    const { cost, kl } = optimiseStep(
      { model: this.model, optimizer: this.optimizer, decayed: this.decayed, ema: this.ema, loss: c.loss },
      {
        batch: c.batch,
        patch: c.patch,
        scale: b.scale,
        lr: b.lr,
        hr: b.hr,
        cond: b.cond ?? null,
        mask: b.mask ?? null,
        klWeight: this.klWeightAt(this.step),
        // A function of the run's seed and the step, so a resumed run draws the same latent noise.
        noiseSeed: (Math.imul(c.seed, 1000003) + this.step) >>> 0,
      },
      lr,
      wd,
    );
    const loss = cost.dataSync()[0]!;
    this.lastKl = kl ? kl.dataSync()[0]! : null;
    tf.dispose([cost, ...(kl ? [kl] : [])]);
    this.step++;
    return loss;
  }

  async run(opts: { signal?: AbortSignal; onProgress?: (p: TrainProgress) => void; untilStep?: number } = {}): Promise<MetricPoint[]> {
    const c = this.config;
    const until = Math.min(opts.untilStep ?? c.steps, c.steps);
    let windowStart = performance.now();
    let windowSteps = 0;
    let lossSum = 0;
    let lossCount = 0;
    let klSum = 0;
    let reconSum = 0;
    while (this.step < until) {
      if (opts.signal?.aborted) {
        await this.checkpoint();
        throw new RestoraError('CANCELLED', `Training cancelled at step ${this.step}.`);
      }
      const t0 = performance.now();
      const loss = await this.nextStep();
      this.elapsedMs += performance.now() - t0;
      if (!Number.isFinite(loss)) {
        throw new RestoraError('TRAINING_DIVERGED', `Loss became ${loss} at step ${this.step}; the last good checkpoint in ${this.checkpointDir} is kept. Lower the learning rate and resume.`);
      }
      lossSum += loss;
      lossCount++;
      if (this.lastKl !== null) {
        klSum += this.lastKl;
        reconSum += loss - this.klWeightAt(this.step - 1) * this.lastKl;
      }
      windowSteps++;
      const lr = learningRateAt(c, this.step - 1);
      let point: MetricPoint | undefined;
      const atVal = this.step % c.validateEvery === 0 || this.step === c.steps;
      // About 100 logged points a run (every step for a short one, every 50 at most): the live
      // chart and Runs both plot exactly these.
      const logEvery = Math.min(50, Math.max(1, Math.round(c.steps / 100)));
      if (atVal || this.step % logEvery === 0) {
        point = { step: this.step, wallMs: Math.round(this.elapsedMs), loss: lossSum / lossCount, lr };
        if (this.lastKl !== null) Object.assign(point, { recon: reconSum / lossCount, kl: klSum / lossCount });
        lossSum = 0;
        lossCount = 0;
        klSum = 0;
        reconSum = 0;
        if (atVal && this.val.length > 0) Object.assign(point, validateTask(await this.currentExportModel(), this.val, c.scale, this.task));
        this.history.push(point);
      }
      if (this.step % c.checkpointEvery === 0 || this.step === until) await this.checkpoint();
      const dt = (performance.now() - windowStart) / 1000;
      const sps = windowSteps / Math.max(dt, 1e-9);
      if (dt > 30) {
        windowStart = performance.now();
        windowSteps = 0;
      }
      opts.onProgress?.({ step: this.step, steps: c.steps, loss, lr, stepsPerSec: sps, etaSec: (c.steps - this.step) / Math.max(sps, 1e-9), ...(point ? { point } : {}) });
    }
    return this.history;
  }
}
