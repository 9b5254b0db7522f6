/**
 * The compute worker thread: owns the tfjs backend and loaded models, runs
 * inference requests one at a time, reports progress, honours cancellation.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend.js';
import { loadLayersModel, readCard } from './modelStore.js';
import { getArch } from './archs/index.js';
import { upscaleFile } from './upscaleFile.js';
import type { FromWorker, ToWorker, WorkerInit } from './workerProtocol.js';
import { RestoraError } from '../../shared/errors.js';

if (!parentPort) throw new Error('computeWorker must run in a worker thread');
const port = parentPort;
const init = (workerData ?? {}) as WorkerInit;
const models = new Map<string, tf.LayersModel>();
const send = (m: FromWorker) => port.postMessage(m);

async function model(dir: string): Promise<tf.LayersModel> {
  let m = models.get(dir);
  if (!m) {
    m = await loadLayersModel(dir);
    models.set(dir, m);
  }
  return m;
}

let queue: Promise<void> = Promise.resolve();

async function handle(msg: ToWorker): Promise<void> {
  try {
    const info = await initBackend({
      ...(init.backend ? { prefer: init.backend } : {}),
      ...(init.threads ? { threads: init.threads } : {}),
    });
    if (msg.type === 'info') {
      send({ type: 'info', id: msg.id, info });
      return;
    }
    const flag = new Int32Array(msg.cancel);
    const card = readCard(msg.modelDir);
    const arch = getArch(card.arch);
    const overlap = arch.receptiveRadius({ ...arch.defaults, ...card.archOptions }) + 2;
    const request = { ...msg.request, overlap: Math.max(msg.request.overlap, overlap), multiple: arch.sizeMultiple ?? 1 };
    const result = await upscaleFile(await model(msg.modelDir), request, {
      onProgress: (done, total) => send({ type: 'progress', id: msg.id, done, total }),
      isCancelled: () => Atomics.load(flag, 0) !== 0,
    });
    send({ type: 'upscaled', id: msg.id, result });
  } catch (err) {
    const e = err instanceof RestoraError ? err : new RestoraError('INTERNAL', (err as Error)?.message ?? String(err));
    send({ type: 'error', id: msg.id, error: { code: e.code, message: e.message, ...(e.file ? { file: e.file } : {}) } });
  }
}

port.on('message', (msg: ToWorker) => {
  queue = queue.then(() => handle(msg));
});
