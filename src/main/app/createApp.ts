/**
 * Composition root: builds the services once, for the CLI, the Electron shell,
 * the web server and tests alike.
 */
import path from 'node:path';
import type { BackendId } from '../../shared/api.js';
import { ComputeHost } from '../ml/computeHost.js';
import { ModelLibrary } from '../ml/modelLibrary.js';
import { bundledModelsDir, dataHome } from '../paths.js';
import { UpscaleService } from './upscaleService.js';
import { SpeedCache } from '../ml/speedCache.js';
import { openDatabase, type Db } from '../db/database.js';
import { BatchJobs } from '../jobs/batchJob.js';
import type { TrainService } from '../training/trainService.js';

export interface AppConfig {
  home?: string;
  backend?: BackendId;
  threads?: number;
}

export interface App {
  home: string;
  models: ModelLibrary;
  compute: ComputeHost;
  upscale: UpscaleService;
  speed: SpeedCache;
  /** Opened on first use, so commands that need no store never touch it. */
  db(): Db;
  jobs(): BatchJobs;
  /** Loaded on first use: it pulls in tfjs, which other commands leave to the worker. */
  training(): Promise<TrainService>;
  close(): Promise<void>;
}

export function createApp(config: AppConfig = {}): App {
  const home = config.home ?? dataHome();
  const models = new ModelLibrary(bundledModelsDir(), path.join(home, 'models'));
  const compute = new ComputeHost({
    ...(config.backend ? { backend: config.backend } : {}),
    ...(config.threads ? { threads: config.threads } : {}),
  });
  const speed = new SpeedCache(home);
  let db: Db | null = null;
  let jobs: BatchJobs | null = null;
  let training: TrainService | null = null;
  const getDb = () => (db ??= openDatabase(path.join(home, 'restora.db')));
  return {
    home,
    models,
    compute,
    speed,
    upscale: new UpscaleService(models, compute, speed),
    db: getDb,
    jobs: () => (jobs ??= new BatchJobs(getDb(), models, compute)),
    training: async () => (training ??= new (await import('../training/trainService.js')).TrainService(getDb(), home)),
    close: async () => {
      db?.close();
      await compute.close();
    },
  };
}
