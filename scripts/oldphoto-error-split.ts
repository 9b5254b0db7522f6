/**
 * Where a restoration model's remaining error lies, on a test set degraded with a
 * preset (as `restora eval --degrade`): per photo, the Y-PSNR of bicubic and of the
 * model, then of the model's output with oracle corrections taken from the HR image:
 * the best gain/offset of Y (global tone), and all error coarser than a 17 px and a
 * 7 px box (low frequencies). An oracle column far above the model's says that kind
 * of error is what costs the most. Diagnostic only: oracles use the ground truth.
 *   npx tsx scripts/oldphoto-error-split.ts [--model restora-oldphoto-x2] [--set ../shared/data/set14] [--seed 1]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bicubicOf, degradedPairs } from '../src/main/ml/eval/evaluate.js';
import { initBackend } from '../src/main/ml/backend.js';
import { loadLayersModel } from '../src/main/ml/store/modelStore.js';
import { predictImage } from '../src/main/ml/infer/predict.js';
import { psnrPlane, shave, toY, type Plane } from '../src/main/ml/eval/metrics.js';
import { bundledModelsDir } from '../src/main/paths.js';
import type { PresetId } from '../src/main/degrade/presets.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'restora-oldphoto-x2' },
    set: { type: 'string', default: '../shared/data/set14' },
    preset: { type: 'string', default: 'old-photo' },
    seed: { type: 'string', default: '1' },
    scale: { type: 'string', default: '2' },
  },
});
const scale = Number(values.scale);
await initBackend({ prefer: 'wasm' });
const modelDir = values.model!.includes(path.sep) ? values.model! : path.join(bundledModelsDir(), values.model!);
const model = await loadLayersModel(modelDir);

/** Least-squares gain/offset mapping a onto b. */
function bestAffine(a: Plane, b: Plane): Plane {
  let sa = 0,
    sb = 0,
    saa = 0,
    sab = 0;
  const n = a.data.length;
  for (let i = 0; i < n; i++) {
    sa += a.data[i]!;
    sb += b.data[i]!;
    saa += a.data[i]! * a.data[i]!;
    sab += a.data[i]! * b.data[i]!;
  }
  const gain = (n * sab - sa * sb) / (n * saa - sa * sa);
  const offset = (sb - gain * sa) / n;
  return { ...a, data: a.data.map((v) => gain * v + offset) };
}

/** Separable box mean of radius r (edges averaged over the pixels inside). */
function boxMean(p: Plane, r: number): Plane {
  const { width: w, height: h } = p;
  const pass = (src: Float64Array, horizontal: boolean): Float64Array => {
    const out = new Float64Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let sum = 0;
        let count = 0;
        for (let d = -r; d <= r; d++) {
          const xx = horizontal ? x + d : x;
          const yy = horizontal ? y : y + d;
          if (xx < 0 || xx >= w || yy < 0 || yy >= h) continue;
          sum += src[yy * w + xx]!;
          count++;
        }
        out[y * w + x] = sum / count;
      }
    }
    return out;
  };
  return { width: w, height: h, data: pass(pass(p.data, true), false) };
}

/** a with its error against b removed at scales coarser than a (2r+1) px box. */
function fixCoarse(a: Plane, b: Plane, r: number): Plane {
  const coarse = boxMean({ ...a, data: b.data.map((v, i) => v - a.data[i]!) }, r);
  return { ...a, data: a.data.map((v, i) => v + coarse.data[i]!) };
}

const columns = ['bicubic', 'model', '+oracle Y gain/offset', '+oracle >17 px', '+oracle >7 px'];
console.log(['photo'.padEnd(16), ...columns.map((c) => c.padStart(22))].join(''));
const rows: number[][] = [];
for (const p of await degradedPairs(values.set!, scale, values.preset as PresetId, Number(values.seed))) {
  const hr = shave(toY(p.hr), scale);
  const sr = shave(toY(predictImage(model, p.lr)), scale);
  const bic = shave(toY(bicubicOf(p.lr, scale)), scale);
  const row = [psnrPlane(bic, hr), psnrPlane(sr, hr), psnrPlane(bestAffine(sr, hr), hr), psnrPlane(fixCoarse(sr, hr, 8), hr), psnrPlane(fixCoarse(sr, hr, 3), hr)];
  rows.push(row);
  console.log([p.name.padEnd(16), ...row.map((v) => v.toFixed(3).padStart(22))].join(''));
}
const mean = columns.map((_, k) => rows.reduce((a, r) => a + r[k]!, 0) / rows.length);
console.log(['mean'.padEnd(16), ...mean.map((v) => v.toFixed(3).padStart(22))].join(''));
model.dispose();
