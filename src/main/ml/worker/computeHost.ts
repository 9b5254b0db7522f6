/** Main-thread side of the compute worker: typed calls, progress, cancellation. */
import type { Worker } from 'node:worker_threads';
import { siblingEntry, startWorker } from '../../workers.js';
import type { ArchInfo, BackendInfo, ComputeChoice, ModelCard } from '../../../shared/api.js';
import type { ImportMeta, ImportSource } from '../import/convert.js';
import { RestoraError, type ErrorCode } from '../../../shared/errors.js';
import type { UpscaleFileRequest, UpscaleFileResult } from '../infer/upscaleFile.js';
import type { FromWorker, ToWorker, WorkerInit } from './workerProtocol.js';
import { chromiumLauncher, type PageLauncher } from '../engine/chromium.js';
import { PageHost } from '../engine/pageRelay.js';

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onProgress?: (done: number, total: number) => void;
}

export class ComputeHost {
  /** null after the worker died (or closed): the next call starts a fresh one. */
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** The last Settings choice, so a restarted worker runs models where the old one did. */
  private compute: ComputeChoice | undefined;
  /** Pages opened for the current worker; a dead worker's pages are closed with it. */
  private pages: PageHost | null = null;

  /**
   * `pageLauncher`: how this host opens the WebGPU compute page (the desktop app passes a hidden-window
   * launcher). This thread always owns the page, never the worker: a worker that dies cannot close the
   * Chromium it started, and its processes would be left running.
   */
  constructor(
    private readonly init: WorkerInit = {},
    private readonly pageLauncher: PageLauncher = chromiumLauncher,
  ) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const worker = startWorker(siblingEntry(import.meta.url, 'computeWorker'), {
      ...this.init,
      ...(this.compute ? { compute: this.compute } : {}),
      pageHost: 'parent',
    });
    // Bound to this worker: a page of a dead worker must not answer its successor (page ids restart at 1).
    const pages = new PageHost(this.pageLauncher, (m) => worker.postMessage(m satisfies ToWorker));
    this.pages = pages;
    let failure = '';
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'openPage' || m.type === 'closePage') void pages.handle(m);
      else if (this.worker === worker) this.onMessage(m);
    });
    worker.on('error', (err) => (failure = err?.message ?? String(err)));
    worker.on('exit', (code) => {
      void pages.closeAll();
      if (this.worker !== worker) return;
      this.worker = null;
      const why = failure ? `it failed: ${failure}` : `exit code ${code}`;
      this.failAll(new RestoraError('INTERNAL', `the compute worker stopped (${why}); this request did not finish, and the next one starts a fresh worker`));
    });
    worker.unref();
    return worker;
  }

  private failAll(err: unknown): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private onMessage(m: Exclude<FromWorker, { type: 'openPage' | 'closePage' }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      p.onProgress?.(m.done, m.total);
      return;
    }
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (m.type === 'error') p.reject(new RestoraError(m.error.code as ErrorCode, m.error.message, m.error.file, m.error.hint ? { hint: m.error.hint } : undefined));
    else if (m.type === 'info') p.resolve(m.info);
    else if (m.type === 'archs') p.resolve(m.archs);
    else if (m.type === 'described') p.resolve({ params: m.params, scale: m.scale });
    else if (m.type === 'imported') p.resolve(m.card);
    else if (m.type === 'closed') p.resolve(undefined);
    else if (m.type === 'memory') p.resolve(m.numTensors);
    else if (m.type === 'detected') p.resolve({ width: m.width, height: m.height, damaged: m.damaged });
    else p.resolve(m.result);
  }

  private call<T>(msg: ToWorker, onProgress?: (done: number, total: number) => void): Promise<T> {
    if (this.closed) return Promise.reject(new RestoraError('INTERNAL', 'the compute worker was closed'));
    const worker = (this.worker ??= this.spawn());
    worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(msg.id, { resolve: resolve as (v: unknown) => void, reject, ...(onProgress ? { onProgress } : {}) });
      worker.postMessage(msg);
    });
  }

  info(): Promise<BackendInfo> {
    return this.call({ type: 'info', id: this.nextId++ });
  }

  /** Switches where models run (Settings); resolves with the info of the engine now in use. */
  useCompute(compute: ComputeChoice): Promise<BackendInfo> {
    this.compute = compute;
    return this.call({ type: 'useCompute', id: this.nextId++, compute });
  }

  /** Tensors alive on the engine models run on: constant between jobs, or something leaks. */
  async liveTensors(): Promise<number> {
    return this.call<number>({ type: 'memory', id: this.nextId++ });
  }

  archs(): Promise<ArchInfo[]> {
    return this.call({ type: 'archs', id: this.nextId++ });
  }

  describeArch(arch: string, scale: number, archOptions: Record<string, number | string | boolean> = {}): Promise<{ params: number; scale: number }> {
    return this.call({ type: 'describeArch', id: this.nextId++, arch, scale, archOptions });
  }

  /** The detector's mask of a photo, written to maskOut; how many pixels it marks. */
  detectDamage(detectorDir: string, input: string, maskOut: string, tile: number): Promise<{ width: number; height: number; damaged: number }> {
    return this.call({ type: 'detectDamage', id: this.nextId++, detectorDir, input, maskOut, tile });
  }

  probeModel(modelDir: string): Promise<{ params: number; scale: number }> {
    return this.call({ type: 'probeModel', id: this.nextId++, modelDir });
  }

  importModel(source: ImportSource, outDir: string, meta: ImportMeta): Promise<ModelCard> {
    return this.call({ type: 'importModel', id: this.nextId++, source, outDir, meta });
  }

  upscale(modelDir: string | null, request: UpscaleFileRequest, opts: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {}): Promise<UpscaleFileResult> {
    const cancel = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancel);
    const onAbort = () => Atomics.store(flag, 0, 1);
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    return this.call<UpscaleFileResult>({ type: 'upscale', id: this.nextId++, modelDir, request, cancel }, opts.onProgress).finally(() => opts.signal?.removeEventListener('abort', onAbort));
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (this.closed) return;
    // A dead worker is not restarted only to be shut down.
    if (worker) {
      // The engine may hold a Chromium process: let the worker close it, but never wait long on a stuck thread.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.call({ type: 'shutdown', id: this.nextId++ }).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.worker = null;
    await this.pages?.closeAll();
    await worker?.terminate();
    this.failAll(new RestoraError('INTERNAL', 'the compute worker was closed'));
  }
}
