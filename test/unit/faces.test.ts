/**
 * Face detection (issue 26, item 1): boxes and five points from @vladmandic/face-api, on a
 * public-domain portrait (test/fixtures/faces), in colour, grayscale and sepia, as a face of
 * about 20 px in a small photo and in a big one, and nothing on a photo without a face.
 */
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend.js';
import { detectFaces } from '../../src/main/ml/faces/faceDetector.js';
import { ROOT } from '../helpers.js';

const FACE = path.join(ROOT, 'test', 'fixtures', 'faces', 'astronaut.jpg');

async function rgbOf(img: sharp.Sharp): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  // A grayscale photo stays one channel in sharp: the detector takes it as R = G = B.
  const rgb = info.channels === 3 ? new Uint8Array(data.buffer, data.byteOffset, data.length) : Uint8Array.from({ length: info.width * info.height * 3 }, (_, i) => data[Math.floor(i / 3)]!);
  return { rgb, width: info.width, height: info.height };
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', threads: 1 });
});

describe('face detection', () => {
  it("finds the portrait's face with its five points in place", async () => {
    const p = await rgbOf(sharp(FACE));
    const faces = await detectFaces(p.rgb, p.width, p.height);
    expect(faces).toHaveLength(1);
    const { box, points, score } = faces[0]!;
    expect(score).toBeGreaterThan(0.9);
    // The face is in the middle of this 256 px crop, about 90 px wide.
    expect(box.width).toBeGreaterThan(70);
    expect(box.width).toBeLessThan(130);
    const [le, re, nose, ml, mr] = points as [number, number][];
    for (const [x, y] of points) {
      expect(x).toBeGreaterThan(box.x);
      expect(x).toBeLessThan(box.x + box.width);
      expect(y).toBeGreaterThan(box.y);
      expect(y).toBeLessThan(box.y + box.height);
    }
    // Eyes side by side, the nose between and below them, the mouth's corners below the nose.
    expect(re![0] - le![0]).toBeGreaterThan(25);
    expect(Math.abs(re![1] - le![1])).toBeLessThan(10);
    expect(nose![0]).toBeGreaterThan(le![0]);
    expect(nose![0]).toBeLessThan(re![0]);
    expect(nose![1]).toBeGreaterThan(Math.max(le![1], re![1]));
    expect(Math.min(ml![1], mr![1])).toBeGreaterThan(nose![1]);
    expect(mr![0]).toBeGreaterThan(ml![0]);
  });

  it('finds it in grayscale and sepia too, in the same place', async () => {
    const colour = (await detectFaces(...(Object.values(await rgbOf(sharp(FACE))) as [Uint8Array, number, number])))[0]!;
    for (const img of [
      sharp(FACE).greyscale(),
      sharp(FACE).recomb([
        [0.393, 0.769, 0.189],
        [0.349, 0.686, 0.168],
        [0.272, 0.534, 0.131],
      ]),
    ]) {
      const p = await rgbOf(img);
      const faces = await detectFaces(p.rgb, p.width, p.height);
      expect(faces).toHaveLength(1);
      expect(Math.abs(faces[0]!.box.x - colour.box.x)).toBeLessThan(12);
      expect(Math.abs(faces[0]!.points[2]![1] - colour.points[2]![1])).toBeLessThan(8);
    }
  });

  it('finds a face of about 20 px, in a small photo and in a big one', async () => {
    const small = await rgbOf(sharp(FACE).resize(56, 56));
    const inSmall = await detectFaces(small.rgb, small.width, small.height);
    expect(inSmall).toHaveLength(1);
    expect(inSmall[0]!.box.width).toBeLessThan(30);
    // The same 20-odd pixel face at (1100, 700) in a 1600x1200 photo (the detector alone would shrink it away).
    const face = await sharp(FACE).resize(64, 64).png().toBuffer();
    const big = await rgbOf(
      sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#777777' } })
        .composite([{ input: face, left: 1100, top: 700 }])
        .png(),
    );
    const inBig = await detectFaces(big.rgb, big.width, big.height);
    expect(inBig).toHaveLength(1);
    expect(inBig[0]!.box.x).toBeGreaterThan(1100);
    expect(inBig[0]!.box.x + inBig[0]!.box.width).toBeLessThan(1164);
    expect(inBig[0]!.box.width).toBeLessThan(40);
  }, 60_000);

  it('finds no face in a photo without one', async () => {
    const p = await rgbOf(sharp(path.join(ROOT, 'resources', 'samples', 'coffee.png')));
    expect(await detectFaces(p.rgb, p.width, p.height)).toEqual([]);
  });
});
