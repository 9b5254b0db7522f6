/**
 * The face step (issue 26, item 3): pixels beyond every face's crop footprint are not touched;
 * an unchanged face comes back unchanged; the restored face keeps the photo's tone; black and
 * white stays black and white; small faces are skipped and counted; faces are restored one at
 * a time; and it works at the output's scale.
 */
import { describe, expect, it } from 'vitest';
import type { DetectedFace } from '../../src/shared/api.js';
import { FFHQ_TEMPLATE_512, footprint, similarityFrom } from '../../src/main/ml/faces/align.js';
import { restoreFaces, type FaceRunner } from '../../src/main/ml/faces/faceStep.js';

const SIDE = 64;
const K = SIDE / 512;

/** A textured 8-bit photo (smooth gradients plus a checker), colour or grey. */
function photo(width: number, height: number, grey = false): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = 60 + ((x * 97 + y * 31) % 120) + (((x >> 2) + (y >> 2)) % 2) * 20;
      for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = grey ? base : Math.min(255, base + c * 25);
    }
  }
  return rgb;
}

/** A face whose five points are the template scaled by `size / 512` and moved to (x, y). */
function faceAt(x: number, y: number, size: number): DetectedFace {
  const s = size / 512;
  return { box: { x: x + 100 * s, y: y + 150 * s, width: 300 * s, height: 300 * s }, score: 0.99, points: FFHQ_TEMPLATE_512.map(([px, py]) => [x + px * s, y + py * s] as [number, number]) };
}

/** The output as a nearest-neighbour x`scale` copy of the input, so input and output agree. */
function enlarge(rgb: Uint8Array, width: number, height: number, scale: number): Uint8Array {
  const out = new Uint8Array(width * scale * height * scale * 3);
  for (let y = 0; y < height * scale; y++) for (let x = 0; x < width * scale; x++) for (let c = 0; c < 3; c++) out[(y * width * scale + x) * 3 + c] = rgb[(Math.floor(y / scale) * width + Math.floor(x / scale)) * 3 + c]!;
  return out;
}

const invert: FaceRunner = async (crop) => crop.map((v) => 1 - v);
const identity: FaceRunner = async (crop) => crop.slice();

function footprintMask(faces: DetectedFace[], scale: number, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  const template = FFHQ_TEMPLATE_512.map(([x, y]) => [x * K, y * K] as [number, number]);
  for (const f of faces) {
    const t = similarityFrom(f.points, template);
    const { x0, y0, x1, y1 } = footprint({ a: t.a / scale, b: t.b / scale, tx: t.tx, ty: t.ty }, SIDE, width, height);
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) mask[y * width + x] = 1;
  }
  return mask;
}

describe('face step', () => {
  it.each([1, 2])('at x%d: changes the faces and no pixel beyond their crops', async (scale) => {
    const [w, h] = [160, 120];
    const input = photo(w, h);
    const faces = [faceAt(10, 10, 60), faceAt(90, 40, 50)];
    const out = enlarge(input, w, h, scale);
    const before = out.slice();
    const r = await restoreFaces({ rgb: input, width: w, height: h }, { rgb: out, width: w * scale, height: h * scale }, scale, 255, faces, invert, { side: SIDE, strength: 1 });
    expect(r).toMatchObject({ found: 2, restored: 2, tooSmall: 0, misshapen: 0 });
    const inside = footprintMask(faces, scale, w * scale, h * scale);
    let changedInside = 0;
    for (let i = 0; i < inside.length; i++) {
      const moved = [0, 1, 2].some((c) => out[i * 3 + c] !== before[i * 3 + c]);
      if (!inside[i]) expect(moved, `pixel ${i % (w * scale)},${Math.floor(i / (w * scale))}`).toBe(false);
      else if (moved) changedInside++;
    }
    expect(changedInside).toBeGreaterThan(0.3 * inside.reduce((a, b) => a + b, 0));
  });

  it("brings an unchanged face back unchanged (no seam, no colour step) and keeps the photo's tone", async () => {
    const [w, h] = [120, 120];
    const input = photo(w, h);
    const faces = [faceAt(20, 20, 80)];
    const same = input.slice();
    await restoreFaces({ rgb: input, width: w, height: h }, { rgb: same, width: w, height: h }, 1, 255, faces, identity, { side: SIDE, strength: 1 });
    let diff = 0;
    for (let i = 0; i < same.length; i++) diff += Math.abs(same[i]! - input[i]!);
    // Resampling through a 64 px crop and back costs some sharpness, never a shift of tone.
    expect(diff / same.length).toBeLessThan(8);
    // A face model that brightens everything by a third: tone matching keeps the photo's brightness.
    const brighter: FaceRunner = async (crop) => crop.map((v) => v + 0.33);
    const lifted = input.slice();
    await restoreFaces({ rgb: input, width: w, height: h }, { rgb: lifted, width: w, height: h }, 1, 255, faces, brighter, { side: SIDE, strength: 1 });
    let shift = 0;
    for (let i = 0; i < lifted.length; i++) shift += lifted[i]! - input[i]!;
    expect(Math.abs(shift / lifted.length)).toBeLessThan(3);
  });

  it('keeps a black-and-white photo black and white; strength 0 changes nothing', async () => {
    const [w, h] = [100, 100];
    const input = photo(w, h, true);
    const faces = [faceAt(10, 10, 80)];
    const tinted: FaceRunner = async (crop) => crop.map((v, i) => (i % 3 === 0 ? v * 0.5 : 1 - v));
    const out = input.slice();
    await restoreFaces({ rgb: input, width: w, height: h }, { rgb: out, width: w, height: h }, 1, 255, faces, tinted, { side: SIDE, strength: 1 });
    for (let i = 0; i < w * h; i++) expect(out[i * 3]).toBe(out[i * 3 + 2]);
    expect(out.some((v, i) => v !== input[i])).toBe(true);
    const kept = input.slice();
    await restoreFaces({ rgb: input, width: w, height: h }, { rgb: kept, width: w, height: h }, 1, 255, faces, invert, { side: SIDE, strength: 0 });
    expect(Buffer.compare(kept, input)).toBe(0);
  });

  it('skips faces under 16 px and counts them; restores 30 faces one at a time', async () => {
    const [w, h] = [300, 200];
    const input = photo(w, h);
    const faces: DetectedFace[] = [];
    for (let i = 0; i < 30; i++) faces.push(faceAt((i % 6) * 50, Math.floor(i / 6) * 40, 40));
    faces.push(faceAt(5, 5, 20)); // a 12 px wide box
    let running = 0;
    let most = 0;
    const counting: FaceRunner = async (crop) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 1));
      running--;
      return crop.slice();
    };
    const r = await restoreFaces({ rgb: input, width: w, height: h }, { rgb: input.slice(), width: w, height: h }, 1, 255, faces, counting, { side: SIDE, strength: 0.5 });
    expect(r).toMatchObject({ found: 31, restored: 30, tooSmall: 1 });
    expect(r.boxes).toHaveLength(30);
    expect(most).toBe(1);
  });

  it('leaves alone a "face" whose five points do not form one (the detector\'s false face on a hand)', async () => {
    const [w, h] = [120, 120];
    const input = photo(w, h);
    const face = faceAt(20, 20, 80);
    // Eyes below the mouth, nose off to one side: no similarity brings these onto a face.
    const [le, re, nose, lm, rm] = face.points as [number, number][];
    const scrambled: DetectedFace = { ...face, points: [lm!, rm!, [nose![0] + 30, nose![1]], le!, re!] };
    const out = input.slice();
    const r = await restoreFaces({ rgb: input, width: w, height: h }, { rgb: out, width: w, height: h }, 1, 255, [scrambled, face], invert, { side: SIDE, strength: 1 });
    expect(r).toMatchObject({ found: 2, restored: 1, misshapen: 1 });
  });
});
