/** The tone steps: the highlight guard's clipping bound, and levels + white balance on faded prints. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/main/imaging/io.js';
import { autoLevels, clippedFraction, guardHighlights } from '../../src/main/imaging/tone.js';
import { ROOT } from '../helpers.js';

const luma = (p: ArrayLike<number>, i: number) => 0.299 * p[3 * i]! + 0.587 * p[3 * i + 1]! + 0.114 * p[3 * i + 2]!;

/** A photo-like 8-bit image: smooth shading with texture, highlights up to about 235, a few pixels at white. */
function scene(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const base = 40 + 190 * (x / w) * (0.6 + 0.4 * Math.sin(y / 9)) + 6 * Math.sin(x * 1.3 + y * 0.7);
      const i = 3 * (y * w + x);
      out[i] = Math.min(255, Math.max(0, Math.round(base + 5)));
      out[i + 1] = Math.min(255, Math.max(0, Math.round(base)));
      out[i + 2] = Math.min(255, Math.max(0, Math.round(base - 12)));
      if (x > w - 4 && y < 3) out.fill(255, i, i + 3); // a small specular spot, white in the input
    }
  return out;
}

/** What an overexposing restoration model does: x2 (nearest) with contrast stretched about mid-grey, clipped. */
function overexpose(input: Uint8Array, w: number, h: number, gain = 1.6): Uint8Array {
  const out = new Uint8Array(w * h * 12);
  for (let Y = 0; Y < 2 * h; Y++)
    for (let X = 0; X < 2 * w; X++)
      for (let c = 0; c < 3; c++) {
        const v = input[3 * ((Y >> 1) * w + (X >> 1)) + c]!;
        out[3 * (Y * 2 * w + X) + c] = Math.min(255, Math.max(0, Math.round(128 + gain * (v - 128) + 4)));
      }
  return out;
}

describe('highlight guard', () => {
  const w = 96;
  const h = 64;
  const input = scene(w, h);

  it("keeps the clipped fraction within the input's + 0.5 points where the model blows the whites out", () => {
    const out = overexpose(input, w, h);
    const before = clippedFraction(out, 255);
    // The case must really overexpose, or the bound below proves nothing.
    expect(before).toBeGreaterThan(clippedFraction(input, 255) + 0.02);
    guardHighlights(input, w, h, out, 2, 255);
    expect(clippedFraction(out, 255)).toBeLessThanOrEqual(clippedFraction(input, 255) + 0.005);
  });

  it('leaves mid-tones, input-white pixels and outputs no brighter than the input alone', () => {
    const out = overexpose(input, w, h);
    const orig = out.slice();
    guardHighlights(input, w, h, out, 2, 255);
    for (let p = 0; p < out.length / 3; p++) {
      if (luma(orig, p) <= 192) expect([out[3 * p], out[3 * p + 1], out[3 * p + 2]]).toEqual([orig[3 * p], orig[3 * p + 1], orig[3 * p + 2]]);
      // Never brightens.
      expect(luma(out, p)).toBeLessThanOrEqual(luma(orig, p) + 1e-9);
    }
    // The input's own white spot stays white.
    expect(luma(out, 2 * w - 1)).toBeGreaterThanOrEqual(250);
    // At x1 the reference is the input itself: an output darker everywhere is not touched.
    const same = input.map((v) => Math.max(0, v - 6));
    const copy = same.slice();
    expect(guardHighlights(input, w, h, same, 1, 255)).toBe(0);
    expect(same).toEqual(copy);
  });

  it("is monotone in the output's brightness and keeps hue (equal shift on R, G, B)", () => {
    // One input level, a ramp of output levels over it.
    const inp = new Float32Array([200, 190, 170]);
    const outs = new Float32Array(3 * 60);
    for (let k = 0; k < 60; k++) [outs[3 * k], outs[3 * k + 1], outs[3 * k + 2]] = [196 + k, 186 + k, 160 + k];
    const ramp = outs.slice();
    // scale 1, one input pixel per output pixel: the same reference everywhere.
    const input60 = new Float32Array(3 * 60);
    for (let k = 0; k < 60; k++) input60.set(inp, 3 * k);
    guardHighlights(input60, 60, 1, outs, 1, 255);
    for (let k = 1; k < 60; k++) expect(luma(outs, k)).toBeGreaterThan(luma(outs, k - 1));
    for (let k = 0; k < 60; k++) {
      const d = outs[3 * k]! - ramp[3 * k]!;
      expect(outs[3 * k + 1]! - ramp[3 * k + 1]!).toBeCloseTo(d, 5);
      expect(outs[3 * k + 2]! - ramp[3 * k + 2]!).toBeCloseTo(d, 5);
      expect(luma(outs, k)).toBeLessThan(250);
    }
  });

  it('works on 16-bit samples', () => {
    const in16 = Uint16Array.from(input, (v) => v * 257);
    const out16 = Uint16Array.from(overexpose(input, w, h), (v) => v * 257);
    guardHighlights(in16, w, h, out16, 2, 65535);
    expect(clippedFraction(out16, 65535)).toBeLessThanOrEqual(clippedFraction(in16, 65535) + 0.005);
  });
});

/** Fading and yellowing of a print: lifted blacks, dimmed whites, blue down, red up. */
function fadeYellow(rgb: Uint8Array): Uint8Array {
  const gains = [1.03, 1.0, 0.88];
  return rgb.map((v, i) => Math.min(255, Math.round((v * 0.7 + 45) * gains[i % 3]!)));
}

const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / a.length;
};

describe('levels and white balance', () => {
  it('brings a faded, yellowed photo closer to the original', async () => {
    const img = await decodeImage(path.join(ROOT, 'resources', 'samples', 'coffee.png'));
    const orig = Uint8Array.from(img.rgb);
    const faded = fadeYellow(orig);
    const fixed = faded.slice();
    const r = autoLevels(fixed, img.width, img.height, 255);
    expect(r.castWeight).toBeGreaterThan(0.5);
    // PSNR gain of at least 3 dB (MSE halved).
    expect(mse(fixed, orig)).toBeLessThan(mse(faded, orig) / 2);
    // The cast is mostly gone: each channel's mean moves back towards the original's.
    const meanOf = (p: Uint8Array, c: number) => p.filter((_, i) => i % 3 === c).reduce((a, v) => a + v, 0) / (p.length / 3);
    const off = (p: Uint8Array) => [0, 1, 2].reduce((a, c) => a + Math.abs(meanOf(p, c) - meanOf(orig, c)), 0);
    expect(off(fixed)).toBeLessThan(off(faded) / 2);
    expect(clippedFraction(fixed, 255)).toBeLessThanOrEqual(clippedFraction(faded, 255) + 0.005);
  });

  it('keeps a neutral grayscale image exactly neutral', () => {
    const w = 80;
    const h = 60;
    const grey = new Uint8Array(w * h * 3);
    for (let p = 0; p < w * h; p++) grey.fill(Math.round(60 + 120 * ((p % w) / w) + 20 * Math.sin(p / 13)), 3 * p, 3 * p + 3);
    autoLevels(grey, w, h, 255);
    let spread = 0;
    for (let p = 0; p < w * h; p++) spread = Math.max(spread, Math.max(grey[3 * p]!, grey[3 * p + 1]!, grey[3 * p + 2]!) - Math.min(grey[3 * p]!, grey[3 * p + 1]!, grey[3 * p + 2]!));
    expect(spread).toBe(0);
    // and it did stretch the range (the step ran).
    expect(Math.max(...grey)).toBeGreaterThan(220);
  });

  it("leaves a strongly coloured photo's colour alone (a sunset is not a cast)", () => {
    const w = 64;
    const h = 48;
    const warm = new Uint8Array(w * h * 3);
    for (let p = 0; p < w * h; p++) {
      const t = (p % w) / w;
      warm.set([Math.round(40 + 210 * t), Math.round(20 + 150 * t), Math.round(10 + 70 * t)], 3 * p);
    }
    const r = autoLevels(warm.slice(), w, h, 255);
    expect(r.castWeight).toBe(0);
  });
});
