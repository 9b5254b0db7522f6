/**
 * Child process of bench/run.ts: one 512x512 face through each face architecture Restora
 * imports (GFPGAN v1.3/v1.4 clean; CodeFormer when registered), built at the released
 * configuration with random weights (the real weights cannot be shipped: the timing
 * and memory depend on the graph, not on the values), on wasm. Baseline in the same run: the
 * bundled restora-oldphoto-x2 on a 512x512 photo. Memory: the model's weights, tfjs's bytes
 * after one face, and the process's peak RSS (VmHWM) after each model.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/ml/backend.js';
import { buildArch, listArchs } from '../src/main/ml/archs/index.js';
import { loadLayersModel } from '../src/main/ml/store/modelStore.js';
import { bundledModelsDir } from '../src/main/paths.js';
import { GLOBAL_STATS, runModel } from '../src/main/ml/core/conditioning.js';

const backend = await initBackend({ prefer: 'wasm' });
const MB = 2 ** 20;
const peakRssMb = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

/** Seconds for one [1,512,512,3] input after one warm-up run (`predict`: how the model takes it). */
async function timeOne(predict: (x: tf.Tensor4D) => tf.Tensor): Promise<number> {
  const x = tf.randomUniform([1, 512, 512, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const run = async () => {
    const y = predict(x);
    await y.data();
    y.dispose();
  };
  await run();
  const t0 = performance.now();
  await run();
  x.dispose();
  return (performance.now() - t0) / 1000;
}

const baselineModel = await loadLayersModel(path.join(bundledModelsDir(), 'restora-oldphoto-x2'));
// The restore model takes the whole photo's statistics beside each tile (zeros here: the time is the same).
const baselineSeconds = await timeOne((x) => runModel(baselineModel, x, new Float32Array(GLOBAL_STATS)));
baselineModel.dispose();

const rows: Record<string, unknown>[] = [];
for (const arch of listArchs().filter((a) => a.role === 'face')) {
  const model = buildArch(arch.id, 1, {});
  const params = model.countParams();
  const fidelity = model.inputs.length === 2 ? tf.fill([1, 1], 0.7) : undefined;
  const seconds = await timeOne((x) => model.predict(fidelity ? [x, fidelity] : x) as tf.Tensor);
  rows.push({
    arch: arch.id,
    params,
    weightsMb: +((params * 4) / MB).toFixed(1),
    secondsPerFace: +seconds.toFixed(2),
    ratioToRestoreX2: +(seconds / baselineSeconds).toFixed(2),
    tfBytesAfterMb: +(tf.memory().numBytes / MB).toFixed(1),
    peakRssMb: +peakRssMb().toFixed(0),
  });
  fidelity?.dispose();
  model.dispose();
}
console.log(JSON.stringify({ backend: `${backend.id} x${backend.threads}`, input: '512x512 face', baseline: { model: 'restora-oldphoto-x2', seconds: +baselineSeconds.toFixed(2) }, faces: rows }));
