/**
 * The desktop app opens the WebGPU page itself (a hidden window) for both workers: the
 * compute worker and each training worker ask the main thread for a page by message.
 * Here the launcher is headless Chromium called from this (main) thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { AppEvent } from '../../src/shared/api.js';
import { createApp } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { chromiumLauncher, type LaunchedPage } from '../../src/main/ml/engine/chromium.js';
import { synthImage, tmpDir, toUint8 } from '../helpers.js';
import { HAVE_CHROMIUM } from './helpers.js';

describe.skipIf(!HAVE_CHROMIUM)('pages opened by the main thread', () => {
  it('serves the compute worker and a training worker, and closes their pages', async () => {
    const home = tmpDir();
    const photos = path.join(home, 'photos');
    fs.mkdirSync(photos);
    for (let i = 0; i < 4; i++) {
      await sharp(Buffer.from(toUint8(synthImage(64, 64, i + 1))), { raw: { width: 64, height: 64, channels: 3 } })
        .png()
        .toFile(path.join(photos, `p${i}.png`));
    }
    const opened: LaunchedPage[] = [];
    // Each page counted once, however many times close is asked (the worker and the app both may ask).
    const closedPages = new Set<LaunchedPage>();
    const app = createApp({
      home,
      threads: 1,
      pageLauncher: async (url) => {
        const page = await chromiumLauncher(url);
        opened.push(page);
        return { exited: page.exited, close: async () => (closedPages.add(page), page.close()) };
      },
    });
    const h = createHandlers(app);
    const events: AppEvent[] = [];
    app.events.subscribe((e) => events.push(e));
    try {
      await h['settings.set']({ compute: 'webgpu' });
      expect((await app.compute.info()).compute?.backend).toBe('webgpu');
      expect(opened).toHaveLength(1);

      const { runId } = await h['training.start']({ name: 'gpu-run', dataDirs: [photos], scale: 2, preset: 'bicubic', arch: 'compact', archOptions: { channels: 8, blocks: 1 }, steps: 4, batch: 2, patch: 16 });
      await expect.poll(() => events.find((e) => e.type === 'training.state' && e.runId === runId && (e.state === 'done' || e.state === 'failed')), { timeout: 90_000, interval: 200 }).toMatchObject({ state: 'done', modelId: 'gpu-run' });
      // The training worker's page came from this thread, and was closed when the run ended.
      expect(opened).toHaveLength(2);
      await expect.poll(() => closedPages.has(opened[1]!), { timeout: 10_000 }).toBe(true);
      expect(closedPages.has(opened[0]!)).toBe(false);
      expect(fs.existsSync(path.join(home, 'models', 'gpu-run', 'model.json'))).toBe(true);
    } finally {
      await app.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
    // Closing the app closed the compute worker's page too.
    expect(closedPages.size).toBe(2);
  }, 150_000);
});
