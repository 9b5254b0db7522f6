/** Main-thread side of the compute worker: typed calls, progress, cancellation. */
import { Worker } from 'node:worker_threads';
import type { BackendInfo } from '../../shared/api.js';
import { RestoraError, type ErrorCode } from '../../shared/errors.js';
import type { UpscaleFileRequest, UpscaleFileResult } from './upscaleFile.js';
import type { FromWorker, ToWorker, WorkerInit } from './workerProtocol.js';

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onProgress?: (done: number, total: number) => void;
}

export class ComputeHost {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(init: WorkerInit = {}) {
    // Under tsx/vitest the sources are .ts; the built package ships .js.
    const isTs = import.meta.url.endsWith('.ts');
    if (isTs) {
      // Dev/test only: load tsx's ESM hooks inside the worker, then the TS entry.
      const tsx = import.meta.resolve('tsx/esm/api');
      const entry = new URL('./computeWorker.ts', import.meta.url).href;
      const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
      this.worker = new Worker(boot, { eval: true, workerData: init });
    } else {
      this.worker = new Worker(new URL('./computeWorker.js', import.meta.url), { workerData: init });
    }
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => {
      if (this.pending.size) this.failAll(new RestoraError('INTERNAL', `compute worker exited (code ${code})`));
    });
    this.worker.unref();
  }

  private failAll(err: unknown): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private onMessage(m: FromWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      p.onProgress?.(m.done, m.total);
      return;
    }
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.type === 'error') p.reject(new RestoraError(m.error.code as ErrorCode, m.error.message, m.error.file));
    else if (m.type === 'info') p.resolve(m.info);
    else p.resolve(m.result);
  }

  private call<T>(msg: ToWorker, onProgress?: (done: number, total: number) => void): Promise<T> {
    this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(msg.id, { resolve: resolve as (v: unknown) => void, reject, ...(onProgress ? { onProgress } : {}) });
      this.worker.postMessage(msg);
    });
  }

  info(): Promise<BackendInfo> {
    return this.call({ type: 'info', id: this.nextId++ });
  }

  upscale(
    modelDir: string,
    request: UpscaleFileRequest,
    opts: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
  ): Promise<UpscaleFileResult> {
    const cancel = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancel);
    const onAbort = () => Atomics.store(flag, 0, 1);
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    return this.call<UpscaleFileResult>({ type: 'upscale', id: this.nextId++, modelDir, request, cancel }, opts.onProgress).finally(() =>
      opts.signal?.removeEventListener('abort', onAbort),
    );
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
