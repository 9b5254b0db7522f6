/**
 * The face pipeline's geometry (issue 26, item 3): the similarity onto the FFHQ template, the
 * aligned crop, and the paste-back: no seam (an unchanged face comes back unchanged), pixels
 * beyond the crop's footprint untouched, a black-and-white photo kept black and white.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRgbFloat } from '../../src/main/imaging/decode.js';
import type { FloatImage } from '../../src/main/imaging/imresize.js';
import { alignedCrop, applySimilarity, FACE_CROP, FFHQ_TEMPLATE_512, invertSimilarity, isGrey, pasteBack, similarityFrom } from '../../src/main/ml/faces/align.js';
import { initBackend } from '../../src/main/ml/backend.js';
import { detectFaces } from '../../src/main/ml/faces/faceDetector.js';
import { ROOT } from '../helpers.js';

const FACE = path.join(ROOT, 'test', 'fixtures', 'faces', 'astronaut.jpg');
let photo: FloatImage;
let points: [number, number][];

const toBytes = (img: FloatImage) => Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', threads: 1 });
  photo = await decodeRgbFloat(FACE);
  points = (await detectFaces(toBytes(photo), photo.width, photo.height))[0]!.points;
});

describe('face alignment and paste-back', () => {
  it('recovers a known similarity from five points, and inverts it', () => {
    const angle = 0.35;
    const s = 1.7;
    const truth = { a: s * Math.cos(angle), b: s * Math.sin(angle), tx: 40, ty: -12 };
    const src: [number, number][] = [
      [10, 20],
      [60, 22],
      [35, 50],
      [15, 70],
      [55, 71],
    ];
    const t = similarityFrom(
      src,
      src.map(([x, y]) => applySimilarity(truth, x, y)),
    );
    for (const k of ['a', 'b', 'tx', 'ty'] as const) expect(t[k]).toBeCloseTo(truth[k], 9);
    const [x, y] = applySimilarity(invertSimilarity(t), ...applySimilarity(t, 123, -45));
    expect(x).toBeCloseTo(123, 9);
    expect(y).toBeCloseTo(-45, 9);
  });

  it('cuts a 512x512 crop with the face where FFHQ puts it', async () => {
    const t = similarityFrom(points, FFHQ_TEMPLATE_512);
    const crop = alignedCrop(photo, t);
    expect([crop.width, crop.height]).toEqual([FACE_CROP, FACE_CROP]);
    // The detector finds the face again in the crop, its points near the template's.
    const again = await detectFaces(toBytes(crop), crop.width, crop.height);
    expect(again).toHaveLength(1);
    again[0]!.points.forEach(([x, y], i) => {
      const [tx, ty] = FFHQ_TEMPLATE_512[i]!;
      expect(Math.hypot(x - tx, y - ty)).toBeLessThan(20);
    });
  });

  it('pastes back without a seam: the face unchanged comes back as it was', () => {
    const t = similarityFrom(points, FFHQ_TEMPLATE_512);
    const out: FloatImage = { ...photo, data: Float32Array.from(photo.data) };
    pasteBack(out, alignedCrop(photo, t), t, 32);
    const diffs = Array.from(out.data, (v, i) => Math.abs(v - photo.data[i]!)).sort((a, b) => a - b);
    const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    // Only the crop's resampling (up about 3.5x here, then back, bilinear) differs, at the
    // sharpest edges (measured: mean 0.32, 99th percentile 4.0, max 31 levels at an edge):
    // no step along the mask's border, nothing visible elsewhere.
    expect(mean).toBeLessThan(1);
    expect(diffs[Math.floor(diffs.length * 0.99)]).toBeLessThan(8);
  });

  it("changes no pixel beyond the crop's footprint, and fills the inside with the restored face", () => {
    const t = similarityFrom(points, FFHQ_TEMPLATE_512);
    const restored: FloatImage = { width: FACE_CROP, height: FACE_CROP, channels: 3, data: new Float32Array(FACE_CROP * FACE_CROP * 3).fill(200) };
    const out: FloatImage = { ...photo, data: Float32Array.from(photo.data) };
    const feather = 40;
    const changed = pasteBack(out, restored, t, feather);
    expect(changed).toBeGreaterThan(1000);
    let outside = 0;
    let inside = 0;
    for (let y = 0; y < photo.height; y++) {
      for (let x = 0; x < photo.width; x++) {
        const [cx, cy] = applySimilarity(t, x + 0.5, y + 0.5);
        const edge = Math.min(cx, cy, FACE_CROP - cx, FACE_CROP - cy);
        const i = (y * photo.width + x) * 3;
        if (edge <= 0) {
          outside++;
          for (let c = 0; c < 3; c++) expect(out.data[i + c]).toBe(photo.data[i + c]);
        } else if (edge >= feather) {
          inside++;
          for (let c = 0; c < 3; c++) expect(out.data[i + c]).toBeCloseTo(200, 3);
        }
      }
    }
    expect(outside).toBeGreaterThan(1000);
    expect(inside).toBeGreaterThan(1000);
  });

  it('keeps a black-and-white photo black and white, and strength 0 changes nothing', () => {
    const grey: FloatImage = { ...photo, data: Float32Array.from(photo.data) };
    for (let i = 0; i < grey.width * grey.height; i++) {
      const l = 0.299 * grey.data[i * 3]! + 0.587 * grey.data[i * 3 + 1]! + 0.114 * grey.data[i * 3 + 2]!;
      grey.data.fill(l, i * 3, i * 3 + 3);
    }
    const t = similarityFrom(points, FFHQ_TEMPLATE_512);
    const tinted: FloatImage = { width: FACE_CROP, height: FACE_CROP, channels: 3, data: new Float32Array(FACE_CROP * FACE_CROP * 3) };
    for (let i = 0; i < FACE_CROP * FACE_CROP; i++) tinted.data.set([220, 150, 120], i * 3);
    const kept: FloatImage = { ...grey, data: Float32Array.from(grey.data) };
    pasteBack(kept, tinted, t, 32, 0);
    expect(kept.data).toEqual(grey.data);
    pasteBack(grey, tinted, t, 32);
    expect(isGrey(grey, 1e-3)).toBe(true);
  });
});
