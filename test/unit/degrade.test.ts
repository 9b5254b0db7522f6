import { describe, expect, it } from 'vitest';
import { degrade, type PresetId } from '../../src/main/degrade/presets.js';
import { blurKernel, colourJitter, convolve, jpegRoundTrip, resizeTo, saltAndPepper, sincKernel } from '../../src/main/degrade/ops.js';
import { imresize } from '../../src/main/imaging/imresize.js';
import { measure } from '../../src/main/ml/eval/metrics.js';
import { Rng } from '../../src/main/ml/core/rng.js';
import { synthImage } from '../helpers.js';

const hr = synthImage(64, 48, 7);
const presets: PresetId[] = ['bicubic', 'jpeg', 'old-photo', 'realistic'];

describe('degradation presets', () => {
  for (const preset of presets) {
    for (const scale of [1, 2, 4]) {
      it(`${preset} x${scale}: LR size, value range, reproducible from the seed`, async () => {
        const a = await degrade(hr, scale, preset, new Rng(42), { scratches: true });
        const b = await degrade(hr, scale, preset, new Rng(42), { scratches: true });
        expect([a.width, a.height]).toEqual([64 / scale, 48 / scale]);
        expect(Array.from(a.data)).toEqual(Array.from(b.data));
        for (const v of a.data) expect(v >= 0 && v <= 255).toBe(true);
      });
    }
  }

  it('different seeds give different old photos, and they are worse than clean bicubic', async () => {
    const clean = imresize(hr, 0.5);
    let differs = 0;
    let worse = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const a = await degrade(hr, 2, 'old-photo', new Rng(seed));
      const b = await degrade(hr, 2, 'old-photo', new Rng(seed + 100));
      if (a.data.some((v, i) => v !== b.data[i])) differs++;
      if (measure(a, clean, 1).psnr < 45) worse++;
    }
    expect(differs).toBe(6);
    expect(worse).toBeGreaterThanOrEqual(5);
  });

  it('rejects unsupported scales and non-multiple sizes', async () => {
    await expect(degrade(hr, 3, 'bicubic', new Rng(1))).rejects.toMatchObject({ code: 'USAGE' });
    await expect(degrade(synthImage(30, 30), 4, 'bicubic', new Rng(1))).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('degradation operators', () => {
  it('blur kernels are normalised; anisotropic ones are elongated along theta', () => {
    const k = blurKernel(11, 3, 0.5, 0);
    expect(k.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const c = 5;
    expect(k.data[c * 11 + c + 3]!).toBeGreaterThan(k.data[(c + 3) * 11 + c]!);
    expect(sincKernel(13, Math.PI / 3).data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('colour jitter is seeded, stays in 0..255 and changes the photo moderately', () => {
    const jittered = (seed: number) => {
      const img = { ...hr, data: Float32Array.from(hr.data) };
      colourJitter(img, new Rng(seed));
      return img.data;
    };
    const a = jittered(3);
    expect(jittered(3)).toEqual(a);
    expect(jittered(4)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(255);
    const meanAbs = a.reduce((s, v, i) => s + Math.abs(v - hr.data[i]!), 0) / a.length;
    expect(meanAbs).toBeGreaterThan(1);
    expect(meanAbs).toBeLessThan(50);
  });

  it('convolution keeps flat images flat (replicated borders)', () => {
    const flat = { width: 9, height: 7, channels: 3, data: new Float32Array(9 * 7 * 3).fill(100) };
    for (const v of convolve(flat, blurKernel(7, 2, 2, 0)).data) expect(v).toBeCloseTo(100, 3);
  });

  it('JPEG round trip loses more at low quality', async () => {
    const q90 = measure(await jpegRoundTrip(hr, 90), hr, 1).psnr;
    const q30 = measure(await jpegRoundTrip(hr, 30), hr, 1).psnr;
    expect(q90).toBeGreaterThan(q30);
  });

  it('salt-and-pepper touches about `amount` of the pixels', () => {
    const img = { width: 100, height: 100, channels: 3, data: new Float32Array(30000).fill(128) };
    const out = saltAndPepper(img, 0.01, new Rng(3));
    let hit = 0;
    for (let p = 0; p < 10000; p++) if (out.data[p * 3] !== 128) hit++;
    expect(hit).toBeGreaterThan(60);
    expect(hit).toBeLessThan(140);
  });
});

describe('area resize keeps the image where it was', () => {
  it.each([1.5, 2, 2.5, 3.7])('a ramp valued at pixel centres, shrunk by %f, keeps its values at the new pixel centres', (factor) => {
    const w = 37;
    const h = 3;
    const data = new Float32Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = x + 0.5;
    const outW = Math.floor(w / factor);
    const out = resizeTo({ width: w, height: h, channels: 3, data }, outW, h, 'area');
    const sx = w / outW;
    // Pixels are boxes, so each output's value is its box's mean, within a tenth of a pixel of the
    // box centre; on average exactly there (whole-pixel boxes were off by ~0.47 source pixel).
    let meanError = 0;
    for (let x = 0; x < outW; x++) {
      const e = out.data[x * 3]! - (x + 0.5) * sx;
      expect(Math.abs(e)).toBeLessThan(0.1);
      meanError += e / outW;
    }
    expect(Math.abs(meanError)).toBeLessThan(0.01);
  });
});
