/**
 * The degradation loader thread gives exactly the batches of the in-thread source
 * (so runs are reproducible whichever is used), prefetches without consuming the
 * run's RNG early, and reports a failure of the thread to the step that waits on it.
 */
import { describe, expect, it } from 'vitest';
import { degradedSource } from '../../src/main/ml/train/dataset.js';
import { threadedDegradedSource } from '../../src/main/ml/train/degradeLoader.js';
import { degrade } from '../../src/main/degrade/presets.js';
import { colourJitter } from '../../src/main/degrade/ops.js';
import { Rng } from '../../src/main/ml/core/rng.js';
import { synthImage } from '../helpers.js';

const photos = [synthImage(120, 100, 1), synthImage(90, 140, 2)];

describe('degradation loader thread', () => {
  it('makes the same batches as the in-thread source, step after step, with the same RNG left behind', async () => {
    const inThread = degradedSource(photos, (hr, s, rng) => degrade(hr, s, 'old-photo', rng), 40);
    const threaded = threadedDegradedSource(photos, 'old-photo', 40);
    try {
      const a = new Rng(5);
      const b = new Rng(5);
      for (let step = 0; step < 4; step++) {
        const x = await inThread.next(a, 3, 16, 2);
        const y = await threaded.next(b, 3, 16, 2);
        expect(y.lr).toEqual(x.lr);
        expect(y.hr).toEqual(x.hr);
        expect(y.cond).toEqual(x.cond);
      }
      // Prefetching peeked at the next seed without drawing it.
      expect(b.state()).toEqual(a.state());
      // A resumed run (RNG restored from a checkpoint) gets the batch it would have had.
      const resumed = new Rng(a.state());
      const expected = await inThread.next(a, 3, 16, 2);
      expect((await threaded.next(resumed, 3, 16, 2)).lr).toEqual(expected.lr);
    } finally {
      await threaded.close();
    }
  }, 60_000);

  it('with colour jitter, targets are the jittered photos, and the thread still matches the in-thread source', async () => {
    const inThread = degradedSource(photos, (hr, s, rng) => degrade(hr, s, 'old-photo', rng), 40, colourJitter);
    const threaded = threadedDegradedSource(photos, 'old-photo', 40, true);
    try {
      const x = await inThread.next(new Rng(9), 3, 16, 2);
      const y = await threaded.next(new Rng(9), 3, 16, 2);
      expect(y.lr).toEqual(x.lr);
      expect(y.hr).toEqual(x.hr);
    } finally {
      await threaded.close();
    }
    // The first item's region is drawn before the jitter, so with and without it the
    // first target covers the same pixels: it must differ, and only moderately.
    const bicubic = (hr: Parameters<typeof degrade>[0], s: number, rng: Rng) => degrade(hr, s, 'bicubic', rng);
    const plain = await degradedSource(photos, bicubic).next(new Rng(9), 1, 16, 2);
    const jittered = await degradedSource(photos, bicubic, undefined, colourJitter).next(new Rng(9), 1, 16, 2);
    const meanAbs = jittered.hr.reduce((a, v, i) => a + Math.abs(v - plain.hr[i]!), 0) / plain.hr.length;
    expect(meanAbs).toBeGreaterThan(0.005);
    expect(meanAbs).toBeLessThan(0.2);
  }, 60_000);

  it('a degradation error reaches the step that asked for the batch, and the source stays usable', async () => {
    // An unknown preset fails inside the thread, for every batch.
    const threaded = threadedDegradedSource(photos, 'no-such-preset' as never);
    try {
      await expect(threaded.next(new Rng(1), 2, 16, 2)).rejects.toThrow(/no-such-preset/);
      await expect(threaded.next(new Rng(2), 2, 16, 2)).rejects.toThrow(/no-such-preset/);
    } finally {
      await threaded.close();
    }
  }, 60_000);
});
