/** A run's plain answer against its baselines, and the rule that keeps a worse model from being a default. */
import { describe, expect, it } from 'vitest';
import { losesToBaselines, runOutcome } from '../../src/shared/api.js';

describe('runOutcome', () => {
  it("says plainly when the new model is worse than bicubic (the issue's 22.28 vs 23.03 dB)", () => {
    const o = runOutcome(22.28, { bicubic: 23.03 });
    expect(o.beatsBicubic).toBe(false);
    expect(o.verdict).toBe('Worse than bicubic enlargement (23.03 dB) on its held-out photos: 22.28 dB. Not offered as a default; train longer, on more photos, or from a stronger model.');
  });

  it('names the start model when a fine-tune loses to it, and says nothing when both are beaten', () => {
    expect(runOutcome(25, { bicubic: 23, start: 25.5 })).toMatchObject({ beatsBicubic: true, beatsStart: false, verdict: expect.stringMatching(/^Worse than the model it started from \(25\.50 dB\)/) });
    expect(runOutcome(26, { bicubic: 23, start: 25.5 })).toEqual({ psnr: 26, beatsBicubic: true, beatsStart: true, verdict: '' });
    expect(runOutcome(26, {})).toEqual({ psnr: 26, verdict: '' });
  });

  it('reads a card: a model below its held-out baselines is not offered as a default', () => {
    expect(losesToBaselines({ metrics: { heldout: { psnr: 22.28, ssim: 0.6 }, 'heldout-bicubic': { psnr: 23.03, ssim: 0.62 } } })).toMatch(/^Worse than bicubic/);
    expect(losesToBaselines({ metrics: { heldout: { psnr: 24, ssim: 0.7 }, 'heldout-bicubic': { psnr: 23.03, ssim: 0.62 }, 'heldout-start': { psnr: 24.5, ssim: 0.71 } } })).toMatch(/^Worse than the model it started from/);
    expect(losesToBaselines({ metrics: { heldout: { psnr: 24, ssim: 0.7 }, 'heldout-bicubic': { psnr: 23.03, ssim: 0.62 } } })).toBeNull();
    // Bundled and imported models have no held-out score of their own: nothing to say.
    expect(losesToBaselines({ metrics: { set14: { psnr: 30, ssim: 0.9 } } })).toBeNull();
  });
});
