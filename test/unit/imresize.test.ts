import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRgbFloat } from '../../src/main/imaging/decode.js';
import { axisWeights, imresize, modcrop } from '../../src/main/imaging/imresize.js';
import { measure } from '../../src/main/ml/eval/metrics.js';
import { HAVE_SET5, SET5_NAMES, SHARED_DATA, synthImage } from '../helpers.js';

describe('imresize (MATLAB-compatible bicubic)', () => {
  it('weights of every output sample sum to 1, taps cover the antialiased kernel', () => {
    for (const [n, m, s] of [
      [10, 20, 2],
      [20, 10, 0.5],
      [17, 5, 5 / 17],
    ] as const) {
      const w = axisWeights(n, m, s);
      expect(w.taps).toBe(s < 1 ? Math.ceil(4 / s) + 2 : 6);
      for (let i = 0; i < m; i++) {
        let sum = 0;
        for (let t = 0; t < w.taps; t++) sum += w.weights[i * w.taps + t]!;
        expect(sum).toBeCloseTo(1, 6);
      }
    }
  });

  it('keeps a constant image constant and sizes output as ceil(in * scale)', () => {
    const img = { width: 7, height: 5, channels: 3, data: new Float32Array(7 * 5 * 3).fill(77) };
    const up = imresize(img, 3);
    expect([up.width, up.height]).toEqual([21, 15]);
    for (const v of up.data) expect(v).toBeCloseTo(77, 4);
    const down = imresize(img, 1 / 3);
    expect([down.width, down.height]).toEqual([3, 2]);
  });

  it('x2 upscaling interpolates: samples at integer positions are not copies (pixel-centre aligned)', () => {
    const img = synthImage(16, 16);
    const up = imresize(img, 2);
    // Centre alignment: output (2i, 2i+1) straddle input i, so neither equals it exactly.
    expect(up.data[0]).not.toBe(img.data[0]);
  });

  describe.skipIf(!HAVE_SET5)('reproduces the standard Set5 bicubic data', () => {
    const set5 = path.join(SHARED_DATA, 'set5');
    for (const [scale, published] of [
      [2, 33.66],
      [4, 28.42],
    ] as const) {
      it(`bicubic x${scale} of the shipped LR scores ${published} +/- 0.03 dB`, async () => {
        let psnr = 0;
        for (let i = 0; i < 5; i++) {
          const hr = await decodeRgbFloat(path.join(set5, `${SET5_NAMES[i]}.png`));
          const lr = await decodeRgbFloat(path.join(set5, 'LR_bicubic', `X${scale}`, `img_00${i + 1}_SRF_${scale}_LR.png`));
          const up = imresize(lr, scale, { uint8: true });
          psnr += measure(up, modcrop(hr, scale), scale).psnr;
        }
        expect(Math.abs(psnr / 5 - published)).toBeLessThanOrEqual(0.03);
      });
    }
    for (const scale of [2, 3, 4]) {
      it(`downscaling the HR by ${scale} reproduces the shipped LR files (max abs diff <= 1)`, async () => {
        let maxDiff = 0;
        for (let i = 0; i < 5; i++) {
          const hr = modcrop(await decodeRgbFloat(path.join(set5, `${SET5_NAMES[i]}.png`)), scale);
          const lr = await decodeRgbFloat(path.join(set5, 'LR_bicubic', `X${scale}`, `img_00${i + 1}_SRF_${scale}_LR.png`));
          const down = imresize(hr, 1 / scale, { uint8: true });
          expect([down.width, down.height]).toEqual([lr.width, lr.height]);
          for (let k = 0; k < lr.data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(down.data[k]! - lr.data[k]!));
        }
        expect(maxDiff).toBeLessThanOrEqual(1);
      });
    }
  });
});
