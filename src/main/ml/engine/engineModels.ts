/** Model folders on an engine: loading them once, and tile runners over them. */
import { readModelArtifacts } from '../store/modelStore.js';
import { globalStats } from '../core/conditioning.js';
import type { TileRunner } from '../infer/tiling.js';
import type { BackendLimits } from '../archs/registry.js';
import { expectReply, type Engine, type WeightSpec } from './protocol.js';

export interface EngineModel {
  engine: Engine;
  key: string;
  params: number;
  conditioned: boolean;
}

/** A GPU engine's largest buffer bounds a tile's widest activation; wasm and the CPU keep the default budget. */
export function engineLimits(engine: Engine): BackendLimits {
  const a = engine.info.adapter;
  return a ? { maxTensorBytes: Math.min(a.maxBufferSize, a.maxStorageBufferBindingSize) } : {};
}

/** Sends a model folder's topology and weights to the engine under the folder's path. */
export async function loadOnEngine(engine: Engine, dir: string): Promise<EngineModel> {
  const a = readModelArtifacts(dir);
  const r = expectReply(await engine.call({ op: 'load', model: dir, topology: a.modelTopology, weightSpecs: a.weightSpecs as WeightSpec[], weights: a.weightData }), 'loaded');
  return { engine, key: dir, params: r.params, conditioned: r.conditioned };
}

/** A tile runner for one image: conditioned models get the whole image's statistics with every tile. */
export function engineRunnerFor(m: EngineModel, rgb: ArrayLike<number>, width: number, height: number, maxValue: number): TileRunner {
  const stats = m.conditioned ? globalStats(rgb, width, height, maxValue) : null;
  return async (tile) => expectReply(await m.engine.call({ op: 'predict', model: m.key, ...tile, stats }), 'predicted').y;
}
