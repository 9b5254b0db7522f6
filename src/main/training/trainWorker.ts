/**
 * A training run in its own worker thread, so the app's main thread (UI, IPC,
 * HTTP) stays responsive. It opens its own SQLite connection (WAL allows it) and
 * reports progress; main pauses or cancels it through a shared flag, and the
 * trainer checkpoints before it stops.
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import { openDatabase } from '../db/database.js';
import { initBackend } from '../ml/backend.js';
import { effectiveCompute } from '../ml/engine/chromium.js';
import { openComputeEngine } from '../ml/engine/openEngine.js';
import { parentLauncher, type PageExited } from '../ml/engine/pageRelay.js';
import { SpeedCache } from '../ml/store/speedCache.js';
import { TrainService } from './trainService.js';
import type { TrainingStage } from '../../shared/api.js';
import type { TrainProgress } from '../ml/train/trainer.js';
import type { FillProgress } from '../ml/train/teacher.js';
import { CONTROL_RUN, type FromTrainWorker, type TrainWorkerData } from './trainProtocol.js';

if (!parentPort) throw new Error('trainWorker must run in a worker thread');
const port = parentPort;
const data = workerData as TrainWorkerData;
const send = (m: FromTrainWorker) => port.postMessage(m);
const control = new Int32Array(data.control);
// In the desktop app the WebGPU page is a hidden window the main thread opens for this worker.
const relay = data.pageHost === 'parent' ? parentLauncher(send) : null;
if (relay) port.on('message', (m: PageExited) => m.type === 'pageExited' && relay.onExited(m));

async function main(): Promise<void> {
  const backend = await initBackend({ ...(data.backend ? { prefer: data.backend } : {}), ...(data.threads ? { threads: data.threads } : {}) });
  const db = openDatabase(path.join(data.home, 'restora.db'));
  const stop = new AbortController();
  let stepsPerSec = 0;
  const check = () => {
    if (Atomics.load(control, 0) !== CONTROL_RUN && !stop.signal.aborted) stop.abort();
  };
  try {
    // With webgpu (or 'auto' that finds a GPU) the steps run in a headless Chromium page this worker starts and closes.
    const choice = effectiveCompute(data.backend, data.compute);
    let gpu = false;
    const openEngine = async () => {
      const opened = await openComputeEngine(choice === 'cpu' ? 'auto' : choice, relay ? { launcher: relay.launcher } : {});
      gpu = opened.engine !== null;
      return opened.engine ?? undefined;
    };
    const service = new TrainService(db, data.home, choice === 'cpu' ? undefined : openEngine);
    const onProgress = (progress: TrainProgress, stage?: TrainingStage) => {
      stepsPerSec = progress.stepsPerSec;
      send({ type: 'progress', progress, ...(stage ? { stage } : {}) });
      check();
    };
    const onRunId = (runId: number) => {
      send({ type: 'run', runId });
      check();
    };
    const onSample = (step: number) => send({ type: 'sample', step });
    const hooks = {
      onTeacherProgress: (p: FillProgress & { etaSec: number }) => {
        send({ type: 'teacher', done: p.done, total: p.total, secondsPerRegion: p.seconds / Math.max(1, p.computed), etaSec: p.etaSec });
        check();
      },
    };
    // A recipe's stages run one after the other in this worker; the run's events say which stage is stepping.
    const result = data.request.recipe
      ? await service.trainRecipe(data.request, onProgress, stop.signal, onRunId, onSample, { ...hooks, onStage: (stage) => send({ type: 'stage', stage }) })
      : await service.train(data.request, onProgress, stop.signal, onRunId, onSample, hooks);
    // Measured on this machine: shown next to the architecture choice in the wizard (a recipe's stages are other archs).
    if (stepsPerSec > 0 && !data.request.recipe) {
      new SpeedCache(data.home).record(SpeedCache.key('train', data.request.arch, gpu ? 'webgpu' : backend.id, backend.threads), stepsPerSec, 'steps/s');
    }
    send({ type: 'done', modelId: result.modelId });
  } finally {
    db.close();
  }
}

main().catch((err: unknown) => {
  send({ type: 'error', error: { code: err instanceof RestoraError ? err.code : 'INTERNAL', message: errorMessage(err) } });
});
