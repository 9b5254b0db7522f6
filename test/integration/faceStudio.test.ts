/**
 * The face step in the studio (issue 26, item 4) through the handler map: a face model
 * imported from a GFPGAN .pth (the seeded random-weight fixture), Restore with faces keeping
 * the result without faces and with them at full strength beside it (Compare blends the two
 * live), the strength set again after the fact, and a face model refused as an upscaler.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRequest, type ApiContract, type ApiHandlers, type ApiMethod } from '../../src/shared/contract.js';
import { createApp, type App } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { ROOT, tmpDir } from '../helpers.js';

let app: App;
let handlers: ApiHandlers;
let imageId = 0;

async function call<M extends ApiMethod>(method: M, req: ApiContract[M]['req']): Promise<ApiContract[M]['res']> {
  const parsed = parseRequest(method, req);
  if (!parsed.ok) throw new Error(parsed.message);
  return (handlers[method] as (r: unknown) => Promise<ApiContract[M]['res']>)(parsed.value);
}

async function raw(file: string): Promise<Buffer> {
  return (await sharp(file).raw().toBuffer()) as Buffer;
}

beforeAll(async () => {
  app = createApp({ home: tmpDir('restora-face-studio-'), threads: 1, backend: 'wasm' });
  handlers = createHandlers(app);
  const m = await call('models.import', { path: path.join(ROOT, 'test', 'fixtures', 'face-import', 'gfpgan-clean-64.pth'), name: 'face64' });
  expect(m.card).toMatchObject({ id: 'face64', task: 'face' });
  const { id: projectId } = await call('projects.create', { name: 'faces' });
  await call('library.import', { projectId, paths: [path.join(ROOT, 'test', 'fixtures', 'faces', 'astronaut.jpg')] });
  imageId = (await call('library.list', { projectId })).rows[0]!.id;
}, 120_000);

afterAll(async () => {
  await app.close();
});

describe('faces in the studio', () => {
  it('restores with faces, keeps both ends for the live slider, and sets the strength again', async () => {
    const r = await call('upscale.image', { imageId, modelId: 'restora-oldphoto-x2', taskId: 'faces-1', faces: { modelId: 'face64', strength: 0.5 } });
    expect(r.faces).toMatchObject({ modelId: 'face64', strength: 0.5, found: 1, restored: 1, tooSmall: 0 });
    expect(r.faces!.boxes).toHaveLength(1);
    const off = (await app.media.resolve(`result-nofaces/${r.historyId}`))!;
    const on = (await app.media.resolve(`result-faces/${r.historyId}`))!;
    const [a, b, out] = await Promise.all([raw(off), raw(on), raw(r.output)]);
    expect(Buffer.compare(a, b)).not.toBe(0);
    // The result is the blend at the chosen strength (to rounding).
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - (a[i]! + 0.5 * (b[i]! - a[i]!))));
    expect(worst).toBeLessThanOrEqual(1);
    // The slider let go at 1: the result becomes the faces at full strength, and its record says so.
    expect(await call('upscale.faceStrength', { historyId: r.historyId, strength: 1 })).toEqual({ historyId: r.historyId, strength: 1 });
    expect(Buffer.compare(await raw(r.output), b)).toBe(0);
    const entry = (await call('library.get', { id: imageId })).history.find((h) => h.id === r.historyId);
    expect((entry!.settings as { faces: { strength: number } }).faces.strength).toBe(1);
    await expect(call('upscale.faceStrength', { historyId: r.historyId, strength: 1.5 })).rejects.toThrow();
    // Two quick moves of the slider at once (a browser sends input and change together): both land.
    const both = await Promise.all([call('upscale.faceStrength', { historyId: r.historyId, strength: 0.25 }), call('upscale.faceStrength', { historyId: r.historyId, strength: 0.25 })]);
    expect(both.map((x) => x.strength)).toEqual([0.25, 0.25]);
    expect(fs.readdirSync(path.dirname(r.output)).filter((f) => f.endsWith('.blend.png'))).toEqual([]);
  });

  it('a result without a face step has no strength to set; a face model is no upscaler', async () => {
    const plain = await call('upscale.image', { imageId, modelId: 'restora-oldphoto-x2', taskId: 'plain-1' });
    expect(plain.faces).toBeUndefined();
    expect(fs.existsSync(`${plain.output}.faces.png`)).toBe(false);
    await expect(call('upscale.faceStrength', { historyId: plain.historyId, strength: 0.3 })).rejects.toThrow(/no face step/);
    await expect(call('upscale.image', { imageId, modelId: 'face64', taskId: 'bad-1' })).rejects.toThrow(/face64 is a face restorer/);
    await expect(call('upscale.image', { imageId, modelId: 'restora-oldphoto-x2', taskId: 'bad-2', faces: { modelId: 'restora-x2' } })).rejects.toThrow(/not a face model/);
  });
});
