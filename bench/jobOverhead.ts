/**
 * Job-engine overhead for `npm run bench -- --jobs`: what the batch engine adds per
 * item on top of the upscale itself (SQLite bookkeeping, enumeration, naming, temp
 * clean-up, folder creation). Both sides run in this process on the same compute
 * worker (same wasm instance, same loaded model), so the only difference is the engine:
 *   (a) compute.upscale called directly on each photo;
 *   (b) the same photos through BatchJobs.prepare + run (fresh job and output folder).
 * Rounds alternate a, b, a, b so warm-up and drift fall on both sides alike. The engine
 * time is also measured directly in (b): wall time minus the time spent inside
 * compute.upscale, which does not carry inference-time noise.
 * Prints one JSON line. Env: RESTORA_BENCH_JOB_ITEMS (20), RESTORA_BENCH_JOB_MODEL (restora-x2),
 * RESTORA_BENCH_JOB_ROUNDS (2 pairs; more, shorter rounds cancel load drift better).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_TILE } from '../src/shared/api.js';
import { openDatabase } from '../src/main/db/database.js';
import { BatchJobs } from '../src/main/jobs/batchJob.js';
import { ComputeHost } from '../src/main/ml/worker/computeHost.js';
import { ModelLibrary } from '../src/main/ml/store/modelLibrary.js';
import { bundledModelsDir } from '../src/main/paths.js';

const N = Number(process.env.RESTORA_BENCH_JOB_ITEMS ?? 20);
const MODEL = process.env.RESTORA_BENCH_JOB_MODEL ?? 'restora-x2';
const ROUNDS = Number(process.env.RESTORA_BENCH_JOB_ROUNDS ?? 2);
const [W, H] = [1152, 864]; // ~1 MP

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-benchjobs-'));
const photos = path.join(work, 'photos');
fs.mkdirSync(photos);
for (let i = 0; i < N; i++) {
  // Distinct photo-like JPEGs with EXIF, so the encode path is the one real photos take.
  await sharp({ create: { width: W, height: H, channels: 3, background: { r: (i * 53) % 256, g: (i * 97) % 256, b: (i * 31) % 256 }, noise: { type: 'gaussian', mean: 120, sigma: 35 } } })
    .blur(1.2)
    .withExif({ IFD0: { Make: 'RestoraBench' } })
    .jpeg({ quality: 90 })
    .toFile(path.join(photos, `photo ${String(i).padStart(3, '0')}.jpg`));
}
const inputs = fs
  .readdirSync(photos)
  .sort()
  .map((f) => path.join(photos, f));

const models = new ModelLibrary(bundledModelsDir(), path.join(work, 'models'));
const model = models.get(MODEL);
const compute = new ComputeHost();
const db = openDatabase(path.join(work, 'restora.db'));
// The engine sees the same worker through a wrapper that adds up the time spent in upscale calls.
let insideMs = 0;
const timed = Object.assign(Object.create(compute) as ComputeHost, {
  upscale: async (...args: Parameters<ComputeHost['upscale']>) => {
    const t = performance.now();
    try {
      return await compute.upscale(...args);
    } finally {
      insideMs += performance.now() - t;
    }
  },
});
const jobs = new BatchJobs(db, models, timed);

const request = (input: string, outDir: string) => ({
  input,
  output: path.join(outDir, `${path.basename(input, '.jpg')}.png`),
  scale: model.card.scale,
  format: 'png' as const,
  tile: DEFAULT_TILE,
  overlap: 0,
});

// Warm-up: backend start, model load, first-call compilation.
await compute.upscale(model.dir, request(inputs[0]!, work));

const direct: number[] = [];
const batch: number[] = [];
const engine: number[] = [];
const inside: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const outA = path.join(work, `direct-${r}`);
  fs.mkdirSync(outA);
  let t = performance.now();
  for (const input of inputs) await compute.upscale(model.dir, request(input, outA));
  direct.push(performance.now() - t);

  insideMs = 0;
  t = performance.now();
  const { jobId } = jobs.prepare({ inputs: [photos], outDir: path.join(work, `batch-${r}`), modelId: MODEL, format: 'png', nameTemplate: '{name}', recursive: false });
  const s = await jobs.run(jobId);
  const wall = performance.now() - t;
  if (s.done !== N) throw new Error(`batch round ${r}: ${s.done} of ${N} done (${JSON.stringify(s.failures.slice(0, 2))})`);
  batch.push(wall);
  engine.push(wall - insideMs);
  inside.push(insideMs);
}
await compute.close();
db.close();
fs.rmSync(work, { recursive: true, force: true });

const perItem = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length / N;
const inferMs = perItem(direct);
const overheadMs = perItem(batch) - inferMs;
const engineMs = perItem(engine);
const spreadPct = (100 * (Math.max(...direct) - Math.min(...direct))) / Math.min(...direct);
console.log(
  JSON.stringify({
    model: MODEL,
    items: N,
    photo: `${W}x${H} JPEG with EXIF -> PNG x${model.card.scale}`,
    rounds: `${ROUNDS} x (direct, batch), same process, same compute worker`,
    msPerItemDirect: +inferMs.toFixed(1),
    msPerItemBatch: +perItem(batch).toFixed(1),
    overheadMsPerItem: +overheadMs.toFixed(1),
    overheadPct: +((100 * overheadMs) / inferMs).toFixed(2),
    // The same overhead measured without inference noise: batch wall time minus time inside compute.upscale.
    engineMsPerItem: +engineMs.toFixed(2),
    enginePct: +((100 * engineMs) / inferMs).toFixed(3),
    // overheadMsPerItem = engineMsPerItem + this: the upscale calls themselves taking longer or shorter in the batch rounds.
    upscaleDriftMsPerItem: +(perItem(inside) - inferMs).toFixed(1),
    // How much the direct rounds differ from each other: the noise floor of overheadPct.
    directRoundSpreadPct: +spreadPct.toFixed(2),
    note: 'the engine sends the worker the same request as the direct calls; when upscaleDrift is within directRoundSpread it is machine load, and enginePct is the overhead',
    targetPct: 5,
  }),
);
