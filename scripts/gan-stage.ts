/**
 * The GAN stage on its own, for a pixel-loss model on data/photos with a degradation
 * preset: relativistic adversarial + discriminator feature matching + pixel loss
 * (src/main/ml/train/gan.ts), at a batch and patch that keep the discriminator cheap
 * on a CPU (the CLI's --gan stage runs at the pixel stage's batch and patch, which on
 * two cores takes ~20 s per step at batch 12). Resumes from OUT/checkpoint.
 *   npx tsx scripts/gan-stage.ts --model runs/x/pretrained --preset realistic --scale 2 --steps 300 --out runs/x-gan
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop } from '../src/main/imaging/imresize.js';
import { degrade, type PresetId } from '../src/main/degrade/presets.js';
import { Rng } from '../src/main/ml/core/rng.js';
import { threadedDegradedSource } from '../src/main/ml/train/degradeLoader.js';
import type { PairImage } from '../src/main/ml/train/dataset.js';
import { DEFAULT_GAN_CONFIG, GanTrainer, type GanConfig } from '../src/main/ml/train/gan.js';
import { readCard, saveLayersModel } from '../src/main/ml/store/modelStore.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    preset: { type: 'string', default: 'realistic' },
    scale: { type: 'string', default: '2' },
    steps: { type: 'string', default: '300' },
    batch: { type: 'string', default: '4' },
    patch: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    data: { type: 'string', default: 'data/photos' },
    out: { type: 'string' },
  },
});
const scale = Number(values.scale);
const preset = values.preset as PresetId;
const backend = await initBackend({ prefer: 'wasm', threads: Number(values.threads) });
console.log(`backend ${backend.id} threads ${backend.threads}`);
const load = async (dir: string) =>
  Promise.all(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => decodeRgbFloat(path.join(dir, f))),
  );
const photos = await load(path.join(values.data!, 'train'));
const val: PairImage[] = [];
for (const [i, img] of (await load(path.join(values.data!, 'val'))).entries()) {
  const s = Math.min(256, img.width, img.height);
  const hr = crop(img, Math.floor((img.width - s) / 2), Math.floor((img.height - s) / 2), s - (s % scale), s - (s % scale));
  val.push({ name: `val${i}`, hr, lr: await degrade(hr, scale, preset, new Rng(1000 + i)) });
}
const card = readCard(values.model!);
const config: GanConfig = {
  ...DEFAULT_GAN_CONFIG,
  arch: card.arch,
  archOptions: card.archOptions,
  scale,
  steps: Number(values.steps),
  batch: Number(values.batch),
  patch: Number(values.patch),
  discPatch: Number(values.patch) * scale,
  validateEvery: 50,
  checkpointEvery: 25,
};
const source = threadedDegradedSource(photos, preset);
const gan = await GanTrainer.open(config, source, val, values.out!, values.model!);
console.log(`GAN stage from step ${gan.currentStep}/${config.steps}: ${JSON.stringify(config)}`);
await gan.run({
  onProgress: (p) => {
    if (p.point) {
      const v = p.point.valPsnr !== undefined ? ` val ${p.point.valPsnr.toFixed(3)} dB` : '';
      console.log(`step ${p.step} pixel ${p.point.loss.toFixed(5)} G ${p.point.gLoss!.toFixed(4)} D ${p.point.dLoss!.toFixed(4)} ${p.stepsPerSec.toFixed(3)} steps/s${v}`);
    }
  },
});
await source.close();
await saveLayersModel(gan.generator, path.join(values.out!, 'model'));
console.log(`wrote ${path.join(values.out!, 'model')}`);
