import { describe, expect, it } from 'vitest';
import { keepInputColours } from '../../src/main/imaging/keepColours.js';
import { imresize } from '../../src/main/imaging/imresize.js';
import { synthImage, toUint8 } from '../helpers.js';

const luma = (p: Uint8Array, i: number) => 0.299 * p[i]! + 0.587 * p[i + 1]! + 0.114 * p[i + 2]!;
const chroma = (p: Uint8Array, i: number) => [-0.168736 * p[i]! - 0.331264 * p[i + 1]! + 0.5 * p[i + 2]!, 0.5 * p[i]! - 0.418688 * p[i + 1]! - 0.081312 * p[i + 2]!];

/** Mean Cb, Cr of an image. */
function meanChroma(p: Uint8Array): [number, number] {
  let b = 0;
  let r = 0;
  for (let i = 0; i < p.length; i += 3) {
    const [cb, cr] = chroma(p, i);
    b += cb!;
    r += cr!;
  }
  return [b / (p.length / 3), r / (p.length / 3)];
}

describe("keep the photo's colours", () => {
  const img = synthImage(40, 30, 3);
  const input = toUint8(img);
  const up = toUint8(imresize(img, 2));

  it('removes a colour cast the model added and keeps the luma', () => {
    // A "model" output: the bicubic x2 with a warm cast (+18 R, -12 B), kept inside 0..255.
    const cast = Uint8Array.from(up, (v, i) => Math.min(235, Math.max(20, v + (i % 3 === 0 ? 18 : i % 3 === 2 ? -12 : 0))));
    const before = meanChroma(cast);
    const out = Uint8Array.from(cast);
    keepInputColours(input, 40, 30, out, 2, 255);
    const want = meanChroma(input);
    const got = meanChroma(out);
    expect(Math.abs(before[1] - want[1])).toBeGreaterThan(8); // the cast is there before
    expect(Math.abs(got[0] - want[0])).toBeLessThan(1);
    expect(Math.abs(got[1] - want[1])).toBeLessThan(1);
    let maxLuma = 0;
    for (let i = 0; i < out.length; i += 3) maxLuma = Math.max(maxLuma, Math.abs(luma(out, i) - luma(cast, i)));
    expect(maxLuma).toBeLessThan(1.5); // rounding of three channels only
  });

  it('leaves an output whose colours already match (nearly) unchanged', () => {
    const out = Uint8Array.from(up);
    keepInputColours(input, 40, 30, out, 2, 255);
    let sum = 0;
    for (let i = 0; i < out.length; i++) sum += Math.abs(out[i]! - up[i]!);
    expect(sum / out.length).toBeLessThan(1.5);
  });

  it('works for 16-bit samples and a 1-pixel-wide image', () => {
    const one = Uint16Array.from([1000, 2000, 3000, 1000, 2000, 3000]);
    const out = Uint16Array.from([1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500]);
    keepInputColours(one, 1, 2, out, 2, 65535);
    // Blue above red, as in the input.
    expect(out[2]!).toBeGreaterThan(out[0]!);
  });
});
