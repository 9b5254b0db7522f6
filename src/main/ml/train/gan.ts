/**
 * GAN fine-tuning stage (SRGAN, Ledig et al. 2017; relativistic average loss from
 * ESRGAN, Wang et al. 2018). A generator pretrained on pixel loss is fine-tuned with
 *   L_G = wPix * pixel + wFeat * featureMatching + wAdv * adversarial
 * against the `srgan-discriminator` arch. The perceptual term needs no downloaded
 * network: it is the L1 distance between the discriminator's intermediate
 * activations of SR and HR (feature matching, Salimans et al. 2016).
 * D and G steps alternate on the same batch, each with its own Adam. Checkpoints
 * hold G, D and both optimizers, so a run resumes exactly.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runModel } from '../core/conditioning.js';
import { getArch, type ArchOptions } from '../archs/index.js';
import type { Batch, BatchSource, PairImage } from './dataset.js';
import { pixelLoss, type PixelLoss } from '../learning/losses.js';
import { decodeNamedTensors, encodeNamedTensors, loadLayersModel, saveLayersModel } from '../store/modelStore.js';
import { Rng } from '../core/rng.js';
import { buildSeeded, validate, type MetricPoint, type TrainProgress } from './trainer.js';
import { restoreOptimizer } from '../core/optimizers.js';
import { writeFileAtomic } from '../../imaging/atomic.js';
import { RestoraError } from '../../../shared/errors.js';

export interface GanConfig {
  /** The generator's architecture (checked on resume; weights come from `init`). */
  arch: string;
  archOptions: ArchOptions;
  scale: number;
  steps: number;
  batch: number;
  /** LR patch side; the discriminator sees a centred HR crop of at most `discPatch` px. */
  patch: number;
  discPatch: number;
  lrG: number;
  lrD: number;
  loss: PixelLoss;
  pixelWeight: number;
  featureWeight: number;
  advWeight: number;
  /** Relativistic average GAN (ESRGAN) instead of the standard BCE GAN. */
  relativistic: boolean;
  /** Discriminator layers whose activations are matched. */
  featureLayers: string[];
  /**
   * The discriminator's architecture: `srgan-discriminator` (its `patch` option is
   * set here). Another arch must name its layers the same way (d<i>_lrelu, fc1_lrelu, fc2).
   */
  discArch: string;
  discOptions: ArchOptions;
  seed: number;
  validateEvery: number;
  checkpointEvery: number;
}

export const DEFAULT_GAN_CONFIG: Omit<GanConfig, 'arch' | 'archOptions' | 'scale'> = {
  steps: 1000,
  batch: 8,
  patch: 24,
  discPatch: 96,
  lrG: 1e-4,
  lrD: 1e-4,
  loss: 'l1',
  // ESRGAN's balance (adv 5e-3 against a perceptual term of weight 1), with the
  // pixel term kept at 1 because feature matching is a weaker anchor than VGG.
  pixelWeight: 1,
  featureWeight: 0.1,
  advWeight: 5e-3,
  relativistic: true,
  featureLayers: ['d1_lrelu', 'd3_lrelu', 'd5_lrelu', 'd7_lrelu'],
  discArch: 'srgan-discriminator',
  discOptions: {},
  seed: 1,
  validateEvery: 100,
  checkpointEvery: 50,
};

interface GanState {
  version: 1;
  kind: 'gan';
  config: GanConfig;
  step: number;
  rng: number[];
  elapsedMs: number;
  history: MetricPoint[];
}

export interface GanStepLosses {
  pixel: number;
  g: number;
  d: number;
}

function bce(logits: tf.Tensor, label: 0 | 1): tf.Scalar {
  const labels = label === 1 ? tf.onesLike(logits) : tf.zerosLike(logits);
  return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
}

export class GanTrainer {
  readonly history: MetricPoint[];
  /** D's chosen activations plus its penultimate layer, from the same layers (shared weights). */
  private readonly features: tf.LayersModel;
  private readonly optG: tf.AdamOptimizer;
  private readonly optD: tf.AdamOptimizer;
  private step: number;
  private rng: Rng;
  private elapsedMs: number;

  private constructor(
    readonly config: GanConfig,
    private readonly source: BatchSource,
    private readonly val: readonly PairImage[],
    private readonly runDir: string,
    readonly generator: tf.LayersModel,
    readonly discriminator: tf.LayersModel,
    state: GanState | null,
  ) {
    const outs = [...config.featureLayers, 'fc1_lrelu'].map((n) => discriminator.getLayer(n).output as tf.SymbolicTensor);
    this.features = tf.model({ inputs: discriminator.inputs, outputs: outs, name: 'disc_features' });
    this.optG = tf.train.adam(config.lrG, 0.9, 0.99, 1e-8);
    this.optD = tf.train.adam(config.lrD, 0.9, 0.99, 1e-8);
    this.step = state?.step ?? 0;
    this.rng = new Rng(state?.rng ?? config.seed ^ 0x6a11);
    this.elapsedMs = state?.elapsedMs ?? 0;
    this.history = state?.history ?? [];
  }

  get currentStep(): number {
    return this.step;
  }

  get checkpointDir(): string {
    return path.join(this.runDir, 'checkpoint');
  }

  static discriminatorPatch(c: Pick<GanConfig, 'patch' | 'scale' | 'discPatch'>): number {
    return Math.min(c.patch * c.scale, c.discPatch);
  }

  /** Opens the GAN run in `runDir`: resumes its checkpoint, or starts from the generator in model folder `init`. */
  static async open(config: GanConfig, source: BatchSource, val: readonly PairImage[], runDir: string, init: string): Promise<GanTrainer> {
    getArch(config.arch);
    fs.mkdirSync(runDir, { recursive: true });
    const ckpt = path.join(runDir, 'checkpoint');
    if (!fs.existsSync(path.join(ckpt, 'state.json')) && fs.existsSync(path.join(`${ckpt}.old`, 'state.json'))) fs.renameSync(`${ckpt}.old`, ckpt);
    const dPatch = GanTrainer.discriminatorPatch(config);
    const disc = buildSeeded({ arch: config.discArch, scale: 1, archOptions: { ...config.discOptions, patch: dPatch }, seed: config.seed });
    if (fs.existsSync(path.join(ckpt, 'state.json'))) {
      const state = JSON.parse(fs.readFileSync(path.join(ckpt, 'state.json'), 'utf8')) as GanState;
      const s = state.config;
      if (s.arch !== config.arch || s.scale !== config.scale || JSON.stringify(s.archOptions) !== JSON.stringify(config.archOptions) || GanTrainer.discriminatorPatch(s) !== dPatch) {
        disc.dispose();
        throw new RestoraError('CHECKPOINT_MISMATCH', `GAN run in ${runDir} was trained as ${s.arch} x${s.scale}; it cannot resume with these settings.`, runDir);
      }
      const gen = await loadLayersModel(ckpt);
      const t = new GanTrainer(config, source, val, runDir, gen, disc, state);
      const dw = decodeNamedTensors(new Uint8Array(fs.readFileSync(path.join(ckpt, 'discriminator.bin'))));
      disc.setWeights(dw.map((n) => n.tensor));
      for (const n of dw) n.tensor.dispose();
      await restoreOptimizer(t.optG, decodeNamedTensors(new Uint8Array(fs.readFileSync(path.join(ckpt, 'optimizer-g.bin')))));
      await restoreOptimizer(t.optD, decodeNamedTensors(new Uint8Array(fs.readFileSync(path.join(ckpt, 'optimizer-d.bin')))));
      return t;
    }
    const gen = await loadLayersModel(init);
    return new GanTrainer(config, source, val, runDir, gen, disc, null);
  }

  /** Frees G, D and both optimizers. */
  dispose(): void {
    this.generator.dispose();
    this.discriminator.dispose();
    this.optG.dispose();
    this.optD.dispose();
  }

  async checkpoint(): Promise<void> {
    const dir = this.checkpointDir;
    const tmp = `${dir}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    await saveLayersModel(this.generator, tmp);
    const dw = this.discriminator.weights.map((w, i) => ({ name: `${i}:${w.originalName}`, tensor: w.read() }));
    writeFileAtomic(path.join(tmp, 'discriminator.bin'), await encodeNamedTensors(dw));
    writeFileAtomic(path.join(tmp, 'optimizer-g.bin'), await encodeNamedTensors(await this.optG.getWeights()));
    writeFileAtomic(path.join(tmp, 'optimizer-d.bin'), await encodeNamedTensors(await this.optD.getWeights()));
    const state: GanState = { version: 1, kind: 'gan', config: this.config, step: this.step, rng: this.rng.state(), elapsedMs: this.elapsedMs, history: this.history };
    writeFileAtomic(path.join(tmp, 'state.json'), JSON.stringify(state));
    fs.rmSync(`${dir}.old`, { recursive: true, force: true });
    if (fs.existsSync(dir)) fs.renameSync(dir, `${dir}.old`);
    fs.renameSync(tmp, dir);
    fs.rmSync(`${dir}.old`, { recursive: true, force: true });
  }

  /** Centred discriminator-sized crop of an HR-sized batch (differentiable). */
  private discCrop(x: tf.Tensor4D): tf.Tensor4D {
    const p = GanTrainer.discriminatorPatch(this.config);
    const [, h, w] = x.shape;
    if (h === p && w === p) return x;
    return tf.slice(x, [0, Math.floor((h - p) / 2), Math.floor((w - p) / 2), 0], [-1, p, p, -1]);
  }

  /** Matched activations and D's logits (fc2 applied by hand, so BCE works on logits, not on sigmoid outputs). */
  private discriminate(x: tf.Tensor4D): { feats: tf.Tensor[]; logits: tf.Tensor } {
    const outs = this.features.apply(this.discCrop(x), { training: true }) as tf.Tensor[];
    const penult = outs.pop()!;
    const [kernel, bias] = this.discriminator.getLayer('fc2').weights.map((w) => w.read());
    return { feats: outs, logits: tf.add(tf.matMul(penult as tf.Tensor2D, kernel as tf.Tensor2D), bias!) };
  }

  private advLosses(real: tf.Tensor, fake: tf.Tensor): { d: tf.Scalar; g: tf.Scalar } {
    if (!this.config.relativistic) return { d: tf.mul(tf.add(bce(real, 1), bce(fake, 0)), 0.5), g: bce(fake, 1) };
    // RaGAN: is the real image more realistic than the average fake (and vice versa)?
    const rr = tf.sub(real, tf.mean(fake));
    const ff = tf.sub(fake, tf.mean(real));
    return { d: tf.mul(tf.add(bce(rr, 1), bce(ff, 0)), 0.5), g: tf.mul(tf.add(bce(rr, 0), bce(ff, 1)), 0.5) };
  }

  private optimise(b: Batch): GanStepLosses {
    const c = this.config;
    const hp = c.patch * c.scale;
    const gVars = this.generator.trainableWeights.map((w) => w.read() as tf.Variable);
    const dVars = this.discriminator.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = tf.tensor4d(b.lr, [c.batch, c.patch, c.patch, 3]);
    const y = tf.tensor4d(b.hr, [c.batch, hp, hp, 3]);
    try {
      // D step on the current generator's output (no gradient into G).
      const sr = tf.tidy(() => runModel(this.generator, x, b.cond ?? null, false));
      const dCost = this.optD.minimize(
        () => {
          const real = this.discriminate(y).logits;
          const fake = this.discriminate(sr).logits;
          return this.advLosses(real, fake).d;
        },
        true,
        dVars,
      )!;
      sr.dispose();
      // G step: D's weights are not in the variable list, so only G moves.
      let pix: tf.Scalar | null = null;
      const gCost = this.optG.minimize(
        () => {
          const out = runModel(this.generator, x, b.cond ?? null, true);
          const p = pixelLoss(c.loss, out, y);
          pix = tf.keep(p);
          const f = this.discriminate(out);
          const r = this.discriminate(y);
          const fm = tf.addN(f.feats.map((t, i) => tf.mean(tf.abs(tf.sub(t, r.feats[i]!))))).div(f.feats.length);
          const adv = this.advLosses(r.logits, f.logits).g;
          return tf.addN([tf.mul(p, c.pixelWeight), tf.mul(fm, c.featureWeight), tf.mul(adv, c.advWeight)]) as tf.Scalar;
        },
        true,
        gVars,
      )!;
      const losses = { pixel: (pix as tf.Scalar | null)?.dataSync()[0] ?? Number.NaN, g: gCost.dataSync()[0]!, d: dCost.dataSync()[0]! };
      (pix as tf.Scalar | null)?.dispose();
      gCost.dispose();
      dCost.dispose();
      this.step++;
      return losses;
    } finally {
      x.dispose();
      y.dispose();
    }
  }

  /** One D step + one G step on any source. */
  async nextStep(): Promise<GanStepLosses> {
    const c = this.config;
    return this.optimise(await this.source.next(this.rng, c.batch, c.patch, c.scale));
  }

  async run(opts: { signal?: AbortSignal; onProgress?: (p: TrainProgress) => void; untilStep?: number } = {}): Promise<MetricPoint[]> {
    const c = this.config;
    const until = Math.min(opts.untilStep ?? c.steps, c.steps);
    const started = performance.now();
    const startStep = this.step;
    const sum = { pixel: 0, g: 0, d: 0, n: 0 };
    while (this.step < until) {
      if (opts.signal?.aborted) {
        await this.checkpoint();
        throw new RestoraError('CANCELLED', `GAN training cancelled at step ${this.step}.`);
      }
      const t0 = performance.now();
      const l = await this.nextStep();
      this.elapsedMs += performance.now() - t0;
      if (![l.pixel, l.g, l.d].every(Number.isFinite)) {
        throw new RestoraError('TRAINING_DIVERGED', `GAN losses became G ${l.g} / D ${l.d} at step ${this.step}; the last good checkpoint in ${this.checkpointDir} is kept. Lower the learning rates and resume.`);
      }
      sum.pixel += l.pixel;
      sum.g += l.g;
      sum.d += l.d;
      sum.n++;
      let point: MetricPoint | undefined;
      const atVal = this.step % c.validateEvery === 0 || this.step === c.steps;
      if (atVal || this.step % 50 === 0) {
        point = { step: this.step, wallMs: Math.round(this.elapsedMs), loss: sum.pixel / sum.n, lr: c.lrG, gLoss: sum.g / sum.n, dLoss: sum.d / sum.n };
        sum.pixel = sum.g = sum.d = sum.n = 0;
        if (atVal && this.val.length > 0) {
          const q = validate(this.generator, this.val, c.scale);
          point.valPsnr = q.psnr;
          point.valSsim = q.ssim;
        }
        this.history.push(point);
      }
      if (this.step % c.checkpointEvery === 0 || this.step === until) await this.checkpoint();
      const sps = (this.step - startStep) / Math.max((performance.now() - started) / 1000, 1e-9);
      opts.onProgress?.({ step: this.step, steps: c.steps, loss: l.pixel, lr: c.lrG, stepsPerSec: sps, etaSec: (c.steps - this.step) / Math.max(sps, 1e-9), ...(point ? { point } : {}) });
    }
    return this.history;
  }
}
