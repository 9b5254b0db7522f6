/**
 * Composition root: builds the services once, for the CLI, the Electron shell,
 * the web server and tests alike.
 */
import path from 'node:path';
import type { BackendId, ComputeChoice } from '../../shared/api.js';
import { ComputeHost } from '../ml/worker/computeHost.js';
import { ModelLibrary } from '../ml/store/modelLibrary.js';
import { bundledModelsDir, dataHome } from '../paths.js';
import { UpscaleService } from './upscaleService.js';
import { upscaleDefaults } from './requestDefaults.js';
import { SpeedCache } from '../ml/store/speedCache.js';
import { openDatabase, type Db } from '../db/database.js';
import { BatchJobs } from '../jobs/batchJob.js';
import { JobRunner } from '../jobs/jobRunner.js';
import { Library } from '../library/library.js';
import type { TrainService } from '../training/trainService.js';
import { TrainingRunner } from '../training/trainingRunner.js';
import { effectiveCompute } from '../ml/engine/chromium.js';
import type { Engine } from '../ml/engine/protocol.js';
import type { PageLauncher } from '../ml/engine/chromium.js';
import { EventBus } from '../events.js';
import { createMediaResolver, type MediaResolver } from './media.js';
import { SettingsStore } from './settings.js';

/** How a training run in this thread (the CLI's) opens its engine: none on the CPU. */
function trainingEngine(choice: ComputeChoice): (() => Promise<Engine | undefined>) | undefined {
  if (choice === 'cpu') return undefined;
  return async () => (await (await import('../ml/engine/openEngine.js')).openComputeEngine(choice)).engine ?? undefined;
}

export interface AppConfig {
  home?: string;
  backend?: BackendId;
  threads?: number;
  /** How the WebGPU compute page is opened (the desktop app: a hidden window); default: headless Chromium. */
  pageLauncher?: PageLauncher;
}

export interface App {
  home: string;
  config: AppConfig;
  models: ModelLibrary;
  compute: ComputeHost;
  upscale: UpscaleService;
  speed: SpeedCache;
  settings: SettingsStore;
  events: EventBus;
  media: MediaResolver;
  /** Opened on first use, so commands that need no store never touch it. */
  db(): Db;
  jobs(): BatchJobs;
  library(): Library;
  /** Background export jobs with events (the UI's export queue). */
  jobRunner(): JobRunner;
  /** Training runs in worker threads (the UI's wizard). */
  trainingRunner(): TrainingRunner;
  /** Loaded on first use: it pulls in tfjs, which other commands leave to the worker. */
  training(): Promise<TrainService>;
  close(): Promise<void>;
}

export function createApp(config: AppConfig = {}): App {
  const home = config.home ?? dataHome();
  const settings = new SettingsStore(home);
  const models = new ModelLibrary(bundledModelsDir(), path.join(home, 'models'), () => settings.get().defaults);
  const compute = new ComputeHost(
    {
      ...(config.backend ? { backend: config.backend } : {}),
      ...(config.threads ? { threads: config.threads } : {}),
      compute: settings.get().compute,
    },
    config.pageLauncher,
  );
  const speed = new SpeedCache(home);
  const events = new EventBus();
  let db: Db | null = null;
  let jobs: BatchJobs | null = null;
  let library: Library | null = null;
  let jobRunner: JobRunner | null = null;
  let trainingRunner: TrainingRunner | null = null;
  let training: TrainService | null = null;
  const getDb = () => (db ??= openDatabase(path.join(home, 'restora.db')));
  const getJobs = () => (jobs ??= new BatchJobs(getDb(), models, compute, undefined, () => upscaleDefaults(settings.get()).tile));
  const getLibrary = () => (library ??= new Library(getDb(), path.join(home, 'thumbs')));
  const getTrainingRunner = () =>
    (trainingRunner ??= new TrainingRunner(getDb(), home, events, {
      ...(config.backend ? { backend: config.backend } : {}),
      ...(config.threads ? { threads: config.threads } : {}),
      computeChoice: () => settings.get().compute,
      ...(config.pageLauncher ? { pageLauncher: config.pageLauncher } : {}),
    }));
  return {
    home,
    config,
    models,
    compute,
    speed,
    events,
    settings,
    media: createMediaResolver(home, getLibrary, (runId) => getTrainingRunner().sampleFile(runId)),
    upscale: new UpscaleService(models, compute, speed, () => upscaleDefaults(settings.get())),
    db: getDb,
    jobs: getJobs,
    library: getLibrary,
    jobRunner: () => (jobRunner ??= new JobRunner(getDb(), getJobs(), getLibrary, events)),
    trainingRunner: getTrainingRunner,
    training: async () => (training ??= new (await import('../training/trainService.js')).TrainService(getDb(), home, trainingEngine(effectiveCompute(config.backend, settings.get().compute)))),
    close: async () => {
      await jobRunner?.close();
      await trainingRunner?.close();
      db?.close();
      await compute.close();
    },
  };
}
