/** The engine in this thread, on the backend initBackend chose (wasm, cpu, tfjs-node). */
import * as tf from '@tensorflow/tfjs';
import { EngineCore } from './engineCore.js';
import type { Engine, EngineInfo, EngineReply, EngineRequest } from './protocol.js';

export class LocalEngine implements Engine {
  private readonly core: EngineCore;
  readonly info: EngineInfo;

  constructor() {
    this.info = { backend: tf.getBackend() };
    this.core = new EngineCore(() => this.info);
  }

  call(req: EngineRequest): Promise<EngineReply> {
    return this.core.handle(req);
  }

  async close(): Promise<void> {
    // The thread (and its tensors) outlives this engine when Settings switch engines: free the models now.
    this.core.disposeAll();
  }
}
