import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { ComputeHost } from '../../src/main/ml/worker/computeHost.js';
import { installTinyModel, tmpDir } from '../helpers.js';

let host: ComputeHost;
let modelDir = '';
let input = '';

beforeAll(async () => {
  const dir = tmpDir();
  modelDir = await installTinyModel(dir);
  input = path.join(dir, 'in.png');
  await sharp({ create: { width: 200, height: 150, channels: 3, background: '#336699', noise: { type: 'gaussian', mean: 120, sigma: 30 } } })
    .png()
    .toFile(input);
  host = new ComputeHost({ backend: 'wasm', threads: 1 });
});

afterAll(async () => {
  await host.close();
});

describe('compute worker thread', () => {
  it('upscales in the worker with progress events per tile', async () => {
    const out = path.join(tmpDir(), 'out.png');
    const seen: [number, number][] = [];
    const r = await host.upscale(modelDir, { input, output: out, scale: 2, format: 'png', tile: 64, overlap: 4 }, { onProgress: (d, t) => seen.push([d, t]) });
    expect([r.outWidth, r.outHeight]).toEqual([400, 300]);
    expect(seen.length).toBe(12); // ceil(200/64) * ceil(150/64)
    expect(seen[seen.length - 1]).toEqual([12, 12]);
    expect((await sharp(out).metadata()).width).toBe(400);
  });

  it('cancels mid-image: typed CANCELLED error, no output file, worker still usable', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out.png');
    const ac = new AbortController();
    const p = host.upscale(modelDir, { input, output: out, scale: 2, format: 'png', tile: 16, overlap: 4 }, { signal: ac.signal, onProgress: (d) => d === 2 && ac.abort() });
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(fs.readdirSync(dir)).toEqual([]);
    const again = await host.upscale(modelDir, { input, output: out, scale: 2, format: 'png', tile: 256, overlap: 4 });
    expect(again.outWidth).toBe(400);
  });

  it('reports bad input as a typed error naming the file', async () => {
    const bad = path.join(tmpDir(), 'bad.png');
    fs.writeFileSync(bad, 'not an image');
    await expect(host.upscale(modelDir, { input: bad, output: bad + '.out.png', scale: 2, format: 'png', tile: 64, overlap: 4 })).rejects.toMatchObject({
      code: 'UNSUPPORTED_FORMAT',
      message: expect.stringContaining('bad.png'),
    });
  });
});
