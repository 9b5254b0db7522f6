/**
 * The compute engine protocol: tensor-level requests that any tfjs backend can
 * answer. The compute worker speaks it to an in-thread engine (wasm, cpu) or,
 * over a WebSocket, to the same engine code running in a Chromium renderer on
 * WebGPU. Everything above it (tiling, files, the trainer's loop, checkpoints)
 * stays in Node and does not care which engine answers.
 */
import type { AdapterInfo, PixelLoss } from '../../../shared/api.js';
import type { OptimizerSpec } from '../core/optimizers.js';
import type { PadMode } from '../archs/registry.js';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

export type { AdapterInfo };

export interface EngineInfo {
  /** tfjs backend the engine computes on: 'webgpu', 'wasm', 'cpu'. */
  backend: string;
  adapter?: AdapterInfo;
  userAgent?: string;
}

export interface EngineMemory {
  numTensors: number;
  numBytes: number;
  /** WebGPU only: bytes in GPU buffers the backend holds (in use or pooled). */
  gpuBytesAllocated?: number;
}

export interface TrainSetup {
  /** Adam's moments: beta1, beta2, epsilon (the trainer's are 0.9, 0.99, 1e-8). */
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Which optimizer (absent: Adam with the betas above). */
  optimizer?: OptimizerSpec;
  loss: PixelLoss;
  /** EMA decay of the weights; 0 = off. */
  ema: number;
  /** Named tensors (encodeNamedTensors) to resume Adam's moments from. */
  optimizerState?: Uint8Array;
  /** Named tensors to resume the EMA shadow from. */
  emaState?: Uint8Array;
}

export type EngineRequest =
  | { op: 'info' }
  | { op: 'memory' }
  /** Loads a layers model (topology + weights) under a key; replaces one loaded under the same key. */
  | { op: 'load'; model: string; topology: object; weightSpecs: WeightSpec[]; weights: Uint8Array }
  | { op: 'dispose'; model: string }
  /**
   * One tile: x is [height, width, 3] in 0..1; the engine mirrors padH/padW rows and columns
   * (padMode, default 'symmetric') on (sides a pixel-unshuffling net needs), runs the model, crops, and returns 0..maxValue rounded.
   */
  | { op: 'predict'; model: string; x: Float32Array; height: number; width: number; padH: number; padW: number; padMode?: PadMode; stats: Float32Array | null; maxValue: number }
  | { op: 'trainInit'; model: string; setup: TrainSetup }
  /** One Adam step on a batch: x [batch, patch, patch, 3], y [batch, patch*scale, patch*scale, 3]. */
  | {
      op: 'trainStep';
      model: string;
      lr: number;
      weightDecay: number;
      batch: number;
      patch: number;
      scale: number;
      x: Float32Array;
      y: Float32Array;
      stats: Float32Array | null;
    }
  /** Gradients of the loss with respect to the input and every trainable weight (for conformance checks). */
  | { op: 'gradients'; model: string; loss: PixelLoss; batch: number; patch: number; scale: number; x: Float32Array; y: Float32Array; stats: Float32Array | null }
  /** The model's weights, Adam's moments and the EMA shadow, as named tensors (for checkpoints and validation). */
  | { op: 'state'; model: string }
  /** Fault injection for tests: destroys the GPU device as a driver reset would. */
  | { op: 'loseDevice' };

export type EngineReply =
  | { op: 'info'; info: EngineInfo }
  | { op: 'memory'; memory: EngineMemory }
  | { op: 'loaded'; params: number; conditioned: boolean }
  | { op: 'done' }
  | { op: 'predicted'; y: Float32Array }
  | { op: 'stepped'; loss: number }
  | { op: 'gradients'; dx: Float32Array; dw: { name: string; data: Float32Array }[]; loss: number }
  | { op: 'state'; weights: Uint8Array; optimizer: Uint8Array | null; ema: Uint8Array | null };

/** An engine: the in-thread one answers directly, the Chromium one over a socket. */
export interface Engine {
  readonly info: EngineInfo;
  call(req: EngineRequest): Promise<EngineReply>;
  close(): Promise<void>;
}

/** Narrows a reply to the kind a request expects, or says what came instead. */
export function expectReply<K extends EngineReply['op']>(reply: EngineReply, op: K): Extract<EngineReply, { op: K }> {
  if (reply.op !== op) throw new Error(`compute engine answered '${reply.op}' where '${op}' was expected`);
  return reply as Extract<EngineReply, { op: K }>;
}
