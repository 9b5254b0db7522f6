/** The degradation loader thread (see degradeLoader.ts): makes degraded batches by seed. */
import { parentPort, workerData } from 'node:worker_threads';
import { degradedBatch, type Batch } from './dataset.js';
import { damagedBatch } from './damageData.js';
import { degrade } from '../../degrade/presets.js';
import { colourJitter } from '../../degrade/ops.js';
import type { FloatImage } from '../../imaging/imresize.js';
import type { LoaderInit, LoaderReply, LoaderRequest } from './degradeLoader.js';

const init = workerData as LoaderInit;
const photos: FloatImage[] = init.photos.map((p) => ({ width: p.width, height: p.height, channels: p.channels, data: new Float32Array(p.buffer) }));

function make(req: LoaderRequest): Promise<Batch> {
  if (init.damage) return damagedBatch(photos, req.seed, req.batch, req.patch, init.context);
  return degradedBatch(photos, (hr, scale, rng) => degrade(hr, scale, init.preset, rng), req.seed, req.batch, req.patch, req.scale, init.context, init.jitter ? colourJitter : undefined);
}

parentPort!.on('message', (req: LoaderRequest) => {
  make(req).then(
    (b) => {
      const reply: LoaderReply = { id: req.id, lr: b.lr, hr: b.hr, ...(b.cond ? { cond: b.cond } : {}), ...(b.mask ? { mask: b.mask } : {}) };
      parentPort!.postMessage(
        reply,
        [b.lr, b.hr, b.cond, b.mask].filter((a): a is Float32Array => !!a).map((a) => a.buffer as ArrayBuffer),
      );
    },
    (err: unknown) => {
      const reply: LoaderReply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
      parentPort!.postMessage(reply);
    },
  );
});
