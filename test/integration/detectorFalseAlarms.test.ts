/**
 * Do no harm (issue 23): on real photos without damage the bundled scratch detector, with
 * its card's repair rule, marks at most 0.2 % of any photo's pixels and 0.1 % on average
 * (the restore then differs from one without the repair on about 4x as many output pixels
 * at x2, scripts/eval-real-photos.ts: the bounds are 0.4 % and 0.2 % there), and it
 * still finds real-looking damage drawn on a real photo. The photos: public-domain crops
 * with thin real structures committed in test/fixtures/real-photos (a tripod, text, a
 * printed page, coins), and the 19 real low-quality photos of ../shared/data/real-photos
 * when that folder is beside the checkout (as in CI; evaluation only, never copied).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend.js';
import { decodeImage, IMAGE_EXTENSIONS } from '../../src/main/imaging/io.js';
import { detectDamage, type DamageNet } from '../../src/main/ml/infer/damage.js';
import { loadLayersModel, readCard } from '../../src/main/ml/store/modelStore.js';
import { bundledModelsDir } from '../../src/main/paths.js';
import { addDefects } from '../../src/main/degrade/defects.js';
import { degrade } from '../../src/main/degrade/presets.js';
import { Rng } from '../../src/main/ml/core/rng.js';
import { SCRATCH_DETECTOR_ID } from '../../src/shared/api.js';
import { ROOT, SHARED_DATA } from '../helpers.js';

const photosIn = (dir: string) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase()))
        .sort()
        .map((f) => path.join(dir, f))
    : [];
const committed = photosIn(path.join(ROOT, 'test', 'fixtures', 'real-photos'));
const shared = photosIn(path.join(SHARED_DATA, 'real-photos'));
if (shared.length === 0) console.warn('detectorFalseAlarms: ../shared/data/real-photos not found; only the committed real photos are checked');

let net: DamageNet;
beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  const dir = path.join(bundledModelsDir(), SCRATCH_DETECTOR_ID);
  net = { model: await loadLayersModel(dir), card: readCard(dir) };
});

describe('restora-scratch-detect on real photos without damage', () => {
  it('marks at most 0.2 % of any photo and 0.1 % on average', { timeout: 600_000 }, async () => {
    expect(committed.length).toBeGreaterThanOrEqual(4);
    const marked: Record<string, number> = {};
    for (const file of [...committed, ...shared]) {
      const img = await decodeImage(file);
      const mask = await detectDamage(net, img.rgb, img.width, img.height, img.maxValue, 384);
      marked[path.basename(file)] = (100 * mask.reduce((a, b) => a + b, 0)) / mask.length;
    }
    const values = Object.values(marked);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const worst = Object.entries(marked).sort((a, b) => b[1] - a[1])[0]!;
    expect(worst[1], `${worst[0]} marked ${worst[1].toFixed(3)} %`).toBeLessThanOrEqual(0.2);
    expect(mean).toBeLessThanOrEqual(0.1);
  });

  it('still finds cracks and scratches drawn on an aged real photo: the repair rule surely, the review rule widely', async () => {
    const img = await decodeImage(path.join(ROOT, 'test', 'fixtures', 'real-photos', 'coins.png'));
    const hr = { width: img.width, height: img.height, channels: 3, data: Float32Array.from(img.rgb) };
    const aged = await degrade(hr, 1, 'old-photo', new Rng(5), { scratches: false });
    const damaged = addDefects(aged, new Rng(6), { cracks: 3, scratches: 3, dust: 15 });
    const rgb = Uint8Array.from(damaged.img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
    const score = (mask: Uint8Array) => {
      let hit = 0;
      let truth = 0;
      let marked = 0;
      for (let i = 0; i < mask.length; i++) {
        hit += mask[i]! & damaged.mask[i]!;
        truth += damaged.mask[i]!;
        marked += mask[i]!;
      }
      return { precision: hit / Math.max(1, marked), recall: hit / truth };
    };
    const repair = score(await detectDamage(net, rgb, img.width, img.height, 255, 384));
    const review = score(await detectDamage(net, rgb, img.width, img.height, 255, 384, undefined, 'review'));
    // What is repaired unasked is damage; the studio's review shows much more of it.
    expect(repair.precision).toBeGreaterThan(0.9);
    expect(repair.recall).toBeGreaterThan(0.05);
    expect(review.precision).toBeGreaterThan(0.8);
    expect(review.recall).toBeGreaterThan(Math.max(0.3, 2 * repair.recall));
  });
});
