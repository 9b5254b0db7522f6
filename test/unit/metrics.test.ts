import { describe, expect, it } from 'vitest';
import { measure, psnrPlane, shave, ssimPlane, toY } from '../../src/main/ml/eval/metrics.js';
import { synthImage } from '../helpers.js';

describe('metrics (../shared/DESIGN.md protocol)', () => {
  it('Y uses BT.601 studio range: black 16, white 235', () => {
    const img = { width: 2, height: 1, channels: 3, data: Float32Array.from([0, 0, 0, 255, 255, 255]) };
    const y = toY(img);
    expect(y.data[0]).toBeCloseTo(16, 6);
    expect(y.data[1]).toBeCloseTo(235, 3);
  });

  it('PSNR follows 10 log10(255^2 / MSE) on Y', () => {
    const a = { width: 4, height: 4, data: new Float64Array(16).fill(100) };
    const b = { width: 4, height: 4, data: new Float64Array(16).fill(110) };
    expect(psnrPlane(a, b)).toBeCloseTo(10 * Math.log10((255 * 255) / 100), 9);
    expect(psnrPlane(a, a)).toBe(Infinity);
  });

  it('SSIM is 1 for identical images, lower for noisy ones, and symmetric', () => {
    const img = synthImage(40, 40);
    const y = toY(img);
    expect(ssimPlane(y, y)).toBeCloseTo(1, 10);
    const noisy = { ...y, data: y.data.map((v, i) => v + ((i * 7919) % 13) - 6) };
    const s = ssimPlane(y, noisy);
    expect(s).toBeLessThan(0.99);
    expect(s).toBeGreaterThan(0);
    expect(ssimPlane(noisy, y)).toBeCloseTo(s, 12);
  });

  it('shaves the border before scoring: damage only in the border does not count', () => {
    const hr = synthImage(32, 32);
    const sr = { ...hr, data: Float32Array.from(hr.data) };
    for (let x = 0; x < 32; x++) sr.data[x * 3] = 0; // top row red channel
    expect(measure(sr, hr, 2).psnr).toBe(Infinity);
    expect(shave(toY(hr), 2).width).toBe(28);
  });
});
