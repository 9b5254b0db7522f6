/**
 * Picks the fastest tfjs backend that loads: tfjs-node-gpu > tfjs-node > wasm > cpu.
 * The native packages are optionalDependencies (they download libtensorflow at
 * install time, which fails offline), so each is tried with a dynamic import.
 * Override with RESTORA_BACKEND=gpu|node|wasm|cpu or the CLI's --backend.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { installNodeWasmThreads } from './kernels/wasmThreads.js';
import { registerWasmGradientKernels } from './kernels/wasmGradients.js';
import { registerBatchNormGradient } from './kernels/batchNormGrad.js';
import { registerResizeNearestGradient } from './kernels/resizeNearestGrad.js';
import { RestoraError } from '../../shared/errors.js';
import { BACKEND_IDS, type BackendId, type BackendInfo } from '../../shared/api.js';

/** The tfjs backends this thread can run itself, fastest first. 'webgpu' runs in a Chromium renderer instead (engine/pageEngine.ts). */
export const BACKEND_ORDER: readonly BackendId[] = ['gpu', 'node', 'wasm', 'cpu'];

let active: BackendInfo | null = null;

/** Loads a tfjs-node package; resolves to null on success, else why it failed. */
async function tryNative(pkg: string): Promise<string | null> {
  try {
    await import(/* @vite-ignore */ pkg);
    return tf.findBackend('tensorflow') != null && (await tf.setBackend('tensorflow')) ? null : `${pkg} registered no usable backend`;
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    return /Cannot find (package|module)/.test(message) ? `${pkg} is not installed (it downloads libtensorflow at install time)` : `${pkg} failed to load: ${message.split('\n')[0]}`;
  }
}

export function defaultThreads(): number {
  const fromEnv = Number(process.env.RESTORA_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

async function initWasm(threads: number): Promise<boolean> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const threaded = threads > 1 && installNodeWasmThreads();
  if (threaded) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
  } else {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  registerWasmGradientKernels();
  if (!threaded) return tf.setBackend('wasm');
  // tfjs-backend-wasm caps its thread pool at emscripten_num_logical_cores() / 2 (it
  // assumes two hyper-threads per core), which under Node is os.cpus().length / 2: one
  // thread on a 2-core machine, whatever setThreadsCount asked. While the module starts,
  // report twice the requested threads so the cap is the count we chose.
  const realCpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => realCpus()[i % realCpus().length]!);
  try {
    const ok = await tf.setBackend('wasm');
    // The pool's pthreads are Node workers; like the rest of the backend they must not keep a finished process alive.
    const pthreads = (tf.backend() as unknown as { wasm?: { PThread?: { unusedWorkers: { unref?: () => void }[]; runningWorkers: { unref?: () => void }[] } } }).wasm?.PThread;
    for (const w of [...(pthreads?.unusedWorkers ?? []), ...(pthreads?.runningWorkers ?? [])]) w.unref?.();
    return ok;
  } finally {
    os.cpus = realCpus;
  }
}

/** The thread count the wasm backend really runs with (its pool may be smaller than asked). */
export async function wasmThreadsInUse(): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  return wasm.getThreadsCount();
}

export interface BackendOptions {
  prefer?: BackendId;
  threads?: number;
}

/** Initialises tfjs once per process (or worker) and reports what was chosen. */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  if (active) return active;
  // Production mode: no per-op debug checks, and no console banner about tfjs-node.
  tf.enableProdMode();
  // A batch-norm gradient without the activation-sized Tile (any backend).
  registerBatchNormGradient();
  // An exact upsampling gradient (tfjs-backend-cpu's kernel is wrong beyond one image and channel).
  registerResizeNearestGradient();
  const envPrefer = process.env.RESTORA_BACKEND as BackendId | undefined;
  const asked = options.prefer ?? (envPrefer && BACKEND_IDS.includes(envPrefer) ? envPrefer : undefined);
  // With webgpu the models run in a Chromium renderer; this thread still needs the best local backend for everything else.
  const prefer = asked === 'webgpu' ? undefined : asked;
  const threads = options.threads ?? defaultThreads();
  const order = prefer ? BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(prefer)) : BACKEND_ORDER;
  const tried: string[] = [];
  let fallbackReason: string | undefined;
  for (const id of order) {
    let why: string | null;
    if (id === 'gpu') why = await tryNative('@tensorflow/tfjs-node-gpu');
    else if (id === 'node') why = await tryNative('@tensorflow/tfjs-node');
    else if (id === 'wasm')
      why = await initWasm(threads).then(
        (ok) => (ok ? null : 'the wasm backend did not start'),
        (err: Error) => `the wasm backend did not start: ${err.message}`,
      );
    else why = (await tf.setBackend('cpu')) ? null : 'the cpu backend did not start';
    // Never silently: a backend the user asked for and did not get is said, with the reason.
    if (why && id === prefer) fallbackReason = `${id} is unavailable: ${why}`;
    if (!why) {
      await tf.ready();
      active = {
        id,
        tfName: tf.getBackend(),
        // What the wasm pool really runs with, not what was asked.
        threads: id === 'wasm' ? await wasmThreadsInUse() : id === 'cpu' ? 1 : os.cpus().length,
        tfjsVersion: tf.version.tfjs,
        skipped: tried,
        ...(fallbackReason ? { fallbackReason: `${fallbackReason}; using ${id}` } : {}),
      };
      return active;
    }
    tried.push(id);
  }
  throw new RestoraError('BACKEND_UNAVAILABLE', `No tfjs backend could be initialised (tried ${tried.join(', ')}).`);
}

export function activeBackend(): BackendInfo | null {
  return active;
}
