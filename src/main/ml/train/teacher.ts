/**
 * Knowledge distillation: a student learns to give what a stronger model (the teacher)
 * gives on the student's own inputs. No clean originals are needed: the inputs are the
 * user's photos themselves (preset 'none'), or the photos degraded with a preset first.
 *
 * A teacher like Real-ESRGAN x4plus runs at ~0.007 output MP/s on a CPU, far too slow to
 * run per batch item per step. So the teacher runs once per region of a fixed, seeded pool
 * of LR regions (each with a margin of context, so its borders are clean, then cropped),
 * and each result is written to the run's folder as its own file (atomically: a crash
 * loses at most the region in flight, and a restarted run computes only what is missing).
 * Training batches draw random aligned crops, flips and rotations from the pool with the
 * run's RNG, so a batch is a pure function of the run's seed and a resume is bit-identical.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_TEACHER_REGIONS, TEACHER_CONFIRM_SEC, type ModelCard, type ModelSummary, type TrainPreset } from '../../../shared/api.js';

export { DEFAULT_TEACHER_REGIONS, TEACHER_CONFIRM_SEC };
import { RestoraError } from '../../../shared/errors.js';
import { degrade } from '../../degrade/presets.js';
import { writeFileAtomic } from '../../imaging/atomic.js';
import { imresize, type FloatImage } from '../../imaging/imresize.js';
import { tilingFor } from '../archs/index.js';
import { engineLimits, engineRunnerFor, loadOnEngine } from '../engine/engineModels.js';
import { LocalEngine } from '../engine/localEngine.js';
import type { Engine } from '../engine/protocol.js';
import { GLOBAL_STATS, globalStats } from '../core/conditioning.js';
import { fitTile, upscaleTiled } from '../infer/tiling.js';
import { readModelArtifacts } from '../store/modelStore.js';
import { Rng } from '../core/rng.js';
import { areaPicker, copyPatch, type Batch, type BatchSource, type PairImage } from './dataset.js';

/** LR side of a region (the largest patch a batch can cut from it). */
export const TEACHER_REGION = 64;
/** LR pixels of context on each side the teacher sees around a region (cropped off after). */
export const TEACHER_MARGIN = 8;

/** 'none': the photo itself is the student's input; a preset: the photo degraded with it first. */
export type TeacherInputs = TrainPreset;

// ---- choosing a teacher --------------------------------------------------------

function isDamageNet(card: ModelCard): boolean {
  return card.task === 'detect-damage' || card.task === 'inpaint';
}

/** Models that can teach a run at `scale`: RGB image-to-image models that enlarge by exactly `scale`. */
export function teacherCandidates(models: readonly ModelSummary[], scale: number): ModelSummary[] {
  return models.filter((m) => !isDamageNet(m.card) && m.card.scale >= 2 && m.card.scale === scale);
}

/** Models whose output is larger than the run's and can teach it with --teacher-downscale (x4 for x2). */
function downscaleCandidates(models: readonly ModelSummary[], scale: number): ModelSummary[] {
  return models.filter((m) => !isDamageNet(m.card) && m.card.scale > scale && m.card.scale % scale === 0);
}

/**
 * The teacher for a run at `scale`, or a usage error that names the models that could be
 * one. A teacher of a larger scale (an x4 for an x2 run) is taken only with `downscale`:
 * its output is then reduced to the run's scale with the reference bicubic imresize.
 */
export function resolveTeacher(models: readonly ModelSummary[], id: string, scale: number, downscale = false): ModelSummary {
  const fits = teacherCandidates(models, scale).map((m) => m.card.id);
  const larger = downscaleCandidates(models, scale).map((m) => m.card.id);
  const choices =
    (fits.length ? `Models that can teach a x${scale} run: ${fits.join(', ')}.` : `No installed upscaling model is x${scale}; import one (restora models import).`) +
    (larger.length && !downscale ? ` With --teacher-downscale a larger one can (its output reduced to x${scale} with bicubic imresize): ${larger.join(', ')}.` : '');
  if (scale < 2) throw new RestoraError('USAGE', `A teacher needs an upscaling run (x2, x4 or x8); this one is x${scale}.`, undefined, { hint: { cli: 'Use --scale 2, 4 or 8 with --teacher.' } });
  const m = models.find((s) => s.card.id === id);
  if (!m) throw new RestoraError('USAGE', `Unknown teacher "${id}". ${choices}`);
  if (isDamageNet(m.card)) {
    throw new RestoraError('USAGE', `${id} is a damage net of the repair step (${m.card.task === 'inpaint' ? 'inpainting' : 'scratch detection'}), not an upscaling model: it cannot be a teacher. ${choices}`);
  }
  if (m.card.scale < 2) throw new RestoraError('USAGE', `${id} works at the photo's size (x${m.card.scale}); a teacher must be an upscaling model. ${choices}`);
  if (m.card.scale === scale) return m;
  if (downscale && m.card.scale > scale && m.card.scale % scale === 0) return m;
  if (m.card.scale > scale && m.card.scale % scale === 0) {
    throw new RestoraError('USAGE', `${id} upscales x${m.card.scale}; this run is x${scale}. Add --teacher-downscale to reduce its x${m.card.scale} output to x${scale} with bicubic imresize, or pick a x${scale} teacher. ${choices}`);
  }
  throw new RestoraError('USAGE', `${id} upscales x${m.card.scale}; this run is x${scale}, and a teacher cannot be smaller than the run. ${choices}`);
}

// ---- running a teacher ---------------------------------------------------------

/** A teacher on an LR image (8-bit RGB, interleaved): its output at the run's scale, 8-bit RGB. */
export type TeacherFn = (lr: Uint8Array, width: number, height: number) => Promise<Uint8Array>;

export interface LoadedTeacher {
  readonly model: ModelSummary;
  readonly run: TeacherFn;
  close(): Promise<void>;
}

/**
 * Loads a teacher onto an engine (the run's GPU engine, else one on this thread's backend)
 * and runs it as the app upscales a photo: the engine's tile runner and the tiled inference
 * with the architecture's context, grid and edge padding. A larger teacher's output is
 * reduced to the run's scale with the reference bicubic.
 */
export async function loadTeacher(model: ModelSummary, scale: number, engine?: Engine): Promise<LoadedTeacher> {
  const own = engine ? null : new LocalEngine();
  const e = engine ?? own!;
  const loaded = await loadOnEngine(e, model.dir);
  const tiling = tilingFor(model.card, engineLimits(e));
  const ts = model.card.scale;
  const run: TeacherFn = async (lr, width, height) => {
    const runner = engineRunnerFor(loaded, lr, width, height, 255);
    const { tile } = fitTile(Math.max(width, height), tiling);
    const out = await upscaleTiled(runner, lr, width, height, 255, { scale: ts, tile, overlap: tiling.overlap, multiple: tiling.multiple, padMode: tiling.padMode, edgePad: tiling.edgePad });
    if (ts === scale) return out as Uint8Array;
    const big: FloatImage = { width: width * ts, height: height * ts, channels: 3, data: Float32Array.from(out) };
    return Uint8Array.from(imresize(big, { width: width * scale, height: height * scale }, { uint8: true }).data);
  };
  return {
    model,
    run,
    async close() {
      if (own) await own.close();
      else await e.call({ op: 'dispose', model: loaded.key });
    },
  };
}

/**
 * Seconds the teacher takes for one region of `side` LR pixels (with its margin) on this
 * machine: one small run first (kernels set up, weights uploaded), then one timed region.
 */
export async function timeTeacher(run: TeacherFn, side: number): Promise<number> {
  const rng = new Rng(12345);
  const noise = (n: number) => Uint8Array.from({ length: n * n * 3 }, () => rng.int(256));
  await run(noise(16), 16, 16);
  const input = noise(side);
  const t0 = performance.now();
  await run(input, side, side);
  return (performance.now() - t0) / 1000;
}

// ---- the pool ------------------------------------------------------------------

export interface PoolOptions {
  /** The run's folder: the cache goes in <runDir>/teacher. */
  runDir: string;
  teacher: ModelSummary;
  scale: number;
  inputs: TeacherInputs;
  regions: number;
  seed: number;
  /** Training photos (0..255) and their files (the cache's identity). */
  photos: readonly { file: string; img: FloatImage }[];
  /** Held-out photos: one centred region each, the teacher's output as the reference. */
  val?: readonly { file: string; img: FloatImage }[];
  region?: number;
  margin?: number;
}

/** Where one region comes from: a photo, the corner of its full region (with margin), their sides. */
interface RegionPlan {
  key: string;
  photo: FloatImage;
  name: string;
  /** Corner and side of the full region in photo pixels (LR side x the preset's scale, or 1 for 'none'). */
  x: number;
  y: number;
  side: number;
  /** LR margin kept around the region for the teacher (less than TEACHER_MARGIN near small photos). */
  margin: number;
  /** The degradation's random stream. */
  rng: Rng;
}

interface PoolIdentity {
  version: 1;
  teacher: { id: string; scale: number; weightsSha256: string };
  scale: number;
  inputs: TeacherInputs;
  region: number;
  margin: number;
  seed: number;
  photos: { file: string; width: number; height: number }[];
  val: { file: string; width: number; height: number }[];
}

/** The cache folder of a run. */
export function teacherCacheDir(runDir: string): string {
  return path.join(runDir, 'teacher');
}

/** How many train regions are cached in a run's folder (for an estimate; the pool checks its identity when it opens). */
export function cachedRegionCount(runDir: string, teacherId: string, regions: number): number {
  const dir = teacherCacheDir(runDir);
  try {
    const id = JSON.parse(fs.readFileSync(path.join(dir, 'pool.json'), 'utf8')) as PoolIdentity;
    if (id.teacher.id !== teacherId) return 0;
    let n = 0;
    for (let i = 0; i < regions; i++) if (fs.existsSync(path.join(dir, `${regionKey('r', i)}.bin`))) n++;
    for (let j = 0; j < id.val.length; j++) if (fs.existsSync(path.join(dir, `${regionKey('v', j)}.bin`))) n++;
    return n;
  } catch {
    return 0;
  }
}

function regionKey(prefix: 'r' | 'v', i: number): string {
  return `${prefix}${String(i).padStart(6, '0')}`;
}

function weightsSha(dir: string): string {
  return crypto.createHash('sha256').update(readModelArtifacts(dir).weightData).digest('hex');
}

interface Region {
  /** R x R x 3, 0..255 */
  lr: Uint8Array;
  /** R*s x R*s x 3 */
  target: Uint8Array;
  stats: Float32Array;
}

export interface FillProgress {
  done: number;
  total: number;
  /** Regions computed by this fill so far, and the seconds they took. */
  computed: number;
  seconds: number;
}

export class TeacherPool {
  readonly dir: string;
  readonly region: number;
  readonly margin: number;
  private readonly plans: RegionPlan[];
  private readonly valPlans: RegionPlan[];
  private readonly items = new Map<string, Region>();
  /** Teacher runs made by fill() (a resumed run makes none for what is cached). */
  teacherCalls = 0;

  private constructor(private readonly o: PoolOptions) {
    this.dir = teacherCacheDir(o.runDir);
    this.region = o.region ?? TEACHER_REGION;
    this.margin = o.margin ?? TEACHER_MARGIN;
    const k = this.photoScale;
    if (o.photos.length === 0) throw new RestoraError('USAGE', 'No training photos for the teacher.');
    for (const p of [...o.photos, ...(o.val ?? [])]) {
      if (Math.min(p.img.width, p.img.height) < this.region * k) {
        throw new RestoraError('IMAGE_TOO_SMALL', `${p.file} is ${p.img.width}x${p.img.height}, smaller than a ${this.region * k}px teacher region.`, p.file);
      }
    }
    const pick = areaPicker(o.photos.map((p) => p.img));
    this.plans = [];
    for (let i = 0; i < o.regions; i++) {
      // One stream per region: region i is the same whatever the pool's size.
      const rng = new Rng((Math.imul(o.seed + 1, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca77)) >>> 0);
      const p = o.photos[pick(rng)]!;
      const margin = this.fitMargin(p.img);
      const side = (this.region + 2 * margin) * k;
      this.plans.push({ key: regionKey('r', i), photo: p.img, name: p.file, x: rng.int(p.img.width - side + 1), y: rng.int(p.img.height - side + 1), side, margin, rng });
    }
    this.valPlans = (o.val ?? []).map((p, j) => {
      const margin = this.fitMargin(p.img);
      const side = (this.region + 2 * margin) * k;
      return { key: regionKey('v', j), photo: p.img, name: p.file, x: Math.floor((p.img.width - side) / 2), y: Math.floor((p.img.height - side) / 2), side, margin, rng: new Rng(o.seed * 7919 + j) };
    });
  }

  /** Photo pixels per LR pixel: the preset's scale, or 1 when the photo itself is the input. */
  private get photoScale(): number {
    return this.o.inputs === 'none' ? 1 : this.o.scale;
  }

  private fitMargin(img: FloatImage): number {
    const lrSide = Math.floor(Math.min(img.width, img.height) / this.photoScale);
    return Math.max(0, Math.min(this.margin, Math.floor((lrSide - this.region) / 2)));
  }

  /** LR side of a full region, with the margin: what the teacher runs on. */
  get teacherSide(): number {
    return this.region + 2 * this.margin;
  }

  get size(): number {
    return this.plans.length;
  }

  /**
   * Opens the pool of a run: checks that a cache already there was made by the same teacher
   * from the same photos and settings (else refuses: its regions would be other regions),
   * and loads every cached region. Nothing is written until the first region is computed.
   */
  static open(o: PoolOptions): TeacherPool {
    const pool = new TeacherPool(o);
    const identity: PoolIdentity = {
      version: 1,
      teacher: { id: o.teacher.card.id, scale: o.teacher.card.scale, weightsSha256: weightsSha(o.teacher.dir) },
      scale: o.scale,
      inputs: o.inputs,
      region: pool.region,
      margin: pool.margin,
      seed: o.seed,
      photos: o.photos.map((p) => ({ file: p.file, width: p.img.width, height: p.img.height })),
      val: (o.val ?? []).map((p) => ({ file: p.file, width: p.img.width, height: p.img.height })),
    };
    pool.identity = identity;
    const file = path.join(pool.dir, 'pool.json');
    if (fs.existsSync(file)) {
      const had = JSON.parse(fs.readFileSync(file, 'utf8')) as PoolIdentity;
      if (JSON.stringify(had) !== JSON.stringify(identity)) {
        const what = had.teacher.id !== identity.teacher.id ? `teacher ${had.teacher.id}` : had.teacher.weightsSha256 !== identity.teacher.weightsSha256 ? 'other teacher weights' : 'other photos or settings';
        throw new RestoraError('CHECKPOINT_MISMATCH', `The teacher cache in ${pool.dir} was made with ${what}; start a new run, or delete that folder to compute it again.`, pool.dir, { hint: { cli: 'A new run: another --name.' } });
      }
      // A write cut short by a crash leaves only its temp file (writes are atomic): drop those.
      for (const f of fs.readdirSync(pool.dir)) if (f.startsWith('.') && f.endsWith('.part')) fs.rmSync(path.join(pool.dir, f), { force: true });
      for (const plan of [...pool.plans, ...pool.valPlans]) pool.load(plan);
    }
    return pool;
  }

  private identity: PoolIdentity | null = null;

  /** Writes the cache's identity before its first region (opening a pool writes nothing). */
  private ensureIdentity(): void {
    const file = path.join(this.dir, 'pool.json');
    if (fs.existsSync(file)) return;
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(file, JSON.stringify(this.identity));
  }

  private regionBytes(): { lr: number; target: number } {
    const r = this.region;
    const rs = r * this.o.scale;
    return { lr: r * r * 3, target: rs * rs * 3 };
  }

  /** Reads a cached region; a missing or short file (a crash mid-write leaves none: writes are atomic) is computed again. */
  private load(plan: RegionPlan): void {
    const file = path.join(this.dir, `${plan.key}.bin`);
    if (!fs.existsSync(file)) return;
    const bytes = new Uint8Array(fs.readFileSync(file));
    const n = this.regionBytes();
    if (bytes.length !== n.lr + n.target) return;
    const lr = bytes.slice(0, n.lr);
    this.items.set(plan.key, { lr, target: bytes.slice(n.lr), stats: globalStats(lr, this.region, this.region, 255) });
  }

  /** Regions (train and held-out) still to compute. */
  get missing(): number {
    return [...this.plans, ...this.valPlans].filter((p) => !this.items.has(p.key)).length;
  }

  get cached(): number {
    return this.plans.length + this.valPlans.length - this.missing;
  }

  /** The LR input of a region (its full side, with the margin), 8-bit as the student sees it. */
  private async input(plan: RegionPlan): Promise<{ lr: Uint8Array; side: number }> {
    const { photo, x, y, side } = plan;
    const region = new Float32Array(side * side * 3);
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const s = ((y + r) * photo.width + x + c) * photo.channels;
        const d = (r * side + c) * 3;
        region[d] = photo.data[s]!;
        region[d + 1] = photo.data[s + (photo.channels > 1 ? 1 : 0)]!;
        region[d + 2] = photo.data[s + (photo.channels > 2 ? 2 : 0)]!;
      }
    }
    let img: FloatImage = { width: side, height: side, channels: 3, data: region };
    // A copy of the plan's stream: computing a region twice (after a crash) degrades it the same way.
    if (this.o.inputs !== 'none') img = await degrade(img, this.o.scale, this.o.inputs, new Rng(plan.rng.state()));
    const lr = new Uint8Array(img.width * img.height * 3);
    for (let i = 0; i < lr.length; i++) lr[i] = Math.max(0, Math.min(255, Math.round(img.data[i]!)));
    return { lr, side: img.width };
  }

  /** Computes one region with the teacher: its input with the margin, then both cropped to the region. */
  private async compute(plan: RegionPlan, teacher: TeacherFn): Promise<Region> {
    const { lr: full, side } = await this.input(plan);
    const s = this.o.scale;
    this.teacherCalls++;
    const out = await teacher(full, side, side);
    if (out.length !== side * s * side * s * 3) throw new RestoraError('MODEL_INVALID', `The teacher ${this.o.teacher.card.id} gave ${out.length} values for a ${side}x${side} region at x${s}.`);
    const r = this.region;
    const m = plan.margin;
    const lr = new Uint8Array(r * r * 3);
    for (let row = 0; row < r; row++) lr.set(full.subarray(((row + m) * side + m) * 3, ((row + m) * side + m + r) * 3), row * r * 3);
    const rs = r * s;
    const target = new Uint8Array(rs * rs * 3);
    const os = side * s;
    for (let row = 0; row < rs; row++) target.set(out.subarray(((row + m * s) * os + m * s) * 3, ((row + m * s) * os + m * s + rs) * 3), row * rs * 3);
    return { lr, target, stats: globalStats(lr, r, r, 255) };
  }

  /**
   * Runs the teacher on every region not cached yet, writing each as soon as it is done.
   * Cancelling stops between regions; what was written stays for the next try.
   */
  async fill(teacher: TeacherFn, opts: { signal?: AbortSignal; onProgress?: (p: FillProgress) => void } = {}): Promise<void> {
    const todo = [...this.plans, ...this.valPlans].filter((p) => !this.items.has(p.key));
    const total = this.plans.length + this.valPlans.length;
    let computed = 0;
    const t0 = performance.now();
    if (todo.length) this.ensureIdentity();
    for (const plan of todo) {
      if (opts.signal?.aborted) throw new RestoraError('CANCELLED', `Teacher cache stopped at ${this.cached} of ${total} regions; the ${this.cached} done are kept in ${this.dir}.`);
      const region = await this.compute(plan, teacher);
      const bytes = new Uint8Array(region.lr.length + region.target.length);
      bytes.set(region.lr, 0);
      bytes.set(region.target, region.lr.length);
      writeFileAtomic(path.join(this.dir, `${plan.key}.bin`), bytes);
      this.items.set(plan.key, region);
      computed++;
      opts.onProgress?.({ done: this.cached, total, computed, seconds: (performance.now() - t0) / 1000 });
    }
  }

  private item(plan: RegionPlan): Region {
    const it = this.items.get(plan.key);
    if (!it) throw new Error(`teacher region ${plan.key} is not computed (fill() the pool first)`);
    return it;
  }

  /** The student's input and target of train region i (for checks). */
  regionAt(i: number): { lr: FloatImage; target: FloatImage } {
    const it = this.item(this.plans[i]!);
    const r = this.region;
    const rs = r * this.o.scale;
    return { lr: { width: r, height: r, channels: 3, data: Float32Array.from(it.lr) }, target: { width: rs, height: rs, channels: 3, data: Float32Array.from(it.target) } };
  }

  /** The held-out pairs: each held-out photo's centred region and the teacher's output on it. */
  valPairs(): PairImage[] {
    return this.valPlans.map((plan) => {
      const it = this.item(plan);
      const r = this.region;
      const rs = r * this.o.scale;
      return { name: plan.name, lr: { width: r, height: r, channels: 3, data: Float32Array.from(it.lr) }, hr: { width: rs, height: rs, channels: 3, data: Float32Array.from(it.target) } };
    });
  }

  /**
   * A batch: for each item, a region drawn at random, an aligned crop of `patch` LR pixels and
   * one of the 8 flips/rotations, all from `rng` (the trainer's, checkpointed with the run).
   */
  sample(rng: Rng, batch: number, patch: number, scale: number): Batch {
    if (scale !== this.o.scale) throw new Error(`the teacher pool is x${this.o.scale}, not x${scale}`);
    if (patch > this.region)
      throw new RestoraError('USAGE', `The patch (${patch}px) is larger than the teacher's regions (${this.region}px).`, undefined, { hint: { cli: `Use --patch ${this.region} or less.`, studio: `Set the patch to ${this.region} px or less.` } });
    const hp = patch * scale;
    const lr = new Float32Array(batch * patch * patch * 3);
    const hr = new Float32Array(batch * hp * hp * 3);
    const cond = new Float32Array(batch * GLOBAL_STATS);
    const r = this.region;
    for (let b = 0; b < batch; b++) {
      const it = this.item(this.plans[rng.int(this.plans.length)]!);
      const x = rng.int(r - patch + 1);
      const y = rng.int(r - patch + 1);
      const t = rng.int(8);
      copyPatch({ width: r, channels: 3, data: it.lr }, x, y, patch, t, lr, b * patch * patch * 3);
      copyPatch({ width: r * scale, channels: 3, data: it.target }, x * scale, y * scale, hp, t, hr, b * hp * hp * 3);
      cond.set(it.stats, b * GLOBAL_STATS);
    }
    return { lr, hr, batch, patch, scale, cond };
  }

  /** The trainer's batch source over this pool (synchronous: the teacher's work is done). */
  source(): BatchSource {
    return { next: (rng, batch, patch, scale) => this.sample(rng, batch, patch, scale) };
  }
}
