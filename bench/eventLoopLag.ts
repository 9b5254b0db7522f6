/**
 * Main-thread responsiveness while a training run is going (the desktop app's
 * main process and `restora serve` must keep answering the UI). Measures the
 * event loop's delay (perf_hooks histogram, 10 ms resolution) while the UI polls
 * the API every 100 ms, with training (a) in its worker thread, as the app runs
 * it, and (b) on the main thread, the baseline a worker avoids. Prints one JSON line.
 *   npx tsx bench/eventLoopLag.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { createApp } from '../src/main/app/createApp.js';
import { createHandlers } from '../src/main/app/handlers.js';
import { initBackend } from '../src/main/ml/backend.js';

const STEPS = 16;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-lag-'));
const photos = path.join(work, 'photos');
fs.mkdirSync(photos);
for (let i = 0; i < 6; i++) {
  const w = 256;
  const px = Buffer.alloc(w * w * 3);
  for (let k = 0; k < px.length; k++) px[k] = (Math.sin(k / (97 + i)) * 100 + 128 + ((k * 31) % 17)) & 255;
  await sharp(px, { raw: { width: w, height: w, channels: 3 } })
    .png()
    .toFile(path.join(photos, `p${i}.png`));
}

const request = { dataDirs: [photos], scale: 2, preset: 'bicubic' as const, arch: 'compact', steps: STEPS, batch: 4, patch: 32 };
const ms = (ns: number) => +(ns / 1e6).toFixed(1);

async function measure(mode: 'worker' | 'main-thread') {
  const app = createApp({ home: path.join(work, mode) });
  const api = createHandlers(app);
  await api['app.info']({});
  const { id } = await api['projects.create']({ name: 'p' });
  await api['library.import']({ projectId: id, paths: [photos], recursive: true });
  const h = monitorEventLoopDelay({ resolution: 10 });
  let polls = 0;
  const poll = setInterval(() => {
    void api['library.list']({ projectId: id, limit: 50 }).then(() => polls++);
  }, 100);
  const t0 = performance.now();
  h.enable();
  if (mode === 'worker') {
    const runId = app.trainingRunner().start({ ...request, name: 'lag' });
    await new Promise<void>((resolve) =>
      app.events.subscribe((e) => {
        if (e.type === 'training.state' && e.runId === runId && e.state !== 'running') resolve();
      }),
    );
  } else {
    // Same backend and threads as the worker gets.
    await initBackend({ prefer: 'wasm' });
    await (await app.training()).train({ ...request, name: 'lag' });
  }
  h.disable();
  clearInterval(poll);
  const seconds = (performance.now() - t0) / 1000;
  await app.close();
  return { seconds: +seconds.toFixed(1), apiPollsAnswered: polls, lagMs: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) } };
}

const worker = await measure('worker');
const mainThread = await measure('main-thread');
fs.rmSync(work, { recursive: true, force: true });
console.log(
  JSON.stringify({
    training: `compact x2, ${STEPS} steps, batch 4, LR patch 32, while the UI polls library.list every 100 ms`,
    worker,
    mainThread,
    p99Ratio: +(mainThread.lagMs.p99 / Math.max(worker.lagMs.p99, 0.1)).toFixed(1),
    target: 'worker p99 < 50 ms',
  }),
);
