/** A compute worker that dies fails its in-flight calls clearly, and the next call starts a fresh one (issue 24, item 1). */
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { ComputeHost } from '../../src/main/ml/worker/computeHost.js';
import { chromiumLauncher, findChromium } from '../../src/main/ml/engine/chromium.js';
import { installTinyModel, tmpDir } from '../helpers.js';

let host: ComputeHost;
let modelDir = '';
let input = '';
const workerOf = (h: ComputeHost) => (h as unknown as { worker: Worker | null }).worker;

beforeAll(async () => {
  const dir = tmpDir();
  modelDir = await installTinyModel(dir);
  input = path.join(dir, 'in.png');
  await sharp({ create: { width: 200, height: 150, channels: 3, background: '#336699' } })
    .png()
    .toFile(input);
  host = new ComputeHost({ backend: 'wasm', threads: 1 });
});

afterAll(async () => {
  await host.close();
});

describe('compute worker restart', () => {
  it('fails the in-flight upscale when the worker dies, then serves the next calls on a fresh worker', async () => {
    expect((await host.info()).compute?.backend).toBeTruthy();
    const first = workerOf(host)!;
    const out = path.join(tmpDir(), 'out.png');
    let killed = false;
    const inFlight = host.upscale(
      modelDir,
      { input, output: out, scale: 2, format: 'png', tile: 16, overlap: 4 },
      {
        onProgress: (done) => {
          if (done === 1 && !killed) {
            killed = true;
            void first.terminate();
          }
        },
      },
    );
    await expect(inFlight).rejects.toMatchObject({ name: 'RestoraError', code: 'INTERNAL', message: expect.stringMatching(/compute worker stopped .*next one starts a fresh worker/) });
    expect(killed).toBe(true);

    expect((await host.info()).compute?.backend).toBeTruthy();
    expect(workerOf(host)).not.toBe(first);
    const again = await host.upscale(modelDir, { input, output: out, scale: 2, format: 'png', tile: 256, overlap: 4 });
    expect(again.outWidth).toBe(400);
  }, 60_000);

  it('restarts after a death while idle too', async () => {
    const w = workerOf(host)!;
    await w.terminate();
    await expect.poll(() => workerOf(host)).toBeNull();
    expect((await host.archs()).length).toBeGreaterThan(0);
  }, 60_000);
});

describe.skipIf(findChromium() == null || process.platform !== 'linux')('compute worker restart with a WebGPU page', () => {
  it("closes the dead worker's Chromium, and the next call opens a fresh page", async () => {
    const pages: { exited: boolean }[] = [];
    const gpuHost = new ComputeHost({ backend: 'webgpu', threads: 1 }, async (url) => {
      const page = await chromiumLauncher(url);
      const seen = { exited: false };
      pages.push(seen);
      void page.exited.then(() => (seen.exited = true));
      return page;
    });
    try {
      expect((await gpuHost.info()).compute?.backend).toBe('webgpu');
      expect(pages).toHaveLength(1);
      await workerOf(gpuHost)!.terminate();
      // The Chromium process ended with its worker: nothing is left running.
      await expect.poll(() => pages[0]!.exited, { timeout: 15_000 }).toBe(true);
      expect((await gpuHost.info()).compute?.backend).toBe('webgpu');
      expect(pages).toHaveLength(2);
    } finally {
      await gpuHost.close();
    }
    expect(pages.every((p) => p.exited)).toBe(true);
  }, 90_000);

  it('without a launcher too: the headless Chromium of a worker that died is not left running', async () => {
    const chromiums = () =>
      fs.readdirSync('/proc').filter((pid) => {
        try {
          return /^\d+$/.test(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('restora-gpu-');
        } catch {
          return false;
        }
      });
    const before = new Set(chromiums());
    const gpuHost = new ComputeHost({ backend: 'webgpu', threads: 1 });
    try {
      expect((await gpuHost.info()).compute?.backend).toBe('webgpu');
      const ours = chromiums().filter((pid) => !before.has(pid));
      expect(ours.length).toBeGreaterThan(0);
      await workerOf(gpuHost)!.terminate();
      await expect.poll(() => ours.filter((pid) => fs.existsSync(`/proc/${pid}`)), { timeout: 15_000 }).toEqual([]);
    } finally {
      await gpuHost.close();
    }
  }, 90_000);
});
