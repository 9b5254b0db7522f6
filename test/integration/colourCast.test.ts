/**
 * No new colour casts: a black-and-white scan must come out of every bundled
 * restoration model as neutral as it went in (mean |Cb|, |Cr| within 1 level),
 * which the default "keep the photo's colours" step guarantees.
 */
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComputeHost } from '../../src/main/ml/worker/computeHost.js';
import { ModelLibrary } from '../../src/main/ml/store/modelLibrary.js';
import { bundledModelsDir } from '../../src/main/paths.js';
import { ROOT, tmpDir } from '../helpers.js';

/** Mean |Cb| and |Cr| (BT.601, 0..255 levels) of an image file. */
async function meanChroma(file: string): Promise<{ cb: number; cr: number }> {
  const { data } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  let cb = 0;
  let cr = 0;
  for (let i = 0; i < data.length; i += 3) {
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
    cb += Math.abs(-0.168736 * r - 0.331264 * g + 0.5 * b);
    cr += Math.abs(0.5 * r - 0.418688 * g - 0.081312 * b);
  }
  const n = data.length / 3;
  return { cb: cb / n, cr: cr / n };
}

const restoreModels = new ModelLibrary(bundledModelsDir(), tmpDir()).list().filter((m) => m.card.task === 'restore');

describe('restoration keeps a grayscale scan neutral', () => {
  let compute: ComputeHost;
  const dir = tmpDir('restora-colour-');
  const scan = path.join(dir, 'bw-scan.png');
  beforeAll(async () => {
    compute = new ComputeHost({ backend: 'wasm' });
    // A black-and-white photo stored as RGB, as scanners write them.
    await sharp(path.join(ROOT, 'resources', 'samples', 'coffee.png'))
      .extract({ left: 150, top: 80, width: 160, height: 120 })
      .grayscale()
      .toColourspace('srgb')
      .png()
      .toFile(scan);
  });
  afterAll(async () => {
    await compute.close();
  });

  it('there is at least one bundled restoration model to check', () => {
    expect(restoreModels.length).toBeGreaterThan(0);
  });

  it.each(restoreModels.map((m) => [m.card.id, m.dir] as const))('%s: mean |Cb|, |Cr| within 1 level of the input', async (id, modelDir) => {
    const input = await meanChroma(scan);
    expect(input.cb + input.cr).toBeLessThan(0.5);
    const kept = path.join(dir, `${id}-kept.png`);
    await compute.upscale(modelDir, { input: scan, output: kept, scale: 2, format: 'png', tile: 384, overlap: 0 });
    const out = await meanChroma(kept);
    const raw = path.join(dir, `${id}-raw.png`);
    await compute.upscale(modelDir, { input: scan, output: raw, scale: 2, format: 'png', tile: 384, overlap: 0, keepColours: false });
    const model = await meanChroma(raw);
    console.log(`${id}: input |Cb| ${input.cb.toFixed(2)} |Cr| ${input.cr.toFixed(2)}; model alone ${model.cb.toFixed(2)} / ${model.cr.toFixed(2)}; kept ${out.cb.toFixed(2)} / ${out.cr.toFixed(2)}`);
    expect(Math.abs(out.cb - input.cb)).toBeLessThanOrEqual(1);
    expect(Math.abs(out.cr - input.cr)).toBeLessThanOrEqual(1);
  });
});
