/** Messages between the main thread and the compute worker. */
import type { ErrorHint } from '../../../shared/errors.js';
import type { ArchInfo, BackendId, BackendInfo, ComputeChoice, ModelCard } from '../../../shared/api.js';
import type { ImportMeta, ImportSource } from '../import/convert.js';
import type { UpscaleFileRequest, UpscaleFileResult } from '../infer/upscaleFile.js';
import type { PageExited, PageRequest } from '../engine/pageRelay.js';

export interface WorkerInit {
  backend?: BackendId;
  threads?: number;
  /** Settings' choice of where models run (a `backend` given here wins). */
  compute?: ComputeChoice;
  /** 'parent': the WebGPU page is opened by the thread that started the worker (the desktop app's hidden window). */
  pageHost?: 'chromium' | 'parent';
}

export type ToWorker =
  | { type: 'info'; id: number }
  /** Settings changed where models run; answered with the resulting info. */
  | { type: 'useCompute'; id: number; compute: ComputeChoice }
  /** The desktop app's compute window closed or crashed. */
  | PageExited
  /** Closes the engine (the WebGPU page and its Chromium) before the thread is terminated. */
  | { type: 'shutdown'; id: number }
  /** Builds an architecture (untrained) to count its parameters. */
  | { type: 'archs'; id: number }
  /** Live tensors on the engine models run on (the leak checks of tests and the soak). */
  | { type: 'memory'; id: number }
  | { type: 'describeArch'; id: number; arch: string; scale: number; archOptions: Record<string, number | string | boolean> }
  /** Loads a model folder and runs a small input through it to learn its scale. */
  | { type: 'probeModel'; id: number; modelDir: string }
  /** Finds the damage in a photo with the detector and writes its mask (white = damaged) as a PNG. */
  | { type: 'detectDamage'; id: number; detectorDir: string; input: string; maskOut: string; tile: number }
  /** Converts a community model file into a Restora model folder at outDir. */
  | { type: 'importModel'; id: number; source: ImportSource; outDir: string; meta: ImportMeta }
  | {
      type: 'upscale';
      id: number;
      /** null: no model step (the Restore pipeline's repair only, at the photo's size). */
      modelDir: string | null;
      request: UpscaleFileRequest;
      /** Int32 flag: non-zero = cancel. Shared so it is seen mid-computation. */
      cancel: SharedArrayBuffer;
    };

export interface WireError {
  code: string;
  message: string;
  file?: string;
  hint?: ErrorHint;
}

export type FromWorker =
  /** Asks the parent to open (and later close) the WebGPU compute page (pageHost 'parent'). */
  | PageRequest
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'info'; id: number; info: BackendInfo }
  | { type: 'described'; id: number; params: number; scale: number }
  | { type: 'archs'; id: number; archs: ArchInfo[] }
  | { type: 'upscaled'; id: number; result: UpscaleFileResult }
  | { type: 'imported'; id: number; card: ModelCard }
  | { type: 'detected'; id: number; width: number; height: number; damaged: number }
  | { type: 'closed'; id: number }
  | { type: 'memory'; id: number; numTensors: number }
  | { type: 'error'; id: number; error: WireError };
