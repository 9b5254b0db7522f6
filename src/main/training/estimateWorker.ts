/**
 * A run's cost, measured off the main thread before it starts (the studio asks):
 * - 'teacher': one region through the teacher on this machine's backend, times the
 *   regions to compute (reads photo headers and the run's cache; writes nothing);
 * - 'steps': a few real training steps of the run's model, batch and patch on its photos,
 *   timed, then minutes for the plan (a scratch folder, removed after).
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { BackendId, TeacherEstimate, TeacherEstimateRequest, TrainEstimate } from '../../shared/api.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import { openDatabase } from '../db/database.js';
import { initBackend } from '../ml/backend.js';
import { TrainService, type TrainRequest } from './trainService.js';

export type EstimateWorkerData = { home: string; backend?: BackendId; threads?: number } & ({ kind: 'teacher'; request: TeacherEstimateRequest } | { kind: 'steps'; request: TrainRequest });
export type FromEstimateWorker = { type: 'estimate'; estimate: TeacherEstimate | TrainEstimate } | { type: 'error'; error: { code: string; message: string } };

if (!parentPort) throw new Error('estimateWorker must run in a worker thread');
const port = parentPort;
const data = workerData as EstimateWorkerData;

async function main(): Promise<TeacherEstimate | TrainEstimate> {
  await initBackend({ ...(data.backend ? { prefer: data.backend } : {}), ...(data.threads ? { threads: data.threads } : {}) });
  const db = openDatabase(path.join(data.home, 'restora.db'));
  try {
    const service = new TrainService(db, data.home);
    return data.kind === 'teacher' ? await service.estimateTeacher(data.request) : await service.estimateSteps(data.request);
  } finally {
    db.close();
  }
}

main().then(
  (estimate) => port.postMessage({ type: 'estimate', estimate } satisfies FromEstimateWorker),
  (err: unknown) => port.postMessage({ type: 'error', error: { code: err instanceof RestoraError ? err.code : 'INTERNAL', message: errorMessage(err) } } satisfies FromEstimateWorker),
);
