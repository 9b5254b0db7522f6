import { describe, expect, it } from 'vitest';
import { addDefects, addSceneStructures, randomDefects, type DefectCounts } from '../../src/main/degrade/defects.js';
import { degradeDamaged } from '../../src/main/degrade/presets.js';
import type { FloatImage } from '../../src/main/imaging/imresize.js';
import { Rng } from '../../src/main/ml/core/rng.js';
import { synthImage } from '../helpers.js';

const W = 128;
const H = 96;
const flatGrey = (): FloatImage => ({ width: W, height: H, channels: 3, data: new Float32Array(W * H * 3).fill(128) });
const maskFraction = (m: Uint8Array) => m.reduce((a, b) => a + b, 0) / m.length;

// Each kind: counts, the range of the share of pixels it damages, the least mean change inside its mask on flat grey.
const KINDS: Array<[string, DefectCounts, [number, number], number]> = [
  ['scratches', { scratches: 3 }, [0.002, 0.12], 20],
  ['creases', { creases: 1 }, [0.005, 0.1], 20],
  ['dust', { dust: 20 }, [0.001, 0.05], 20],
  ['torn corner', { tornCorners: 1 }, [0.003, 0.1], 20],
  ['crack networks', { cracks: 2 }, [0.005, 0.3], 15],
  ['foxing', { foxing: 3 }, [0.002, 0.1], 10],
];

describe('synthetic defects of old prints, with their masks', () => {
  it.each(KINDS)('%s: seeded, in range, masked where they changed the photo and only there', (_name, counts, [lo, hi], minDelta) => {
    const src = synthImage(W, H, 3);
    const a = addDefects(src, new Rng(7), counts);
    const b = addDefects(src, new Rng(7), counts);
    const c = addDefects(src, new Rng(8), counts);
    expect(a.img.data).toEqual(b.img.data);
    expect(a.mask).toEqual(b.mask);
    expect(a.mask).not.toEqual(c.mask);
    expect(a.img.data.every((v) => Number.isFinite(v) && v >= 0 && v <= 255)).toBe(true);
    expect(a.mask.length).toBe(W * H);
    expect(maskFraction(a.mask)).toBeGreaterThan(lo);
    expect(maskFraction(a.mask)).toBeLessThan(hi);
    // The input is not touched.
    expect(src.data).toEqual(synthImage(W, H, 3).data);

    // On flat grey every defect (bright or dark, never mid-grey) shows: inside the mask the
    // pixels moved, outside it at most a soft edge's trace (coverage under 0.1).
    const g = addDefects(flatGrey(), new Rng(7), counts);
    let inside = 0;
    let insideDelta = 0;
    for (let p = 0; p < W * H; p++) {
      const d = Math.max(...[0, 1, 2].map((k) => Math.abs(g.img.data[p * 3 + k]! - 128)));
      if (g.mask[p]) {
        inside++;
        insideDelta += d;
      } else expect(d, `pixel ${p} outside the mask`).toBeLessThanOrEqual(0.1 * 128 + 1e-3);
    }
    expect(inside).toBeGreaterThan(0);
    expect(insideDelta / inside).toBeGreaterThan(minDelta);
  });

  it('no defects asked: the same photo and an empty mask; a random mix is seeded too', () => {
    const src = synthImage(W, H, 5);
    const none = addDefects(src, new Rng(1), {});
    expect(none.img.data).toEqual(src.data);
    expect(maskFraction(none.mask)).toBe(0);
    const r1 = randomDefects(src, new Rng(11));
    const r2 = randomDefects(src, new Rng(11));
    expect(r1.mask).toEqual(r2.mask);
    expect(r1.img.data).toEqual(r2.img.data);
  });
});

describe("real thin structures (the detector's hard negatives)", () => {
  it('are drawn into the picture, seeded, and vary with the seed', () => {
    const src = synthImage(W, H, 4);
    const a = addSceneStructures(src, new Rng(3));
    const b = addSceneStructures(src, new Rng(3));
    expect(a.data).toEqual(b.data);
    expect(src.data).toEqual(synthImage(W, H, 4).data);
    let changedKinds = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const s = addSceneStructures(src, new Rng(seed));
      expect(s.data.every((v) => Number.isFinite(v) && v >= 0 && v <= 255)).toBe(true);
      let changed = 0;
      for (let i = 0; i < s.data.length; i++) if (Math.abs(s.data[i]! - src.data[i]!) > 8) changed++;
      if (changed > 0) changedKinds++;
    }
    // Every seed draws something (a wire may leave the frame on a rare draw).
    expect(changedKinds).toBeGreaterThanOrEqual(18);
  });
});

describe('damaged training pairs', () => {
  it('an old-photo LR with defects and a mask of its size, the same for the same seed', async () => {
    const hr = synthImage(128, 96, 9);
    const a = await degradeDamaged(hr, 2, new Rng(21));
    const b = await degradeDamaged(hr, 2, new Rng(21));
    expect([a.img.width, a.img.height]).toEqual([64, 48]);
    expect(a.mask.length).toBe(64 * 48);
    expect(a.img.data).toEqual(b.img.data);
    expect(a.mask).toEqual(b.mask);
    expect(a.img.data.every((v) => v >= 0 && v <= 255)).toBe(true);
  });
});
