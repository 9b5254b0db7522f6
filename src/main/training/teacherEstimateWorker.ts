/**
 * A teacher's cost for a run, measured off the main thread (the studio asks before a
 * distillation starts): one region through the teacher on this machine's backend, times
 * the regions to compute. It reads photo headers and the run's cache; it writes nothing.
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { BackendId, TeacherEstimate, TeacherEstimateRequest } from '../../shared/api.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import { openDatabase } from '../db/database.js';
import { initBackend } from '../ml/backend.js';
import { TrainService } from './trainService.js';

export interface EstimateWorkerData {
  home: string;
  request: TeacherEstimateRequest;
  backend?: BackendId;
  threads?: number;
}
export type FromEstimateWorker = { type: 'estimate'; estimate: TeacherEstimate } | { type: 'error'; error: { code: string; message: string } };

if (!parentPort) throw new Error('teacherEstimateWorker must run in a worker thread');
const port = parentPort;
const data = workerData as EstimateWorkerData;

async function main(): Promise<TeacherEstimate> {
  await initBackend({ ...(data.backend ? { prefer: data.backend } : {}), ...(data.threads ? { threads: data.threads } : {}) });
  const db = openDatabase(path.join(data.home, 'restora.db'));
  try {
    return await new TrainService(db, data.home).estimateTeacher(data.request);
  } finally {
    db.close();
  }
}

main().then(
  (estimate) => port.postMessage({ type: 'estimate', estimate } satisfies FromEstimateWorker),
  (err: unknown) => port.postMessage({ type: 'error', error: { code: err instanceof RestoraError ? err.code : 'INTERNAL', message: errorMessage(err) } } satisfies FromEstimateWorker),
);
