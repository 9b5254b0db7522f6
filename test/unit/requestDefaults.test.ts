/**
 * One place for an upscale's defaults (issue 27, item 3): the tile the user chose in
 * Settings reaches `restora upscale` / `restore` (UpscaleService) and batch jobs alike, and
 * the CLI takes the same tile range as the API.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TILE_RANGE } from '../../src/shared/api.js';
import { parseRequest } from '../../src/shared/contract.js';
import { createApp, type App } from '../../src/main/app/createApp.js';
import type { UpscaleFileRequest } from '../../src/main/ml/infer/upscaleFile.js';
import { runCli, tmpDir } from '../helpers.js';

let app: App;
let photo = '';
const tiles: number[] = [];

beforeAll(async () => {
  const home = tmpDir('restora-defaults-');
  app = createApp({ home, threads: 1, backend: 'wasm' });
  app.settings.set({ tile: 48 });
  photo = path.join(tmpDir('restora-defaults-in-'), 'p.png');
  await sharp({ create: { width: 20, height: 10, channels: 3, background: '#808080' } })
    .png()
    .toFile(photo);
  // The compute worker stands aside: what matters is the request each front end builds.
  app.compute.upscale = async (_dir: string | null, req: UpscaleFileRequest) => {
    tiles.push(req.tile);
    fs.copyFileSync(photo, req.output);
    return { width: 20, height: 10, outWidth: 40, outHeight: 20, keptColours: false, keptHighlights: false };
  };
});

afterAll(async () => {
  await app?.close();
});

describe('request defaults', () => {
  it('Settings.tile reaches an upscale and a batch job that name no tile; a named tile wins', async () => {
    await app.upscale.run([photo], tmpDir('restora-defaults-out-'), { modelId: 'restora-x2' });
    await app.upscale.run([photo], tmpDir('restora-defaults-out-'), { modelId: 'restora-x2', tile: 96 });
    const jobs = app.jobs();
    const { jobId } = jobs.prepare({ inputs: [photo], outDir: tmpDir('restora-defaults-job-'), modelId: 'restora-x2', format: 'png', nameTemplate: '{name}', recursive: false });
    await jobs.run(jobId);
    expect(tiles).toEqual([48, 96, 48]);
  });

  it('the CLI and the API take the same tile range', () => {
    const home = tmpDir('restora-defaults-cli-');
    for (const bad of [TILE_RANGE.min - 1, TILE_RANGE.max + 1]) {
      const r = runCli(home, ['upscale', photo, '--out', tmpDir('restora-defaults-cli-out-'), '--tile', String(bad)]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--tile must be an integer from ${TILE_RANGE.min} to ${TILE_RANGE.max}`);
      expect(parseRequest('settings.set', { tile: bad }).ok).toBe(false);
    }
    expect(parseRequest('settings.set', { tile: TILE_RANGE.min }).ok).toBe(true);
  });
});
