/** Messages between the training runner (main thread) and a training worker. */
import type { BackendId, ComputeChoice, TrainingStage } from '../../shared/api.js';
import type { TrainProgress } from '../ml/train/trainer.js';
import type { PageRequest } from '../ml/engine/pageRelay.js';
import type { TrainRequest } from './trainService.js';

export interface TrainWorkerData {
  home: string;
  request: TrainRequest;
  backend?: BackendId;
  threads?: number;
  /** Settings' choice of where the steps run (a `backend` given here wins). */
  compute?: ComputeChoice;
  /** 'parent': a WebGPU page is opened by the main thread (the desktop app's hidden window). */
  pageHost?: 'parent';
  /** Int32 flag set by main: 0 run, 1 pause, 2 cancel. Shared so the step loop sees it without yielding. */
  control: SharedArrayBuffer;
}

export const CONTROL_RUN = 0;
export const CONTROL_PAUSE = 1;
export const CONTROL_CANCEL = 2;

export type FromTrainWorker =
  | PageRequest
  | { type: 'run'; runId: number }
  /** `stage`: a recipe's stage these steps belong to. */
  | { type: 'progress'; progress: TrainProgress; stage?: TrainingStage }
  /** A recipe's stage taken up (passed over when its model is installed). */
  | { type: 'stage'; stage: TrainingStage }
  | { type: 'sample'; step: number }
  | { type: 'teacher'; done: number; total: number; secondsPerRegion: number; etaSec: number }
  | { type: 'done'; modelId: string }
  | { type: 'error'; error: { code: string; message: string } };
