/**
 * ncnn import conformance against the engine Upscayl ships: Upscayl's own
 * realesrgan-x4fast / x4plus .param/.bin, imported by Restora and run through its
 * compute worker (tiling included), must reproduce upscayl-bin's PNG within 2/255
 * mean absolute difference on real photo crops. One defect of the peer is measured
 * apart: on lavapipe it wraps negative outputs around instead of clamping them.
 */
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComputeHost } from '../../src/main/ml/worker/computeHost.js';
import { ROOT, tmpDir } from '../helpers.js';
import { runUpscayl, upscaylMissing, UPSCAYL_MODELS } from '../peers/upscayl.js';

const missing = upscaylMissing();
if (missing) console.warn(`upscayl conformance skipped: ${missing}`);

describe.skipIf(missing !== null)('ncnn import matches upscayl-bin', () => {
  let compute: ComputeHost;
  const dir = tmpDir('restora-upscayl-');
  const photo = path.join(ROOT, 'resources', 'samples', 'coffee.png');
  const crops: Record<string, string> = {};

  beforeAll(async () => {
    compute = new ComputeHost({ backend: 'wasm' });
    // Two real-photo regions: the cup's rim and highlights, and the saucer with the table's wood grain.
    for (const [name, region] of Object.entries({ rim: { left: 200, top: 100 }, saucer: { left: 40, top: 300 } })) {
      crops[name] = path.join(dir, `${name}.png`);
      await sharp(photo)
        .extract({ ...region, width: 96, height: 64 })
        .removeAlpha()
        .png()
        .toFile(crops[name]!);
    }
  });
  afterAll(async () => {
    await compute.close();
  });

  async function pixels(file: string): Promise<{ data: Buffer; width: number; height: number }> {
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  }

  /**
   * Mean absolute difference, and the samples where upscayl-bin on lavapipe wrapped a
   * negative model output around to a bright value instead of clamping it to 0 (blue
   * specks in dark areas of its PNG): there Restora's clamped output is exactly 0.
   */
  async function compare(theirsFile: string, oursFile: string): Promise<{ mad: number; madUnwrapped: number; wrapped: number }> {
    const [theirs, ours] = await Promise.all([pixels(theirsFile), pixels(oursFile)]);
    expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
    let sum = 0;
    let sumKept = 0;
    let wrapped = 0;
    for (let i = 0; i < theirs.data.length; i++) {
      const d = Math.abs(theirs.data[i]! - ours.data[i]!);
      sum += d;
      if (ours.data[i] === 0 && theirs.data[i]! >= 128) wrapped++;
      else sumKept += d;
    }
    const n = theirs.data.length;
    return { mad: sum / n, madUnwrapped: sumKept / (n - wrapped), wrapped: wrapped / n };
  }

  it.each([
    ['realesrgan-x4fast', ['rim', 'saucer']],
    ['realesrgan-x4plus', ['rim']],
  ] as const)(
    '%s within 2/255 MAD on %j',
    async (model, names) => {
      const modelDir = path.join(dir, model);
      const card = await compute.importModel({ format: 'ncnn', files: [path.join(UPSCAYL_MODELS, `${model}.param`), path.join(UPSCAYL_MODELS, `${model}.bin`)] }, modelDir, { id: model, name: model });
      expect(card.scale).toBe(4);
      for (const name of names) {
        const theirs = path.join(dir, `${name}-${model}-upscayl.png`);
        const ours = path.join(dir, `${name}-${model}-restora.png`);
        runUpscayl(crops[name]!, theirs, model);
        await compute.upscale(modelDir, { input: crops[name]!, output: ours, scale: 4, format: 'png', tile: 384, overlap: 0 });
        const c = await compare(theirs, ours);
        console.log(`${model} on ${name}: MAD ${c.mad.toFixed(3)} / 255 over all samples; ${c.madUnwrapped.toFixed(3)} without the ${(100 * c.wrapped).toFixed(2)} % upscayl-bin wrapped`);
        expect(c.madUnwrapped).toBeLessThan(2);
        expect(c.wrapped).toBeLessThan(0.02);
        // Not a trivial agreement: the model's output is far from a plain resize of the crop.
        const nearest = path.join(dir, `${name}-nearest.png`);
        await sharp(crops[name]!).resize(384, 256, { kernel: 'nearest' }).png().toFile(nearest);
        expect((await compare(theirs, nearest)).mad).toBeGreaterThan(2);
      }
    },
    600_000,
  );
});
