import { describe, expect, it } from 'vitest';
import { confidentMask, maskRuleOf, takeSurroundingColour } from '../../src/main/ml/infer/damage.js';

/** A probability map from rows of digits (0-9 -> 0.0-0.9 of 255). */
function probOf(rows: string[]): { prob: Uint8Array; w: number; h: number } {
  const w = rows[0]!.length;
  const h = rows.length;
  const prob = new Uint8Array(w * h);
  rows.forEach((r, y) => [...r].forEach((c, x) => (prob[y * w + x] = Math.round((Number(c) / 10) * 255))));
  return { prob, w, h };
}
const rowsOf = (m: Uint8Array, w: number) => Array.from({ length: m.length / w }, (_, y) => [...m.slice(y * w, (y + 1) * w)].join(''));

describe("the detector's mask rule (hysteresis)", () => {
  it('keeps only regions that reach the seed, with their connected rims over the grow threshold', () => {
    const { prob, w, h } = probOf([
      '0000000000',
      '0559550000', // a sure crack with its soft rim
      '0000000660', // fairly likely, never sure: real detail, left alone
      '0000000660',
      '5000000000', // a rim pixel touching nothing sure
    ]);
    const m = confidentMask(prob, w, h, 255, { seed: 0.85, grow: 0.5 });
    expect(rowsOf(m, w)).toEqual(['0000000000', '0111110000', '0000000000', '0000000000', '0000000000']);
    // A plain threshold (seed = grow) at 0.5 also marks the uncertain detail.
    const plain = confidentMask(prob, w, h, 255, { seed: 0.5, grow: 0.5 });
    expect(plain.reduce((a, b) => a + b, 0)).toBe(5 + 4 + 1);
  });

  it('grows through diagonal neighbours and never above the seed', () => {
    const { prob, w, h } = probOf(['900', '060', '006']);
    expect(rowsOf(confidentMask(prob, w, h, 255, { seed: 0.85, grow: 0.5 }), w)).toEqual(['100', '010', '001']);
    // A grow threshold above the seed is taken as the seed.
    expect(maskRuleOf({ threshold: 0.8, growThreshold: 0.95 })).toEqual({ seed: 0.8, grow: 0.8 });
    expect(maskRuleOf({})).toEqual({ seed: 0.5, grow: 0.5 });
  });
});

describe('repaired pixels take the colour around them', () => {
  it('a grayscale photo stays exactly neutral where the inpainter added colour; its luma is kept', () => {
    const w = 12;
    const h = 8;
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) rgb.fill(60 + (i % w) * 10, i * 3, i * 3 + 3);
    const mask = new Uint8Array(w * h);
    // An olive/yellow guess along a "crack".
    for (let x = 2; x < 10; x++) {
      const i = 4 * w + x;
      mask[i] = 1;
      rgb.set([170, 160, 90], i * 3);
    }
    takeSurroundingColour(rgb, w, h, 255, mask);
    for (let i = 0; i < w * h; i++) {
      if (!mask[i]) continue;
      const [r, g, b] = [rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!];
      expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThanOrEqual(1);
      expect(Math.abs(r - (0.299 * 170 + 0.587 * 160 + 0.114 * 90))).toBeLessThanOrEqual(1);
    }
    // Unmasked pixels are untouched.
    expect([rgb[0], rgb[1], rgb[2]]).toEqual([60, 60, 60]);
  });

  it('a sepia photo stays sepia, and a mask with no undamaged pixel near uses the whole photo', () => {
    const w = 40;
    const h = 20;
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) rgb.set([150, 120, 90], i * 3);
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < 30; x++) mask[y * w + x] = 1; // a huge torn area
    for (let i = 0; i < w * h; i++) if (mask[i]) rgb.set([120, 120, 120], i * 3);
    takeSurroundingColour(rgb, w, h, 255, mask);
    const i = 10 * w + 2;
    // Same luma as the grey guess, with the sepia tint of the rest.
    expect(rgb[i * 3]!).toBeGreaterThan(rgb[i * 3 + 2]! + 40);
    expect(Math.abs(0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]! - 120)).toBeLessThan(1.5);
  });
});
