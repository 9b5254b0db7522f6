/**
 * Measures bundled models on Set5 and Set14 with the quality protocol and writes
 * the numbers into their cards. The test sets stay outside the project.
 *   npx tsx scripts/measure-bundled.ts restora-x2 restora-x4 [--data ../shared/data]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateModel } from '../src/main/ml/evaluate.js';
import { readCard, writeCard } from '../src/main/ml/modelStore.js';
import { bundledModelsDir } from '../src/main/paths.js';

const { values, positionals } = parseArgs({ options: { data: { type: 'string', default: '../shared/data' } }, allowPositionals: true });
for (const id of positionals) {
  const dir = path.join(bundledModelsDir(), id);
  const card = readCard(dir);
  const s = card.scale;
  const metrics: Record<string, { psnr: number; ssim: number }> = { ...(card.metrics ?? {}) };
  for (const set of ['set5', 'set14']) {
    const r = await evaluateModel(dir, path.join(values.data!, set), path.join(values.data!, set, 'LR_bicubic', `X${s}`), s, 'wasm');
    const round = (q: { psnr: number; ssim: number }) => ({ psnr: Math.round(q.psnr * 1000) / 1000, ssim: Math.round(q.ssim * 10000) / 10000 });
    metrics[set] = round(r);
    metrics[`${set}-bicubic`] = round(r.bicubic);
    console.log(`${id} ${set} x${s}: ${r.psnr.toFixed(3)} dB / ${r.ssim.toFixed(4)} (bicubic ${r.bicubic.psnr.toFixed(3)} / ${r.bicubic.ssim.toFixed(4)})`);
  }
  writeCard(dir, {
    ...card,
    metrics,
    measuredWith: `npx restora eval --model ${id} --hr ${values.data}/set5 --lr ${values.data}/set5/LR_bicubic/X${s} --scale ${s} (and set14); written by scripts/measure-bundled.ts`,
  });
}
