/**
 * Every call the UI can make, declared once: name -> request schema and response
 * type. The Electron IPC adapter, the preload client, the HTTP server and the
 * renderer's client are all generated over this map, so both sides are checked
 * by the compiler, and every request is validated at runtime (zod) before any
 * handler sees it.
 */
import { z } from 'zod';
import { API_METHODS, EVENTS_PATH, IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL, MEDIA_SCHEME, type ApiMethod } from './methods.js';
import {
  COMPUTE_CHOICES,
  TILE_RANGE,
  IMAGE_STATUSES,
  OUTPUT_FORMATS,
  PIXEL_LOSSES,
  PRESETS,
  RECIPES,
  TRAIN_PRESETS,
  type AppEvent,
  type ArchInfo,
  type BackendInfo,
  type DamageMask,
  type DatasetStats,
  type ImageDetail,
  type ImageRow,
  type ImageStatus,
  type OutputFormat,
  type PresetId,
  type ImportReport,
  type JobSummary,
  type MetricPointRow,
  type ModelSummary,
  type PairPreview,
  type ProjectSummary,
  type RunSummary,
  type Settings,
  type SpeedEstimate,
  type TeacherEstimate,
  type TrainEstimate,
  type TrainPreset,
  type UpscaleImageResult,
} from './api.js';

const id = z.number().int().positive();
const text = z.string().min(1).max(4096);
const paths = z.array(text).min(1).max(10_000);
const name = z.string().regex(/^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u, "letters, digits, '.', '_' or '-' (up to 64)");
const scale = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(8)]);
const empty = z.object({}).strict();
const archOptions = z.record(z.string(), z.union([z.number(), z.string(), z.boolean()]));

/** The face step: an imported face model, its blend over the photo's face, CodeFormer's fidelity. */
const faceChoice = z.object({ modelId: text, strength: z.number().min(0).max(1).optional(), fidelity: z.number().min(0).max(1).optional() }).strict();

const batchSpec = z
  .object({
    inputs: z.array(text).max(10_000).default([]),
    /** Library images to export (resolved to their paths in main). */
    imageIds: z.array(id).max(100_000).optional(),
    // Left out (web mode: the browser names no server folder): a new folder under RESTORA_HOME/exports.
    outDir: text.optional(),
    modelId: text.optional(),
    scale: scale.optional(),
    format: z.enum(OUTPUT_FORMATS as readonly OutputFormat[] as [OutputFormat, ...OutputFormat[]]).default('png'),
    quality: z.number().int().min(1).max(100).optional(),
    nameTemplate: z.string().min(1).max(200).default('{name}'),
    recursive: z.boolean().default(true),
    tile: z.number().int().min(TILE_RANGE.min).max(TILE_RANGE.max).optional(),
    resize: z
      .object({ width: z.number().int().min(1).max(65_535).optional(), height: z.number().int().min(1).max(65_535).optional() })
      .strict()
      .optional(),
    keepColours: z.boolean().optional(),
    // The Restore pipeline's first step, as the single-photo button runs it: 'auto' repairs each
    // library photo with its saved mask, any other with the detector's.
    repair: z.enum(['auto', 'off']).optional(),
    // Levels and white balance after the model (faded prints).
    levels: z.boolean().optional(),
    faces: faceChoice.optional(),
  })
  .strict();

const trainPreset = z.enum(TRAIN_PRESETS as readonly TrainPreset[] as [TrainPreset, ...TrainPreset[]]);
/** A teacher's regions: enough to draw varied batches from, few enough to label in hours. */
const teacherRegions = z.number().int().min(1).max(100_000);

/**
 * Training photos from the Library: a project's photos (uploads included), or only the
 * chosen ones. The server resolves them to its own files, so a browser needs no path.
 */
const librarySource = z.object({ projectId: id, imageIds: z.array(id).min(1).max(100_000).optional() }).strict();
/** Folders or files on the machine that trains (desktop, CLI), or photos from the Library, or both. */
const trainingData = { dataDirs: z.array(text).max(10_000).default([]), library: librarySource.optional() };

const trainRequest = z
  .object({
    name,
    ...trainingData,
    scale: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]),
    preset: trainPreset,
    arch: text,
    archOptions: archOptions.optional(),
    steps: z.number().int().min(1).max(1_000_000).optional(),
    batch: z.number().int().min(1).max(256).optional(),
    patch: z.number().int().min(8).max(512).optional(),
    gan: z.boolean().optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .optional(),
    loss: z.enum(PIXEL_LOSSES).optional(),
    lr: z.number().positive().max(1).optional(),
    optimizer: z.enum(['adam', 'adamw', 'sgd']).optional(),
    momentum: z.number().min(0).max(0.999).optional(),
    nesterov: z.boolean().optional(),
    weightDecay: z.number().min(0).max(1).optional(),
    schedule: z.enum(['cosine', 'step']).optional(),
    ema: z.number().min(0).max(0.99999).optional(),
    evalDir: text.optional(),
    initModel: text.optional(),
    klWeight: z.number().min(0).max(10).optional(),
    klWarmup: z.number().int().min(0).max(1_000_000).optional(),
    latentStage: z.enum(['clean', 'degraded', 'mapping']).optional(),
    recipe: z.enum(RECIPES).optional(),
    teacher: text.optional(),
    teacherRegions: teacherRegions.optional(),
    teacherDownscale: z.boolean().optional(),
    teacherConfirmed: z.boolean().optional(),
  })
  .strict();

const settingsPatch = z
  .object({
    tile: z.number().int().min(TILE_RANGE.min).max(TILE_RANGE.max),
    outputFormat: z.enum(OUTPUT_FORMATS as readonly OutputFormat[] as [OutputFormat, ...OutputFormat[]]),
    quality: z.number().int().min(1).max(100),
    theme: z.enum(['system', 'light', 'dark']),
    compute: z.enum(COMPUTE_CHOICES),
    defaults: z.record(z.string().regex(/^(upscale|restore|cleanup)-x\d$/), text),
  })
  .partial()
  .strict();

/** Runtime schemas of every request; the request types below are inferred from them. */
export const REQUEST_SCHEMAS = {
  'app.info': empty,
  'app.openPath': z.object({ path: text }).strict(),
  'app.pickPaths': z.object({ kind: z.enum(['files', 'folder']) }).strict(),
  'settings.get': empty,
  'settings.set': settingsPatch,
  'models.list': empty,
  'models.import': z.object({ path: text, name: z.string().min(1).max(100).optional(), license: z.string().max(4000).optional() }).strict(),
  'models.delete': z.object({ id: text }).strict(),
  'models.archs': empty,
  'models.estimate': z.object({ arch: text, scale, archOptions: archOptions.optional(), modelId: text.optional() }).strict(),
  'projects.list': empty,
  'projects.create': z.object({ name: z.string().trim().min(1).max(200) }).strict(),
  'library.import': z
    .object({
      projectId: id,
      paths,
      recursive: z.boolean().default(true),
      include: z.array(z.string().max(500)).max(50).optional(),
      exclude: z.array(z.string().max(500)).max(50).optional(),
    })
    .strict(),
  'library.importSample': z.object({ projectId: id }).strict(),
  'library.list': z
    .object({
      projectId: id,
      status: z.enum(IMAGE_STATUSES as readonly ImageStatus[] as [ImageStatus, ...ImageStatus[]]).optional(),
      format: z.string().max(20).optional(),
      search: z.string().max(500).optional(),
      sort: z.enum(['name', 'imported', 'size', 'pixels']).optional(),
      descending: z.boolean().optional(),
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    })
    .strict(),
  'library.get': z.object({ id }).strict(),
  'upscale.image': z
    .object({
      imageId: id,
      modelId: text.optional(),
      taskId: z.string().min(1).max(100),
      keepColours: z.boolean().optional(),
      // Levels and white balance after the model (faded prints).
      levels: z.boolean().optional(),
      // The repair step first: 'auto' finds the damage, 'mask' uses the photo's saved mask (damage.saveMask).
      repair: z.enum(['auto', 'off', 'mask']).optional(),
      // A second model on the result brought back to the photo's size ("Restore + x4": the x4 real-world default).
      then: text.optional(),
      // Restore the faces after the model (Restore old photo's Faces step).
      faces: faceChoice.optional(),
    })
    .strict(),
  'damage.detect': z.object({ imageId: id }).strict(),
  // A PNG in base64: 64 MB of it is a mask of about 300 MP, far past any photo the library takes.
  'damage.saveMask': z
    .object({
      imageId: id,
      png: z
        .string()
        .min(1)
        .max(64 * 1024 * 1024)
        .regex(/^[A-Za-z0-9+/]+={0,2}$/),
    })
    .strict(),
  'upscale.cancel': z.object({ taskId: z.string().min(1).max(100) }).strict(),
  // The face step's blend of a result, set again after the fact (Compare's strength slider).
  'upscale.faceStrength': z.object({ historyId: id, strength: z.number().min(0).max(1) }).strict(),
  'jobs.start': batchSpec,
  'jobs.list': empty,
  'jobs.outputs': z.object({ jobId: id }).strict(),
  'jobs.pause': z.object({ jobId: id }).strict(),
  'jobs.resume': z.object({ jobId: id }).strict(),
  'jobs.cancel': z.object({ jobId: id }).strict(),
  'datasets.inspect': z.object({ ...trainingData, scale, patch: z.number().int().min(8).max(512).default(48), name: name.optional() }).strict(),
  'training.preview': z
    .object({
      ...trainingData,
      preset: z.enum(PRESETS as readonly PresetId[] as [PresetId, ...PresetId[]]),
      scale: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]),
      count: z.number().int().min(1).max(32).default(8),
      patch: z.number().int().min(8).max(256).default(48),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31)
        .default(1),
    })
    .strict(),
  'training.estimateTeacher': z
    .object({
      name: name.optional(),
      ...trainingData,
      scale: z.union([z.literal(2), z.literal(4), z.literal(8)]),
      preset: trainPreset,
      teacher: text,
      teacherRegions: teacherRegions.optional(),
      teacherDownscale: z.boolean().optional(),
    })
    .strict(),
  // The run's time on this machine, measured with a few real steps before it starts.
  'training.estimate': trainRequest,
  'training.start': trainRequest,
  'training.pause': z.object({ runId: id }).strict(),
  'training.resume': z.object({ runId: id }).strict(),
  'training.cancel': z.object({ runId: id }).strict(),
  'training.runs': empty,
  'training.history': z.object({ runId: id }).strict(),
} as const satisfies Record<ApiMethod, z.ZodType>;

type Req<M extends keyof typeof REQUEST_SCHEMAS> = z.input<(typeof REQUEST_SCHEMAS)[M]>;

interface Responses {
  'app.info': { version: string; backend: BackendInfo; home: string; transport?: string };
  'app.openPath': { opened: boolean };
  /** Desktop only: what the user picked in the system's open dialog (empty when cancelled). */
  'app.pickPaths': { paths: string[] };
  'settings.get': Settings;
  'settings.set': Settings;
  'models.list': ModelSummary[];
  'models.import': ModelSummary;
  'models.delete': { deleted: string };
  'models.archs': ArchInfo[];
  'models.estimate': SpeedEstimate;
  'projects.list': ProjectSummary[];
  'projects.create': { id: number };
  'library.import': ImportReport;
  'library.importSample': ImportReport;
  'library.list': { total: number; rows: ImageRow[] };
  'library.get': ImageDetail;
  'upscale.image': UpscaleImageResult;
  'upscale.cancel': { cancelled: boolean };
  'upscale.faceStrength': { historyId: number; strength: number };
  'damage.detect': DamageMask;
  'damage.saveMask': DamageMask;
  'jobs.start': { jobId: number; resumed: boolean };
  'jobs.list': JobSummary[];
  /** A job's finished outputs by name inside its folder, in the order of /download/job/<id>/<n>. */
  'jobs.outputs': { names: string[] };
  'jobs.pause': JobSummary;
  'jobs.resume': JobSummary;
  'jobs.cancel': JobSummary;
  'datasets.inspect': DatasetStats;
  'training.preview': { pairs: PairPreview[]; skipped: { path: string; reason: string }[] };
  'training.estimateTeacher': TeacherEstimate;
  'training.estimate': TrainEstimate;
  'training.start': { runId: number };
  'training.pause': RunSummary;
  'training.resume': RunSummary;
  'training.cancel': RunSummary;
  'training.runs': RunSummary[];
  'training.history': MetricPointRow[];
}

export type ApiContract = { [M in ApiMethod]: { req: Req<M>; res: Responses[M] } };

/** What a handler receives: the request after validation and defaults. */
export type ApiRequest<M extends ApiMethod> = z.output<(typeof REQUEST_SCHEMAS)[M]>;

export type ApiClient = {
  [M in ApiMethod]: (req: ApiContract[M]['req']) => Promise<ApiContract[M]['res']>;
};

export type ApiHandlers = {
  [M in ApiMethod]: (req: ApiRequest<M>) => Promise<ApiContract[M]['res']>;
};

/** What crosses a transport: a result, or a typed error. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

/**
 * Images the UI shows are addressed by media paths, never by file paths:
 *   thumb/<imageId>, image/<imageId>, result/<historyId>, mask/<imageId> (its damage mask), preview/<previewId>/<n>-<lr|hr>.png,
 *   sample/<runId>/<step> (a run's latest sample strip; the step only busts caches)
 * Web mode serves them at /media/<path>; Electron at restora-media://app/<path>.
 */
export const MEDIA_PATH = /^(thumb|image|result|result-nofaces|result-faces|mask)\/(\d{1,12})$|^preview\/([a-f0-9]{16})\/(\d{1,3})-(lr|hr)\.png$|^sample\/(\d{1,12})\/(\d{1,9})$/;

export function isApiMethod(x: unknown): x is ApiMethod {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(REQUEST_SCHEMAS, x);
}

/** Requests are plain objects with no prototype tricks; validated in main before use. */
export function isPlainRequest(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}

/** Validates a request for `method`; returns the parsed value or a readable message. */
export function parseRequest<M extends ApiMethod>(method: M, payload: unknown): { ok: true; value: ApiRequest<M> } | { ok: false; message: string } {
  if (!isPlainRequest(payload)) return { ok: false, message: `${method}: payload must be an object` };
  const r = REQUEST_SCHEMAS[method].safeParse(payload);
  if (r.success) return { ok: true, value: r.data as ApiRequest<M> };
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
  return { ok: false, message: `${method}: ${issues}` };
}

export type { AppEvent, ApiMethod };
export { API_METHODS, EVENTS_PATH, IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL, MEDIA_SCHEME };
