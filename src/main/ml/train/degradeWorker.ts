/** The degradation loader thread (see degradeLoader.ts): makes degraded batches by seed. */
import { parentPort, workerData } from 'node:worker_threads';
import { degradedBatch } from './dataset.js';
import { degrade } from '../../degrade/presets.js';
import { colourJitter } from '../../degrade/ops.js';
import type { FloatImage } from '../../imaging/imresize.js';
import type { LoaderInit, LoaderReply, LoaderRequest } from './degradeLoader.js';

const init = workerData as LoaderInit;
const photos: FloatImage[] = init.photos.map((p) => ({ width: p.width, height: p.height, channels: p.channels, data: new Float32Array(p.buffer) }));

parentPort!.on('message', (req: LoaderRequest) => {
  degradedBatch(photos, (hr, scale, rng) => degrade(hr, scale, init.preset, rng), req.seed, req.batch, req.patch, req.scale, init.context, init.jitter ? colourJitter : undefined).then(
    (b) => {
      const reply: LoaderReply = { id: req.id, lr: b.lr, hr: b.hr, cond: b.cond! };
      parentPort!.postMessage(reply, [b.lr.buffer as ArrayBuffer, b.hr.buffer as ArrayBuffer, b.cond!.buffer as ArrayBuffer]);
    },
    (err: unknown) => {
      const reply: LoaderReply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
      parentPort!.postMessage(reply);
    },
  );
});
