/**
 * The webgpu section of `npm run bench` (a child process, JSON on the last line):
 * the same x2 upscale and the same training steps through the wasm engine and the
 * WebGPU engine (a headless Chromium page on whatever adapter it finds), so the
 * ratio is against wasm on this machine in this run. On SwiftShader (a CPU
 * emulating a GPU) it only proves the path; a real GPU is the target.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../src/main/ml/backend.js';
import { LocalEngine } from '../src/main/ml/engine/localEngine.js';
import { PageEngine } from '../src/main/ml/engine/pageEngine.js';
import { engineRunnerFor, loadOnEngine } from '../src/main/ml/engine/engineModels.js';
import type { Engine } from '../src/main/ml/engine/protocol.js';
import { upscaleTiled } from '../src/main/ml/infer/tiling.js';
import { tilingFor } from '../src/main/ml/archs/index.js';
import { readCard } from '../src/main/ml/store/modelStore.js';
import { bundledModelsDir } from '../src/main/paths.js';
import { DEFAULT_TRAINER_CONFIG, Trainer } from '../src/main/ml/train/trainer.js';
import { makeBicubicPair } from '../src/main/ml/train/dataset.js';

const backend = await initBackend();
const SIDE = Number(process.env.RESTORA_BENCH_GPU_SIDE ?? 256);

function photo(w: number, h: number) {
  const data = new Float32Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = (i / w) | 0;
    data[i * 3] = 128 + 100 * Math.sin(x / 9) * Math.cos(y / 13);
    data[i * 3 + 1] = (255 * x) / w;
    data[i * 3 + 2] = 128 + 90 * Math.sin((x * y) / 5000);
  }
  return { width: w, height: h, channels: 3 as const, data };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** x2 of a SIDE x SIDE image with the bundled default model, after a warm-up tile. */
async function inference(engine: Engine) {
  const dir = path.join(bundledModelsDir(), 'restora-x2');
  const { overlap, multiple } = tilingFor(readCard(dir));
  const m = await loadOnEngine(engine, dir);
  const img = photo(SIDE, SIDE);
  const u8 = Uint8Array.from(img.data, (v) => Math.round(v));
  const runner = engineRunnerFor(m, u8, SIDE, SIDE, 255);
  await upscaleTiled(runner, u8.subarray(0, 64 * 64 * 3), 64, 64, 255, { scale: 2, tile: 64, overlap, multiple });
  const t0 = performance.now();
  await upscaleTiled(runner, u8, SIDE, SIDE, 255, { scale: 2, tile: 384, overlap, multiple });
  const sec = (performance.now() - t0) / 1000;
  await engine.call({ op: 'dispose', model: m.key });
  return { seconds: +sec.toFixed(2), outputMPperSec: +((SIDE * 2 * SIDE * 2) / 1e6 / sec).toFixed(4) };
}

/** Median step time of the default compact x2 net (batch 4, 32 px patches), 2 warm-up steps. */
async function training(engine: Engine | undefined, steps: number) {
  const pairs = [makeBicubicPair('bench', photo(192, 192), 2)];
  const config = { ...DEFAULT_TRAINER_CONFIG, arch: 'compact', scale: 2, steps: 1000, batch: 4, patch: 32, validateEvery: 1e9, checkpointEvery: 1e9 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-bench-gpu-'));
  const trainer = await Trainer.open(config, pairs, [], dir, engine);
  try {
    for (let i = 0; i < 2; i++) await trainer.nextStep();
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await trainer.nextStep();
      ms.push(+(performance.now() - t0).toFixed(0));
    }
    return { batch: 4, patch: 32, msPerStep: median(ms), stepsMs: ms };
  } finally {
    trainer.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const report: Record<string, unknown> = { inputSide: SIDE };
let gpu: PageEngine | null = null;
try {
  gpu = await PageEngine.start();
} catch (err) {
  console.log(JSON.stringify({ unavailable: (err as Error).message }));
  process.exit(0);
}
try {
  report.adapter = gpu.info.adapter;
  const local = new LocalEngine();
  const wasmInfer = await inference(local);
  const gpuInfer = await inference(gpu);
  report.inferenceX2 = { wasm: { threads: backend.threads, ...wasmInfer }, webgpu: gpuInfer, webgpuOverWasm: +(gpuInfer.outputMPperSec / wasmInfer.outputMPperSec).toFixed(3) };
  const wasmTrain = await training(undefined, 5);
  const gpuTrain = await training(gpu, 5);
  report.trainStepCompactX2 = { wasm: wasmTrain, webgpu: gpuTrain, wasmOverWebgpu: +(wasmTrain.msPerStep / gpuTrain.msPerStep).toFixed(3) };
  report.note = gpu.info.adapter?.fallback ? 'software adapter (SwiftShader): proves the path only; a real GPU is the target' : 'hardware adapter';
} finally {
  await gpu.close();
}
console.log(JSON.stringify(report));
