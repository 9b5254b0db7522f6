/**
 * The pure parts of scripts/eval-real-photos.ts (src/main/imaging/contactSheet.ts): the
 * "do no harm" numbers on tiny synthetic images and the contact sheet's layout and pixels.
 */
import fs from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { clippedFraction, composeSheet, differsFraction, enlargeMask, enlargeNearest, maskFraction, maskOverlay, meanAndMax, sheetLayout, type Rgb8 } from '../../src/main/imaging/contactSheet.js';

const img = (width: number, height: number, pixels: [number, number, number][]): Rgb8 => ({ width, height, data: Uint8Array.from(pixels.flat()) });
const solid = (width: number, height: number, rgb: [number, number, number]): Rgb8 =>
  img(
    width,
    height,
    Array.from({ length: width * height }, () => rgb),
  );

describe('evaluation metrics', () => {
  it('maskFraction counts marked pixels over all', () => {
    expect(maskFraction(Uint8Array.from([0, 1, 0, 1, 1, 0, 0, 0]))).toBe(3 / 8);
    expect(maskFraction(Uint8Array.from([0, 255]))).toBe(0.5);
    expect(maskFraction(new Uint8Array(0))).toBe(0);
  });

  it('differsFraction counts pixels with any channel more than 4 levels apart', () => {
    const a = img(2, 2, [
      [10, 10, 10],
      [20, 20, 20],
      [30, 30, 30],
      [40, 40, 40],
    ]);
    const b = img(2, 2, [
      [10, 10, 14],
      [20, 25, 20],
      [30, 30, 30],
      [36, 44, 40],
    ]);
    // Pixel 0: 4 apart (not counted); pixel 1: 5 apart in green; pixel 3: 4 apart in two channels.
    expect(differsFraction(a, b)).toBe(0.25);
    expect(differsFraction(a, b, 3)).toBe(0.75);
    expect(differsFraction(a, a)).toBe(0);
    expect(() => differsFraction(a, solid(1, 4, [0, 0, 0]))).toThrow(/2x2 against 1x4/);
  });

  it('clippedFraction uses BT.601 luma >= 250', () => {
    // luma: 250 (yes), 249 (no), 255*0.886+240*0.114 = 253.3 (yes), yellow 226 (no).
    const x = img(4, 1, [
      [250, 250, 250],
      [249, 249, 249],
      [255, 255, 240],
      [255, 255, 0],
    ]);
    expect(clippedFraction(x)).toBe(0.5);
    expect(clippedFraction(x, 254)).toBe(0);
    expect(clippedFraction(solid(3, 3, [255, 255, 255]))).toBe(1);
  });

  it('meanAndMax skips missing fields', () => {
    const { mean, max } = meanAndMax<'a' | 'b' | 'c'>([{ a: 1, b: 0.5 }, { a: 3 }, { a: 2, b: 1.5 }], ['a', 'b', 'c']);
    expect(mean).toEqual({ a: 2, b: 1, c: null });
    expect(max).toEqual({ a: 3, b: 1.5, c: null });
  });
});

describe('contact sheet panels', () => {
  it('enlargeNearest turns every pixel into a block', () => {
    const x = img(2, 1, [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const big = enlargeNearest(x, 2);
    expect([big.width, big.height]).toEqual([4, 2]);
    expect(Array.from(big.data)).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
    expect(() => enlargeNearest(x, 1.5)).toThrow(/factor/);
  });

  it('enlargeMask and maskOverlay paint only marked pixels red', () => {
    const m = enlargeMask(Uint8Array.from([1, 0]), 2, 1, 2);
    expect(Array.from(m)).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    const photo = solid(4, 2, [100, 100, 100]);
    const o = maskOverlay(photo, m, 0.75);
    expect(Array.from(o.data.subarray(0, 3))).toEqual([216, 25, 25]);
    expect(Array.from(o.data.subarray(6, 9))).toEqual([100, 100, 100]);
    expect(Array.from(photo.data.subarray(0, 3))).toEqual([100, 100, 100]); // the photo itself is untouched
    expect(() => maskOverlay(photo, new Uint8Array(3))).toThrow(/mask of 3 pixels/);
  });

  it('sheetLayout puts panels side by side, or one under the other for wide photos', () => {
    const row = sheetLayout(100, 80, 3, { gap: 8, labelHeight: 24 });
    expect(row.direction).toBe('row');
    expect([row.width, row.height]).toEqual([8 + 3 * 108, 8 + 24 + 80 + 8]);
    expect(row.panels).toEqual([
      { left: 8, top: 8 },
      { left: 116, top: 8 },
      { left: 224, top: 8 },
    ]);
    const col = sheetLayout(300, 100, 4, { gap: 8, labelHeight: 24 });
    expect(col.direction).toBe('column');
    expect([col.width, col.height]).toEqual([316, 8 + 4 * (124 + 8)]);
    expect(col.panels.map((p) => p.top)).toEqual([8, 140, 272, 404]);
    // Panels never overlap and stay on the sheet.
    for (const l of [row, col]) {
      const w = l === row ? 100 : 300;
      const h = (l === row ? 80 : 100) + l.labelHeight;
      l.panels.forEach((p, i) => {
        expect(p.left + w).toBeLessThanOrEqual(l.width);
        expect(p.top + h).toBeLessThanOrEqual(l.height);
        const next = l.panels[i + 1];
        if (next) expect(l.direction === 'row' ? next.left >= p.left + w : next.top >= p.top + h).toBe(true);
      });
    }
    expect(() => sheetLayout(0, 10, 1)).toThrow();
  });

  it('composeSheet places each panel at full resolution under its label', async () => {
    const colours: [number, number, number][] = [
      [200, 0, 0],
      [0, 200, 0],
      [0, 0, 200],
    ];
    const panels = colours.map((c, i) => ({ image: solid(40, 30, c), label: `panel ${i} & <co>` }));
    // One distinct pixel in the third panel, to check the exact placement.
    panels[2]!.image.data.set([255, 255, 0], (5 * 40 + 7) * 3);
    const { png, layout } = await composeSheet(panels, { gap: 6, labelHeight: 20 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([layout.width, layout.height]);
    expect([layout.width, layout.height]).toEqual([6 + 3 * 46, 6 + 20 + 30 + 6]);
    const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    layout.panels.forEach((p, i) => {
      expect(at(p.left, p.top + 20)).toEqual(colours[i]);
      expect(at(p.left + 39, p.top + 20 + 29)).toEqual(colours[i]);
    });
    expect(at(layout.panels[2]!.left + 7, layout.panels[2]!.top + 20 + 5)).toEqual([255, 255, 0]);
    expect(at(0, 0)).toEqual([242, 242, 242]);
    if (fs.existsSync('/usr/share/fonts')) {
      // The label is drawn (fonts permitting): dark pixels in the strip above the first panel.
      let dark = 0;
      for (let y = layout.panels[0]!.top; y < layout.panels[0]!.top + 20; y++) for (let x = 6; x < 46; x++) if (at(x, y)[0]! < 128) dark++;
      expect(dark).toBeGreaterThan(5);
    }
    await expect(composeSheet([panels[0]!, { image: solid(10, 10, [0, 0, 0]), label: 'small' }])).rejects.toThrow(/10x10/);
  });
});
