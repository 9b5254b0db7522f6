/** Settings choose where models run: the compute worker switches engines, says why when it cannot, and upscales on each. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createApp } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { synthImage, tmpDir, toUint8 } from '../helpers.js';
import { HAVE_CHROMIUM } from './helpers.js';

describe.skipIf(!HAVE_CHROMIUM)('compute choice in Settings', () => {
  it('cpu -> webgpu -> auto (only a software adapter: the CPU, and why) -> cpu, with an upscale on the GPU', async () => {
    const home = tmpDir();
    const app = createApp({ home, threads: 1 });
    const h = createHandlers(app);
    try {
      const photo = path.join(home, 'in.png');
      await sharp(Buffer.from(toUint8(synthImage(24, 16, 4))), { raw: { width: 24, height: 16, channels: 3 } })
        .png()
        .toFile(photo);
      const upscale = async (name: string) => {
        const [r] = await app.upscale.run([photo], path.join(home, name), { scale: 2, format: 'png' });
        expect(r?.error).toBeUndefined();
        return sharp(r!.output!).raw().toBuffer();
      };

      expect((await app.compute.info()).compute?.backend).toBe('wasm');
      const onCpu = await upscale('cpu.png');

      await h['settings.set']({ compute: 'webgpu' });
      const gpu = await app.compute.info();
      expect(gpu.compute?.backend).toBe('webgpu');
      expect(gpu.compute?.adapter?.architecture).toBe('swiftshader');
      expect(gpu.fallbackReason).toBeUndefined();
      const onGpu = await upscale('gpu.png');
      expect(onGpu.length).toBe(onCpu.length);
      expect(Math.max(...onGpu.map((v, i) => Math.abs(v - onCpu[i]!)))).toBeLessThanOrEqual(1);

      await h['settings.set']({ compute: 'auto' });
      const auto = await app.compute.info();
      expect(auto.compute?.backend).toBe('wasm');
      expect(auto.fallbackReason).toMatch(/auto: the only WebGPU adapter is a software one \(swiftshader\)/);

      await h['settings.set']({ compute: 'cpu' });
      const cpu = await app.compute.info();
      expect(cpu.compute?.backend).toBe('wasm');
      expect(cpu.fallbackReason).toBeUndefined();
      expect(JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')).compute).toBe('cpu');
    } finally {
      await app.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);
});
