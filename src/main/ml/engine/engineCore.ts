/**
 * The compute engine: answers EngineRequests with whatever tfjs backend is active.
 * The same code runs in the compute worker (wasm, cpu) and in a Chromium renderer
 * (webgpu); only the transport differs.
 */
import * as tf from '@tensorflow/tfjs';
import '../archs/index.js';
import { isConditioned, runModel } from '../core/conditioning.js';
import { localRunner } from '../infer/tiling.js';
import { WeightEma } from '../core/ema.js';
import { createOptimizer, restoreOptimizer } from '../core/optimizers.js';
import { decayedKernels, lossGradients, optimiseStep, type StepState } from '../learning/step.js';
import { decodeNamedTensors, encodeNamedTensors } from '../core/namedTensors.js';
import { loadBoundedLayersModel } from '../store/boundedLoad.js';
import type { EngineInfo, EngineReply, EngineRequest } from './protocol.js';

interface Loaded {
  net: tf.LayersModel;
  /** The artifacts it was built from: the EMA shadow is a second copy of them. */
  artifacts: tf.io.ModelArtifacts;
  training: StepState | null;
}

export class EngineCore {
  private readonly models = new Map<string, Loaded>();

  constructor(
    private readonly describe: () => EngineInfo,
    /** Fault injection (webgpu only): destroys the device. */
    private readonly loseDevice: () => void = () => {
      throw new Error(`the ${tf.getBackend()} backend has no device to lose`);
    },
  ) {}

  private get(key: string): Loaded {
    const m = this.models.get(key);
    if (!m) throw new Error(`no model loaded as '${key}'`);
    return m;
  }

  private disposeModel(key: string): void {
    const m = this.models.get(key);
    if (!m) return;
    m.training?.optimizer.dispose();
    m.training?.ema?.dispose();
    m.net.dispose();
    this.models.delete(key);
  }

  /** Every model this core holds (the engine is being closed: a Settings change, shutdown). */
  disposeAll(): void {
    for (const key of [...this.models.keys()]) this.disposeModel(key);
  }

  async handle(req: EngineRequest): Promise<EngineReply> {
    switch (req.op) {
      case 'info':
        return { op: 'info', info: this.describe() };
      case 'memory': {
        // tfjs-backend-webgpu adds the bytes its buffer manager holds (in use + pooled for reuse).
        const m = tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number };
        return { op: 'memory', memory: { numTensors: m.numTensors, numBytes: m.numBytes, ...(m.numBytesAllocatedInGPU !== undefined ? { gpuBytesAllocated: m.numBytesAllocatedInGPU } : {}) } };
      }
      case 'load': {
        this.disposeModel(req.model);
        const weightData = req.weights.slice().buffer;
        const artifacts: tf.io.ModelArtifacts = { modelTopology: req.topology, weightSpecs: req.weightSpecs as tf.io.WeightsManifestEntry[], weightData };
        const net = await loadBoundedLayersModel(artifacts);
        this.models.set(req.model, { net, artifacts, training: null });
        return { op: 'loaded', params: net.countParams(), conditioned: isConditioned(net) };
      }
      case 'dispose':
        this.disposeModel(req.model);
        return { op: 'done' };
      case 'predict': {
        const { net } = this.get(req.model);
        const run = localRunner({ predict: (x) => runModel(net, x, req.stats, false) });
        return { op: 'predicted', y: await run(req) };
      }
      case 'trainInit': {
        const m = this.get(req.model);
        if (m.training) {
          m.training.optimizer.dispose();
          m.training.ema?.dispose();
        }
        const optimizer = req.setup.optimizer?.kind === 'sgd' ? createOptimizer(req.setup.optimizer, 0.001) : tf.train.adam(0.001, req.setup.beta1, req.setup.beta2, req.setup.epsilon);
        if (req.setup.optimizerState) {
          const named = decodeNamedTensors(req.setup.optimizerState);
          await restoreOptimizer(optimizer, named);
        }
        let ema: WeightEma | null = null;
        if (req.setup.ema > 0) {
          ema = WeightEma.create(m.net, await loadBoundedLayersModel(m.artifacts), req.setup.ema);
          if (req.setup.emaState) ema.restore(req.setup.emaState);
        }
        m.training = { model: m.net, optimizer, decayed: decayedKernels(m.net), ema, loss: req.setup.loss };
        return { op: 'done' };
      }
      case 'trainStep': {
        const m = this.get(req.model);
        if (!m.training) throw new Error(`model '${req.model}' was not set up for training (trainInit)`);
        // Restoration nets only: the trainer keeps the damage nets and VAEs on its own backend (Trainer.open).
        const { cost } = optimiseStep(m.training, { batch: req.batch, patch: req.patch, scale: req.scale, lr: req.x, hr: req.y, cond: req.stats }, req.lr, req.weightDecay);
        try {
          return { op: 'stepped', loss: (await cost.data())[0]! };
        } finally {
          cost.dispose();
        }
      }
      case 'gradients': {
        const { net } = this.get(req.model);
        return { op: 'gradients', ...(await lossGradients(net, req.loss, { batch: req.batch, patch: req.patch, scale: req.scale, lr: req.x, hr: req.y, cond: req.stats })) };
      }
      case 'state': {
        const m = this.get(req.model);
        const weights = await encodeNamedTensors(m.net.weights.map((w, i) => ({ name: `${i}:${w.originalName}`, tensor: w.read() })));
        const optimizer = m.training ? await encodeNamedTensors(await m.training.optimizer.getWeights()) : null;
        const ema = m.training?.ema ? await m.training.ema.encode() : null;
        return { op: 'state', weights, optimizer, ema };
      }
      case 'loseDevice':
        this.loseDevice();
        return { op: 'done' };
    }
  }
}
