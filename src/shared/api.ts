/**
 * The one typed contract between the engine and its adapters (CLI, Electron IPC,
 * HTTP). Plain data only: no runtime dependencies, importable from every process.
 */

/** 'webgpu': a Chromium renderer's WebGPU (any GPU vendor); 'gpu': tfjs-node-gpu (CUDA); 'node': tfjs-node; then wasm, cpu. */
export const BACKEND_IDS = ['webgpu', 'gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendId = (typeof BACKEND_IDS)[number];

/**
 * Where the app runs models (Settings): 'cpu' = this thread's best tfjs backend (wasm, or
 * native tfjs where it installed); 'webgpu' = the GPU through a Chromium page; 'auto' =
 * WebGPU when a hardware adapter is found, else the CPU. A --backend flag or
 * RESTORA_BACKEND wins over it.
 */
export const COMPUTE_CHOICES = ['cpu', 'auto', 'webgpu'] as const;
export type ComputeChoice = (typeof COMPUTE_CHOICES)[number];

/** A WebGPU adapter as it describes itself. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software or fallback adapter (SwiftShader): proves the path, is not a GPU. */
  fallback: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface BackendInfo {
  id: BackendId;
  /** tfjs's own backend name ('tensorflow', 'wasm', 'cpu'). */
  tfName: string;
  threads: number;
  tfjsVersion: string;
  /** Backends tried first that failed to load. */
  skipped: string[];
  /** Where models run: 'webgpu' on `adapter`, or the tfjs backend above. */
  compute?: { backend: string; adapter?: AdapterInfo };
  /** Why the backend asked for is not the one in use (it was unavailable, or its device was lost). */
  fallbackReason?: string;
}

/** Default tile side in input pixels: ~400 px with context keeps activations ~20 MB per layer. */
export const DEFAULT_TILE = 384;
/** Tile sides (input pixels) any front end accepts: the CLI, the API and Settings alike. */
export const TILE_RANGE = { min: 32, max: 2048 } as const;

export type OutputFormat = 'png' | 'jpg' | 'webp' | 'tiff' | 'avif';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'jpg', 'webp', 'tiff', 'avif'];

export interface ModelCard {
  id: string;
  name: string;
  arch: string;
  archOptions: Record<string, number | string | boolean>;
  scale: number;
  params: number;
  /**
   * 'detect-damage' and 'inpaint': the damage nets of the Restore pipeline (scale 1), not picked to upscale;
   * 'face': a face restorer (imported GFPGAN), run by the face step on aligned face crops.
   */
  task: 'upscale' | 'restore' | 'detect-damage' | 'inpaint' | 'face';
  trainingData?: string;
  degradation?: string;
  steps?: number;
  metrics?: Record<string, { psnr: number; ssim: number }>;
  /** Damage detectors: the probability over which a pixel counts as damaged (picked on held-out photos). */
  threshold?: number;
  /** Damage detectors: a damaged region takes in its connected pixels over this probability (its soft rims); default: threshold. */
  growThreshold?: number;
  /**
   * Damage detectors: the looser rule of the studio's Find damage, whose marks a person reviews
   * and corrects before anything is repaired (threshold and growThreshold are the rule of the
   * automatic repair, chosen for precision). Default: the repair's rule.
   */
  review?: { threshold: number; growThreshold: number };
  /** Scores other than a restored photo's PSNR/SSIM (a detector's IoU, PSNR inside and outside damage masks), by evaluation. */
  scores?: Record<string, Record<string, number>>;
  measuredWith?: string;
  date?: string;
  license?: string;
  notes?: string;
  /** Imported models: the file(s) they came from, with SHA-256, and the layout recognised. */
  source?: ModelSource;
  /** Fine-tuned models: the model whose weights they started from, and that model's own lineage. */
  lineage?: { id: string; name: string; sha256?: string }[];
  /** Distilled models (restora train --teacher): the model whose outputs they learned, and on what. */
  teacher?: TeacherLineage;
  /** Measured on the machine that imported or trained it. */
  speed?: { outputMpPerSec: number; backend: string; threads: number; input: string; date: string };
}

/** A distilled model's teacher: which model, its licence and files, and the regions it labelled. */
export interface TeacherLineage {
  id: string;
  name: string;
  /** The teacher's own scale; with `downscaled` its output was reduced to the student's with bicubic imresize. */
  scale: number;
  downscaled?: boolean;
  license?: string;
  /** The teacher's source files (an imported model's), with SHA-256. */
  source?: ModelSource;
  /** Regions the teacher labelled (LR side `regionSide` px each) and what the student's inputs were. */
  regions: number;
  regionSide: number;
  inputs: string;
}

export type ModelFormat = 'pytorch' | 'safetensors' | 'ncnn' | 'restora';

export interface ModelSource {
  format: ModelFormat;
  layout: string;
  files: { name: string; sha256: string; bytes: number }[];
}

/** What `models.import` and `restora models import` take. */
export interface ModelImportRequest {
  /** A .pth/.pt/.safetensors file, an ncnn .param or .bin (its pair beside it), or a folder holding one model. */
  path: string;
  name?: string;
  license?: string;
}

export interface ModelSummary {
  card: ModelCard;
  source: 'bundled' | 'user';
  dir: string;
}

/** The bundled damage nets of the Restore pipeline (detect -> inpaint -> restore/upscale). */
export const SCRATCH_DETECTOR_ID = 'restora-scratch-detect';
export const INPAINTER_ID = 'restora-inpaint';

/**
 * The repair step before the model: 'auto' finds scratches, creases, dust and torn corners
 * with the detector; { maskFile } uses the user's mask (white = damaged) instead; 'off' skips it.
 */
export type RepairChoice = 'auto' | 'off' | { maskFile: string };

/** A library photo's damage mask (white = damaged), shown as an overlay in Compare. */
export interface DamageMask {
  imageId: number;
  /** Media path of the mask PNG (mask/<imageId>). */
  media: string;
  width: number;
  height: number;
  /** Pixels marked damaged. */
  damaged: number;
  /** Found by the detector, or corrected and saved by the user. */
  source: 'detected' | 'edited';
}

export interface UpscaleOptions {
  /** 'none': no model step (with repair: the repaired photo at its own size). */
  modelId?: string;
  repair?: RepairChoice;
  /** Also write the mask used, as <name>-mask.png beside the result. */
  saveMask?: boolean;
  scale?: number;
  format?: OutputFormat;
  quality?: number;
  tile?: number;
  /** Keep the photo's own low-frequency colours (default: on for restoration models). */
  keepColours?: boolean;
  /** Roll off highlights the model brightened instead of clipping them (default: on for restoration models). */
  keepHighlights?: boolean;
  /** Levels and white balance for faded prints after the model (default: off). */
  levels?: boolean;
  /** Folders: also the photos in their subfolders, mirrored under the output folder (default: off). */
  recursive?: boolean;
  /** The face step: an imported face model restores each face after the model step (default: off). */
  faces?: FaceChoice;
}

/** Which face model restores the faces, how much of its face replaces the photo's (0..1), and CodeFormer's fidelity w (0..1). */
export interface FaceChoice {
  modelId: string;
  strength?: number;
  fidelity?: number;
}

/** The face step's default blend: identity first, the restored face at half weight. */
export const DEFAULT_FACE_STRENGTH = 0.5;
/** CodeFormer's w by default: nearer the photo's face than the codebook's (its authors suggest 0.5 as a balance). */
export const DEFAULT_FACE_FIDELITY = 0.7;

/** What the face step did to one photo. */
export interface FaceCounts {
  /** Faces the detector found. */
  found: number;
  restored: number;
  /** Found, but too small to restore (under 16 px wide). */
  tooSmall: number;
  /** Found, but the five points do not form a face (a hand, a pattern): left alone. */
  misshapen?: number;
  /** Each restored face's crop footprint in the output's pixels. */
  boxes?: { x: number; y: number; width: number; height: number }[];
}

export interface ItemResult {
  input: string;
  output?: string;
  ok: boolean;
  /** What went wrong, and what to do about it in the CLI's and the studio's terms. */
  error?: { code: string; message: string; hint?: { cli?: string; studio?: string } };
  ms?: number;
  /** Pixels the repair step filled in. */
  repairedPixels?: number;
  faces?: FaceCounts;
  /** The tile used, when it differs from the one asked for, and why. */
  tile?: TileChange;
}

/**
 * A tile side Restora changed: to fit the model's memory on this backend, to a whole number
 * of the model's grid (a transformer's attention windows, a pixel-unshuffling net's stride),
 * or smaller after the GPU ran out of memory.
 */
export type TileChange =
  | { asked: number; used: number; reason: 'model-memory' | 'gpu-out-of-memory' }
  /** The model's tiles are whole multiples of `multiple` px (its attention windows, its pixel unshuffle). */
  | { asked: number; used: number; reason: 'grid'; multiple: number };

/** One phrase for a changed tile, the same in the CLI and the studio. */
export function tileChangeSaid(t: TileChange): string {
  const why =
    t.reason === 'grid'
      ? `the model takes tiles in whole multiples of ${t.multiple} px (its attention windows or strides)`
      : t.reason === 'model-memory'
        ? "that is the most the model's memory allows on this backend"
        : 'the GPU ran out of memory at the tile asked for';
  return `in ${t.used} px tiles, not ${t.asked}: ${why}`;
}

// ---- Library ---------------------------------------------------------------

export type ImageStatus = 'original' | 'restored' | 'exported';
export const IMAGE_STATUSES: readonly ImageStatus[] = ['original', 'restored', 'exported'];

// ---- Tasks: what a user wants done, each mapped to a default model ----------

/** What a user wants done; with a scale it names a task (the CLI's --task and --scale). */
export type TaskKind = 'restore' | 'upscale' | 'cleanup';
export const TASK_KINDS: readonly TaskKind[] = ['restore', 'upscale', 'cleanup'];

export type TaskId = 'restore' | 'upscale-x2' | 'upscale-x4' | 'cleanup' | 'cleanup-x4';

export interface TaskDef {
  id: TaskId;
  kind: TaskKind;
  scale: number;
  label: string;
  /** Settings.defaults key of the model used for it (set in Models). */
  settingsKey: string;
  /** The bundled model used until the user picks another. */
  fallback: string;
  /** What it is for, in one line. */
  what: string;
}

// Clean up runs the students distilled from Real-ESRGAN's realesr-general-x4v3 (restora train --teacher).
export const TASKS: readonly TaskDef[] = [
  { id: 'restore', kind: 'restore', scale: 2, label: 'Restore old photo', settingsKey: 'restore-x2', fallback: 'restora-oldphoto-x2', what: "Old scans and prints: less grain and fading, more contrast, the photo's own colours kept; twice the size." },
  { id: 'upscale-x2', kind: 'upscale', scale: 2, label: 'Upscale x2', settingsKey: 'upscale-x2', fallback: 'restora-x2', what: 'Clean digital photos at twice the width and height.' },
  { id: 'upscale-x4', kind: 'upscale', scale: 4, label: 'Upscale x4', settingsKey: 'upscale-x4', fallback: 'restora-x4', what: 'Clean digital photos at four times the width and height.' },
  { id: 'cleanup', kind: 'cleanup', scale: 2, label: 'Clean up noise/JPEG x2', settingsKey: 'cleanup-x2', fallback: 'restora-clean-x2', what: 'Phone and web photos with noise, blur or JPEG blocks; twice the size.' },
  { id: 'cleanup-x4', kind: 'cleanup', scale: 4, label: 'Clean up noise/JPEG x4', settingsKey: 'cleanup-x4', fallback: 'restora-clean-x4', what: 'Phone and web photos with noise, blur or JPEG blocks; four times the size.' },
];

/** The task of a kind at a scale (without one: x2, the scale every kind has), or undefined. */
export function taskFor(kind: string, scale?: number): TaskDef | undefined {
  const of = TASKS.filter((t) => t.kind === kind);
  return of.find((t) => t.scale === (scale ?? 2));
}

/** The tasks and their scales, for messages: "restore (x2), upscale (x2, x4), cleanup (x2, x4)". */
export function taskChoices(): string {
  return TASK_KINDS.map(
    (k) =>
      `${k} (${TASKS.filter((t) => t.kind === k)
        .map((t) => `x${t.scale}`)
        .join(', ')})`,
  ).join(', ');
}

/**
 * The model a task runs: the user's default for it (Settings, set in Models), else the
 * bundled one. The one place this choice is made: the studio's task buttons, the CLI's
 * --task and default model, and the batch service all call it.
 */
export function taskModel(task: TaskDef, defaults: Record<string, string> | undefined): string {
  return defaults?.[task.settingsKey] ?? task.fallback;
}

/** Which tasks a model may be the default for: its own scale; restore tasks take restoration models, upscale tasks upscalers, clean-up either. */
export function tasksForModel(card: { task: string; scale: number }): TaskDef[] {
  if (card.task !== 'upscale' && card.task !== 'restore') return [];
  return TASKS.filter((t) => t.scale === card.scale && (t.kind === 'cleanup' || t.kind === card.task));
}

export interface ProjectSummary {
  id: number;
  name: string;
  images: number;
}

export interface ImageRow {
  id: number;
  projectId: number;
  path: string;
  contentHash: string;
  size: number;
  format: string;
  width: number;
  height: number;
  status: ImageStatus;
  importedAt: string;
  /** Why the image cannot be used (found by decoding it after import), or null. */
  problem: string | null;
}

export interface HistoryEntry {
  id: number;
  action: string;
  modelId: string | null;
  settings: object | null;
  output: string | null;
  at: string;
}

export interface ImageDetail extends ImageRow {
  exif: Record<string, unknown> | null;
  history: HistoryEntry[];
  /** Media path of the photo's saved damage mask (mask/<id>), or null: "Use my mask" is offered only with one. */
  savedMask: string | null;
}

export interface LibraryQuery {
  status?: ImageStatus;
  format?: string;
  /** Substring of the file path, case-insensitive. */
  search?: string;
  sort?: 'name' | 'imported' | 'size' | 'pixels';
  descending?: boolean;
  offset?: number;
  limit?: number;
}

export interface ImportReport {
  added: number;
  duplicates: number;
  /** Files left out by include/exclude patterns. */
  skipped: number;
  /** Files that could not be imported, each with why (not an image, corrupt, missing...). */
  failed: { path: string; code: string; message: string }[];
  /** Files inside the folders left out because they are not images by extension (the first 200 listed). */
  ignored: { count: number; paths: string[] };
}

// ---- Batch export ----------------------------------------------------------

export interface BatchSpec {
  inputs: string[];
  outDir: string;
  modelId?: string;
  scale?: number;
  format: OutputFormat;
  quality?: number;
  /** Output name template: {name} {model} {scale} {ext}. */
  nameTemplate: string;
  recursive: boolean;
  tile?: number;
  /** Optional resize after the model, keeping the aspect ratio when only one side is given. */
  resize?: { width?: number; height?: number };
  /** Keep the photo's own low-frequency colours (default: on for restoration models). */
  keepColours?: boolean;
  /** Repair scratches and dust first ('auto'), as Restore old photo does for one photo; default 'off'. */
  repair?: 'auto' | 'off';
  /** With repair 'auto': a photo's own saved mask (input path -> mask file) instead of the detector's. */
  repairMasks?: Record<string, string>;
  /** Levels and white balance after the model, for faded prints. */
  levels?: boolean;
  /** Restore each face with an imported face model after the model (default: off). */
  faces?: FaceChoice;
}

export type JobState = 'running' | 'paused' | 'cancelled' | 'done' | 'failed';

export interface JobProgress {
  jobId: number;
  done: number;
  failed: number;
  total: number;
  /** The item being worked on and how far it is (tiles). */
  current?: string;
  currentDone?: number;
  currentTotal?: number;
  ratePerSec: number;
  etaSec: number;
  /** The tile the items run at, when it differs from the job's (the model's windows or memory): said once per job. */
  tile?: TileChange;
}

export interface JobSummary {
  id: number;
  state: JobState;
  total: number;
  done: number;
  failed: number;
  pending: number;
  createdAt: string;
  spec: BatchSpec;
  failures: { input: string; code: string; message: string }[];
  /** Items are being worked on by another process (a CLI batch beside the app): not paused, and not to be resumed here. */
  runningElsewhere: boolean;
}

// ---- Upscaling one library image (Compare view) ----------------------------

export interface UpscaleImageResult {
  historyId: number;
  output: string;
  modelId: string;
  width: number;
  height: number;
  ms: number;
  /** Measured when the image has a reference (an HR image of the same name beside it in a folder called HR). */
  reference?: { psnr: number; ssim: number };
  /** Pixels the repair step filled in (when it ran). */
  repairedPixels?: number;
  /** The face step (when it ran): counts, each face's box in the result, and the strength used. */
  faces?: FaceResult;
  /** The tile used, when it differs from Settings' (see TileChange). */
  tile?: TileChange;
}

/** A result's face step, for Compare's per-face view and strength slider. */
export interface FaceResult extends FaceCounts {
  modelId: string;
  strength: number;
  /** Each restored face's crop footprint in the result's pixels. */
  boxes: { x: number; y: number; width: number; height: number }[];
}

// ---- Training --------------------------------------------------------------

/** noise-jpeg: a fixed second degradation (Gaussian noise sigma 8, then JPEG quality 35) to score models on one they were not trained on. */
export type PresetId = 'bicubic' | 'jpeg' | 'old-photo' | 'realistic' | 'noise-jpeg';
export const PRESETS: readonly PresetId[] = ['bicubic', 'jpeg', 'old-photo', 'realistic', 'noise-jpeg'];
export const PIXEL_LOSSES = ['l1', 'mse', 'charbonnier'] as const;
export type PixelLoss = (typeof PIXEL_LOSSES)[number];

/** A training run's inputs: a degradation preset, or 'none' (the photos themselves; distillation only). */
export type TrainPreset = PresetId | 'none';
export const TRAIN_PRESETS: readonly TrainPreset[] = [...PRESETS, 'none'];

/** Training recipes: one request trained as several runs in order (src/main/training/recipes.ts). */
export const RECIPES = ['vae-latent'] as const;
export type RecipeId = (typeof RECIPES)[number];

/** Teacher regions by default, and the teacher time (seconds) over which a run needs the user's confirmation. */
export const DEFAULT_TEACHER_REGIONS = 1024;
export const TEACHER_CONFIRM_SEC = 3600;

export interface TrainRequest {
  name: string;
  dataDirs: string[];
  scale: number;
  preset: TrainPreset;
  arch: string;
  archOptions?: Record<string, number | string | boolean>;
  steps?: number;
  batch?: number;
  patch?: number;
  gan?: boolean;
  seed?: number;
  loss?: PixelLoss;
  lr?: number;
  optimizer?: 'adam' | 'adamw' | 'sgd';
  /** SGD only: momentum (default 0.9) and Nesterov's variant. */
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /** After warm-up: cosine to a floor, or 'step' (halve at 50 % and 75 % of the steps). */
  schedule?: 'cosine' | 'step';
  /** EMA decay of the weights (e.g. 0.999); 0 or absent = off. The EMA weights are validated and exported. */
  ema?: number;
  /** A folder of HR images (e.g. Set5) also scored at every validation step, degraded like `restora eval --degrade PRESET --seed 1`. */
  evalDir?: string;
  /** Fine-tune: start from this installed model's weights (its arch, options and scale); the card records the lineage. */
  initModel?: string;
  /** VAEs: the KL term's weight (per latent element) after warm-up (default 1e-5), and the warm-up steps from 0 (default a fifth of the run). */
  klWeight?: number;
  klWarmup?: number;
  /**
   * A stage of the VAE latent-translation recipe (restora train --recipe vae-latent):
   * 'clean' a VAE reconstructing clean photos at their own size; 'degraded' one
   * reconstructing their degraded LR (the preset at x2); 'mapping' the x2 model from the
   * degraded VAE's encoder, through a mapping net, to the clean VAE's decoder, whose two
   * VAEs are the models <name>-clean and <name>-degraded.
   */
  latentStage?: LatentStage;
  /**
   * Train a recipe's stages in order rather than one model (restora train --recipe): a stage
   * whose model is installed is passed over, one with a checkpoint resumed, the rest started.
   * 'vae-latent' trains <name>-clean, <name>-degraded and <name> (arch vae, scale 2).
   */
  recipe?: RecipeId;
  /**
   * Knowledge distillation: the targets are this installed upscaling model's outputs on the
   * student's own inputs (the photos, or the photos degraded with `preset`), computed once
   * per region of a seeded pool of `teacherRegions` regions and cached in the run's folder.
   */
  teacher?: string;
  teacherRegions?: number;
  /** Take a teacher of a larger scale (x4 for an x2 run), its output reduced with bicubic imresize. */
  teacherDownscale?: boolean;
  /** The user saw the teacher's estimated cost and accepted it (needed when it is over an hour; CLI --yes). */
  teacherConfirmed?: boolean;
}

/** A run's time on this machine, measured before it starts: a few real steps, then the plan. */
export interface TrainEstimate {
  /** Seconds per step, the mean of the timed steps (the first, which compiles kernels, is not counted). */
  secondsPerStep: number;
  timedSteps: number;
  /** The plan measured: its steps, and the minutes they take here (a GAN stage, if any, is not included). */
  steps: number;
  minutes: number;
  /** Steps that take about 30 minutes here: the wizard's default. */
  stepsFor30Min: number;
  /** Where the steps ran (e.g. wasm, 2 threads). */
  backend: string;
}

/** What `training.estimateTeacher` takes: the teacher part of a run's request. */
export interface TeacherEstimateRequest {
  /** The run's name: regions its folder already caches are not counted. */
  name?: string;
  dataDirs: string[];
  scale: number;
  preset: TrainPreset;
  teacher: string;
  teacherRegions?: number;
  teacherDownscale?: boolean;
}

/** The teacher's cost for a run, measured on this machine before it starts. */
export interface TeacherEstimate {
  teacher: string;
  /** Where it was measured (the backend the run's teacher will use). */
  backend: string;
  /** Seconds for one region with its margin (LR side `regionSide`). */
  secondsPerRegion: number;
  regionSide: number;
  /** Train and held-out regions, those already cached, those to compute. */
  regions: number;
  cached: number;
  toCompute: number;
  seconds: number;
  /** Over an hour: the user must confirm (teacherConfirmed; CLI --yes). */
  confirmNeeded: boolean;
}

export type LatentStage = 'clean' | 'degraded' | 'mapping';

/** A recipe's stage as it is taken up (reported before it runs, or is passed over). */
export interface TrainingStage {
  recipe: RecipeId;
  /** The stage's run and model name, e.g. "latent-clean". */
  name: string;
  stage: LatentStage;
  /** 1-based. */
  index: number;
  total: number;
  /** 'installed': done, its model is installed (passed over); 'resuming': from its checkpoint. */
  status: 'installed' | 'resuming' | 'starting';
}

export interface DatasetStats {
  id?: number;
  name?: string;
  usable: number;
  train: number;
  val: number;
  minSide: number;
  skipped: { path: string; reason: string }[];
}

export interface PairPreview {
  /** Media paths (see mediaPath in contract.ts). */
  lr: string;
  hr: string;
}

export type RunState = 'running' | 'paused' | 'cancelled' | 'done' | 'failed';

/** A face found in a photo, in the photo's pixels: its box, the detector's score (0..1) and five points
 * (left eye centre, right eye centre as seen, nose tip, left and right mouth corners). */
export interface DetectedFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  points: [number, number][];
}

/** Held-out PSNR (dB) a run must beat, on its own held-out pairs: bicubic, and the model a fine-tune starts from. */
export interface RunBaselines {
  bicubic?: number;
  start?: number;
  startSsim?: number;
}

/** How a finished run's model scored against its baselines; `verdict` says it plainly when it loses. */
export interface RunOutcome {
  psnr: number;
  beatsBicubic?: boolean;
  beatsStart?: boolean;
  verdict: string;
}

/**
 * The run's plain answer: does the new model beat its baselines? A model that does not is
 * said to be worse, and the studio does not offer it as a default.
 */
export function runOutcome(psnr: number, b: RunBaselines): RunOutcome {
  const beatsBicubic = b.bicubic === undefined ? undefined : psnr > b.bicubic;
  const beatsStart = b.start === undefined ? undefined : psnr > b.start;
  const lost = [beatsBicubic === false ? `bicubic enlargement (${b.bicubic!.toFixed(2)} dB)` : '', beatsStart === false ? `the model it started from (${b.start!.toFixed(2)} dB)` : ''].filter(Boolean);
  const verdict = lost.length ? `Worse than ${lost.join(' and ')} on its held-out photos: ${psnr.toFixed(2)} dB. Not offered as a default; train longer, on more photos, or from a stronger model.` : '';
  return { psnr, ...(beatsBicubic !== undefined ? { beatsBicubic } : {}), ...(beatsStart !== undefined ? { beatsStart } : {}), verdict };
}

/** A trained model whose card says it scored below bicubic or its start model on held-out photos. */
export function losesToBaselines(card: Pick<ModelCard, 'metrics'>): string | null {
  const m = (card.metrics ?? {}) as Record<string, { psnr?: number } | undefined>;
  const own = m.heldout?.psnr;
  if (own === undefined) return null;
  const o = runOutcome(own, { ...(m['heldout-bicubic']?.psnr !== undefined ? { bicubic: m['heldout-bicubic'].psnr } : {}), ...(m['heldout-start']?.psnr !== undefined ? { start: m['heldout-start'].psnr } : {}) });
  return o.verdict || null;
}

export interface RunSummary {
  id: number;
  name: string;
  state: RunState;
  createdAt: string;
  updatedAt: string;
  step: number;
  steps: number;
  scale: number;
  arch: string;
  preset: string;
  modelId: string | null;
  error: string | null;
  /** How many photos it trains and validates on (its dataset "run:<name>"); null until the photos are loaded. */
  photos: { train: number; val: number } | null;
  /** What it must beat (known once its held-out photos are prepared), and, when finished, how it did. */
  baselines: RunBaselines | null;
  outcome: RunOutcome | null;
  /** A recipe's run while it trains: the stage taken up last. */
  stage?: TrainingStage;
}

export interface MetricPointRow {
  step: number;
  wallMs: number;
  loss: number;
  lr: number;
  valPsnr: number | null;
  valSsim: number | null;
  /** On the run's evaluation set, when it has one. */
  evalPsnr?: number | null;
  evalSsim?: number | null;
  /** GAN stage only. */
  gLoss?: number | null;
  dLoss?: number | null;
  /** VAEs: the reconstruction loss and the KL per latent element (loss = recon + weight * kl). */
  recon?: number | null;
  kl?: number | null;
}

export interface ArchInfo {
  id: string;
  description: string;
  scales: number[];
  /** Its hyper-parameters and their default values (what the wizard's options box can set). */
  defaults: Record<string, number | string | boolean>;
  /** A generator a user can train; false for the GAN stage's discriminator. */
  trainable: boolean;
}

export interface SpeedEstimate {
  params: number;
  /** Measured on this machine and cached; null until the first run. */
  trainStepsPerSec: number | null;
  upscaleMpPerSec: number | null;
}

// ---- Settings --------------------------------------------------------------

export type Theme = 'system' | 'light' | 'dark';

export interface Settings {
  tile: number;
  compute: ComputeChoice;
  outputFormat: OutputFormat;
  quality: number;
  theme: Theme;
  /** Default model per task and scale, keyed "upscale-x2", "restore-x2"... */
  defaults: Record<string, string>;
}

/** Where a running training run is, as the trainer reports it after each step. */
export interface TrainingLive {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  stepsPerSec: number;
  etaSec: number;
}

// ---- Events (pushed to the UI: IPC channel or WebSocket) --------------------

export type AppEvent =
  | { type: 'upscale.progress'; taskId: string; done: number; total: number }
  | { type: 'library.import'; projectId: number; done: number; total: number }
  /** The images just imported were decoded in the background; `broken` of them cannot be used. */
  | { type: 'library.checked'; projectId: number; checked: number; broken: number }
  | { type: 'job.progress'; progress: JobProgress }
  | { type: 'job.state'; jobId: number; state: JobState }
  /** `stage`: the recipe's stage these steps belong to (a recipe run only; its steps count from 1 in each stage). */
  | ({ type: 'training.progress'; runId: number; point?: MetricPointRow; stage?: TrainingStage } & TrainingLive)
  /** A new held-out sample strip (LR | model | HR) at a validation step; `media` is its media path. */
  | { type: 'training.sample'; runId: number; step: number; media: string }
  | { type: 'training.state'; runId: number; state: RunState; modelId?: string; error?: { code: string; message: string } }
  /** A distillation's teacher labelling its regions before the first step: `done` of `total` cached. */
  | { type: 'training.teacher'; runId: number; done: number; total: number; secondsPerRegion: number; etaSec: number }
  /** From the desktop app's menu: the renderer carries these out. */
  | { type: 'menu'; command: 'import-folder'; paths: string[] }
  | { type: 'menu'; command: 'export' };
