/**
 * Measures bundled models on Set5 and Set14 with the quality protocol and writes
 * the numbers into their cards. The test sets stay outside the project.
 *   npx tsx scripts/measure-bundled.ts restora-x2 restora-x4 [--data ../shared/data]
 * Restoration models are scored on the HR images degraded with a preset instead,
 * against bicubic of the same degraded input (as `restora eval --degrade`):
 *   npx tsx scripts/measure-bundled.ts restora-oldphoto-x2 --degrade old-photo [--seed 1]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateModel, evaluateModelDegraded } from '../src/main/ml/eval/evaluate.js';
import type { PresetId } from '../src/main/degrade/presets.js';
import { readCard, writeCard } from '../src/main/ml/store/modelStore.js';
import { bundledModelsDir } from '../src/main/paths.js';

const { values, positionals } = parseArgs({
  options: { data: { type: 'string', default: '../shared/data' }, degrade: { type: 'string' }, seed: { type: 'string', default: '1' } },
  allowPositionals: true,
});
const preset = values.degrade as PresetId | undefined;
const seed = Number(values.seed);
for (const id of positionals) {
  const dir = path.join(bundledModelsDir(), id);
  const card = readCard(dir);
  const s = card.scale;
  const metrics: Record<string, { psnr: number; ssim: number }> = { ...(card.metrics ?? {}) };
  for (const set of ['set5', 'set14']) {
    const r = preset ? await evaluateModelDegraded(dir, path.join(values.data!, set), s, preset, seed, 'wasm') : await evaluateModel(dir, path.join(values.data!, set), path.join(values.data!, set, 'LR_bicubic', `X${s}`), s, 'wasm');
    const round = (q: { psnr: number; ssim: number }) => ({ psnr: Math.round(q.psnr * 1000) / 1000, ssim: Math.round(q.ssim * 10000) / 10000 });
    const key = preset ? `${set}-${preset.replace('-', '')}` : set;
    metrics[key] = round(r);
    metrics[`${key}-bicubic`] = round(r.bicubic);
    console.log(`${id} ${key} x${s}: ${r.psnr.toFixed(3)} dB / ${r.ssim.toFixed(4)} (bicubic ${r.bicubic.psnr.toFixed(3)} / ${r.bicubic.ssim.toFixed(4)}, ${(r.psnr - r.bicubic.psnr).toFixed(3)} dB over it)`);
  }
  writeCard(dir, {
    ...card,
    metrics,
    measuredWith: preset
      ? `npx restora eval --model ${id} --hr ${values.data}/set14 --degrade ${preset} --seed ${seed} --scale ${s} (and set5): Y-PSNR/SSIM, shave ${s}; baseline = bicubic x${s} of the same degraded input; written by scripts/measure-bundled.ts`
      : `npx restora eval --model ${id} --hr ${values.data}/set5 --lr ${values.data}/set5/LR_bicubic/X${s} --scale ${s} (and set14); written by scripts/measure-bundled.ts`,
  });
}
