/**
 * On-the-fly degradation on a second thread. Degrading an old-photo batch takes
 * 0.2-1 s of single-threaded JS (blur, noise, resizes, JPEG round trips), time
 * in which the training step cannot run. Here a loader thread makes the next
 * step's batch while this thread trains on the current one (like PyTorch's
 * DataLoader workers). Batches are a pure function of a seed drawn from the run's
 * RNG (dataset.ts degradedBatch), so results equal degradedSource's exactly:
 * the seed of the next step is peeked from a copy of the RNG, never consumed early,
 * and a checkpointed run resumes with the same batches.
 * The photos are shared with the thread (SharedArrayBuffer), not copied.
 */
import type { Worker } from 'node:worker_threads';
import type { Batch, BatchSource } from './dataset.js';
import type { FloatImage } from '../../imaging/imresize.js';
import type { PresetId } from '../../degrade/presets.js';
import { Rng } from '../core/rng.js';
import { siblingEntry, startWorker } from '../../workers.js';

export interface LoaderInit {
  photos: { width: number; height: number; channels: number; buffer: SharedArrayBuffer }[];
  preset: PresetId;
  context?: number;
  /** Colour-jitter each clean region before degrading it (degrade/ops.ts colourJitter). */
  jitter?: boolean;
  /** Damaged batches with masks (damageData.ts) instead of degraded pairs; preset unused. */
  damage?: boolean;
}
export type LoaderRequest = { id: number; seed: number; batch: number; patch: number; scale: number };
export type LoaderReply = { id: number; lr: Float32Array; hr: Float32Array; cond?: Float32Array; mask?: Float32Array } | { id: number; error: string };

/** A copy of the photo whose pixels live in shared memory (returned as is when they already do). */
export function sharedPhoto(img: FloatImage): FloatImage {
  if (img.data.buffer instanceof SharedArrayBuffer) return img;
  const data = new Float32Array(new SharedArrayBuffer(img.data.byteLength));
  data.set(img.data);
  return { ...img, data };
}

export function threadedDegradedSource(photos: readonly FloatImage[], preset: PresetId, context?: number, jitter = false, damage = false): BatchSource & { close(): Promise<void> } {
  const shared = photos.map(sharedPhoto);
  const init: LoaderInit = {
    photos: shared.map((p) => ({ width: p.width, height: p.height, channels: p.channels, buffer: p.data.buffer as SharedArrayBuffer })),
    preset,
    ...(context ? { context } : {}),
    ...(jitter ? { jitter } : {}),
    ...(damage ? { damage } : {}),
  };
  const worker: Worker = startWorker(siblingEntry(import.meta.url, 'degradeWorker'), init);
  const waiting = new Map<number, { resolve: (b: Batch) => void; reject: (e: Error) => void; req: LoaderRequest }>();
  const made = new Map<string, Promise<Batch>>();
  let nextId = 1;
  let failure: Error | null = null;
  let closing = false;
  const failAll = (err: Error) => {
    failure = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('message', (m: LoaderReply) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (waiting.size === 0 && !closing) worker.unref();
    if ('error' in m) w.reject(new Error(m.error));
    else w.resolve({ lr: m.lr, hr: m.hr, ...(m.cond ? { cond: m.cond } : {}), ...(m.mask ? { mask: m.mask } : {}), batch: w.req.batch, patch: w.req.patch, scale: w.req.scale });
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(`the degradation thread exited (code ${code})`)));
  // Held (ref) only while a batch is being made: an idle loader must not keep a finished process alive.
  worker.unref();

  const request = (seed: number, batch: number, patch: number, scale: number): Promise<Batch> => {
    const key = `${seed}/${batch}/${patch}/${scale}`;
    let p = made.get(key);
    if (!p) {
      if (failure) return Promise.reject(failure);
      const req: LoaderRequest = { id: nextId++, seed, batch, patch, scale };
      p = new Promise<Batch>((resolve, reject) => waiting.set(req.id, { resolve, reject, req }));
      // A prefetched batch that fails is reported when its step asks for it, not as an unhandled rejection.
      p.catch(() => {});
      made.set(key, p);
      worker.ref();
      worker.postMessage(req);
    }
    return p;
  };

  return {
    next(rng, batch, patch, scale) {
      const seed = rng.nextU32();
      const current = request(seed, batch, patch, scale);
      made.delete(`${seed}/${batch}/${patch}/${scale}`);
      // The next step's seed, read from a copy: the run's RNG advances only when that step comes.
      request(new Rng(rng.state()).nextU32(), batch, patch, scale);
      return current;
    },
    async close() {
      made.clear();
      // Held while it exits: awaiting an unref'd worker's exit can leave the event loop empty.
      closing = true;
      worker.ref();
      await worker.terminate();
    },
  };
}
