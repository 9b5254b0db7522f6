/**
 * One Restore pipeline (issue 25, item 2): the studio's single-photo button, a batch job of
 * library photos and `restora restore` (the upscale service) run the same steps (repair,
 * model, colours) and write the same pixels for a damaged photo, with the detector's mask
 * and with the photo's own saved mask.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCRATCH_DETECTOR_ID, taskFor, type UpscaleImageResult } from '../../src/shared/api.js';
import { createApp, type App } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { synthImage, tmpDir, toUint8 } from '../helpers.js';

const W = 96;
const H = 72;
let home = '';
let photo = '';
let app: App;
let h: ReturnType<typeof createHandlers>;
let imageId = 0;
const restoreModel = taskFor('restore')!.fallback;

async function pixels(file: string): Promise<Buffer> {
  return sharp(file).removeAlpha().raw().toBuffer();
}

/** A batch job of this library photo with the Restore task's choices; resolves the output file. */
async function batchRestore(outDir: string): Promise<string> {
  const { jobId } = await h['jobs.start']({ imageIds: [imageId], inputs: [], outDir, modelId: restoreModel, format: 'png', nameTemplate: '{name}', recursive: true, repair: 'auto' });
  await expect.poll(async () => (await h['jobs.list']({})).find((j) => j.id === jobId)?.state, { timeout: 120_000, interval: 200 }).toBe('done');
  return path.join(outDir, 'scratched.png');
}

beforeAll(async () => {
  home = tmpDir('restora-pipeline-');
  const rgb = toUint8(synthImage(W, H, 5));
  // Thin bright scratches and a dust speck, as on an old print.
  for (let x = 8; x < 88; x++) {
    const y = 20 + Math.round(x * 0.3);
    for (let c = 0; c < 3; c++) rgb[(y * W + x) * 3 + c] = 250;
  }
  for (let y = 40; y < 44; y++) for (let x = 60; x < 64; x++) for (let c = 0; c < 3; c++) rgb[(y * W + x) * 3 + c] = 245;
  const photos = path.join(home, 'photos');
  fs.mkdirSync(photos);
  photo = path.join(photos, 'scratched.png');
  await sharp(Buffer.from(rgb), { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(photo);
  app = createApp({ home: path.join(home, 'app'), backend: 'wasm', threads: 1 });
  h = createHandlers(app);
  const project = await h['projects.create']({ name: 'pipeline' });
  await h['library.import']({ projectId: project.id, paths: [photos], recursive: false });
  imageId = (await h['library.list']({ projectId: project.id })).rows[0]!.id;
});

afterAll(async () => {
  await app?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('one Restore pipeline', () => {
  it('the single-photo button, a batch job and `restora restore` write the same pixels, repaired by the detector', async () => {
    // What the studio's Restore old photo button sends for a photo without a mask.
    const single = (await h['upscale.image']({ imageId, modelId: restoreModel, taskId: 'one', keepColours: true, repair: 'auto' })) as UpscaleImageResult;
    expect(single.repairedPixels).toBeGreaterThan(20);
    const batch = await batchRestore(path.join(home, 'batch'));
    // `restora restore PHOTO` (the upscale service with the Restore task's model and repair).
    const [cli] = await app.upscale.run([photo], path.join(home, 'cli'), { modelId: restoreModel, repair: 'auto', format: 'png' });
    expect(cli).toMatchObject({ ok: true });
    const a = await pixels(single.output);
    expect((await pixels(batch)).equals(a)).toBe(true);
    expect((await pixels((cli as { output: string }).output)).equals(a)).toBe(true);
    // Not the same as without the repair: a batch that skipped it would fail above.
    const plain = (await h['upscale.image']({ imageId, modelId: restoreModel, taskId: 'plain', keepColours: true, repair: 'off' })) as UpscaleImageResult;
    expect((await pixels(plain.output)).equals(a)).toBe(false);
  }, 240_000);

  it('with a saved mask, the batch repairs each photo with its own mask, as the button does', async () => {
    const mask = Buffer.alloc(W * H);
    for (let y = 38; y < 46; y++) for (let x = 58; x < 66; x++) mask[y * W + x] = 255;
    const png = (
      await sharp(mask, { raw: { width: W, height: H, channels: 1 } })
        .png()
        .toBuffer()
    ).toString('base64');
    await h['damage.saveMask']({ imageId, png });
    expect((await h['library.get']({ id: imageId })).savedMask).toBe(`mask/${imageId}`);
    const single = (await h['upscale.image']({ imageId, modelId: restoreModel, taskId: 'masked', keepColours: true, repair: 'mask' })) as UpscaleImageResult;
    expect(single.repairedPixels).toBe(64);
    const batch = await batchRestore(path.join(home, 'batch-masked'));
    expect((await pixels(batch)).equals(await pixels(single.output))).toBe(true);
  }, 240_000);

  it('"Restore + x4": the restore at the photo\'s size, then the x4 real-world model; four times the photo, one result', async () => {
    const x4 = taskFor('cleanup', 4)!.fallback;
    const r = (await h['upscale.image']({ imageId, modelId: restoreModel, then: x4, taskId: 'r4', keepColours: true, repair: 'auto' })) as UpscaleImageResult;
    expect([r.width, r.height]).toEqual([W * 4, H * 4]);
    expect(r.modelId).toBe(`${restoreModel}+${x4}`);
    expect(r.repairedPixels).toBeGreaterThan(20);
    expect((await sharp(r.output).metadata()).width).toBe(W * 4);
    // Its steps' files are gone; the history says what ran.
    expect(fs.readdirSync(path.dirname(r.output)).filter((f) => f.includes('.step'))).toEqual([]);
    const entry = (await h['library.get']({ id: imageId })).history.find((e) => e.id === r.historyId);
    expect(entry).toMatchObject({ modelId: `${restoreModel}+${x4}`, settings: { scale: 4, steps: [restoreModel, x4], repair: 'auto' } });
    // Not the x4 alone: the restore's cleaning is in it.
    const plainX4 = (await h['upscale.image']({ imageId, modelId: x4, taskId: 'x4', keepColours: true })) as UpscaleImageResult;
    expect((await pixels(plainX4.output)).equals(await pixels(r.output))).toBe(false);
    // The second step must enlarge: a damage net there is refused before anything runs.
    await expect(h['upscale.image']({ imageId, modelId: restoreModel, then: SCRATCH_DETECTOR_ID, taskId: 'bad' })).rejects.toThrow(new RegExp(`^${SCRATCH_DETECTOR_ID} is a step of`));
  }, 240_000);
});
