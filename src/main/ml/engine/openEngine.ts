/** Opens the WebGPU engine for a compute choice: 'webgpu' insists, 'auto' only takes a real GPU. */
import type { ComputeChoice } from '../../../shared/api.js';
import { PageEngine, type PageEngineOptions } from './pageEngine.js';

export interface OpenedEngine {
  /** null: compute on this thread's backend. */
  engine: PageEngine | null;
  /** Why 'auto' settled on the CPU (shown in Settings and `restora info`). */
  note?: string;
}

export async function openComputeEngine(choice: Exclude<ComputeChoice, 'cpu'>, opts: PageEngineOptions = {}): Promise<OpenedEngine> {
  if (choice === 'webgpu') return { engine: await PageEngine.start(opts) };
  let engine: PageEngine;
  try {
    engine = await PageEngine.start(opts);
  } catch (err) {
    return { engine: null, note: `auto: no GPU to use (${(err as Error).message}); computing on the CPU` };
  }
  const a = engine.info.adapter;
  if (a?.fallback) {
    // A software adapter (SwiftShader) emulates a GPU on the CPU: far slower than wasm.
    await engine.close();
    return { engine: null, note: `auto: the only WebGPU adapter is a software one (${a.architecture || a.vendor}); computing on the CPU` };
  }
  return { engine };
}
