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
  return {
    home,
    models,
    compute,
    speed,
    upscale: new UpscaleService(models, compute, speed),
    close: () => compute.close(),
  };
}
