import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend.js';
import { buildArch } from '../../src/main/ml/archs/index.js';
import { DEFAULT_TRAINER_CONFIG, Trainer, type TrainerConfig } from '../../src/main/ml/train/trainer.js';
import { predictImage } from '../../src/main/ml/infer/predict.js';
import { damagedBatch, damagedPairs, damagedSource } from '../../src/main/ml/train/damageData.js';
import { bceDiceLoss, bestThreshold, maskOverlap, maskedPixelLoss, withMask } from '../../src/main/ml/learning/tasks.js';
import { decodeRgbFloat } from '../../src/main/imaging/decode.js';
import { crop } from '../../src/main/imaging/imresize.js';
import { detectDamage, inpaintDamage, takeSurroundingColour } from '../../src/main/ml/infer/damage.js';
import { readMask } from '../../src/main/imaging/masks.js';
import { synthImage, tmpDir } from '../helpers.js';

const photos = [synthImage(160, 128, 1), synthImage(128, 160, 2), synthImage(144, 144, 3)];

describe('damage nets', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('damaged batches: seeded, in range, the mask marks where the damaged patch differs from the one before the defects', async () => {
    const a = await damagedBatch(photos, 7, 3, 32, 64);
    const b = await damagedBatch(photos, 7, 3, 32, 64);
    expect(Array.from(a.lr)).toEqual(Array.from(b.lr));
    expect(Array.from(a.mask!)).toEqual(Array.from(b.mask!));
    expect(a.scale).toBe(1);
    for (const v of [...a.lr, ...a.hr]) expect(v >= 0 && v <= 1).toBe(true);
    let inside = 0;
    let outside = 0;
    let nIn = 0;
    for (let i = 0; i < a.mask!.length; i++) {
      const d = Math.abs(a.lr[i * 3]! - a.hr[i * 3]!) + Math.abs(a.lr[i * 3 + 1]! - a.hr[i * 3 + 1]!) + Math.abs(a.lr[i * 3 + 2]! - a.hr[i * 3 + 2]!);
      if (a.mask![i]) {
        inside += d;
        nIn++;
      } else outside = Math.max(outside, d);
    }
    expect(nIn).toBeGreaterThan(0);
    expect(inside / nIn).toBeGreaterThan(0.05);
    // Off the mask only the faint trace of a soft edge (under 10 % coverage) remains.
    expect(outside).toBeLessThan(0.35);
  });

  it('the mask head gives one channel in [0, 1]; the inpaint head passes unmasked pixels through exactly', () => {
    const det = buildArch('unet', 1, { head: 'mask', channels: 8, midBlocks: 1 });
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const p = det.predict(x) as tf.Tensor;
    expect(p.shape).toEqual([1, 16, 16, 1]);
    const pv = p.dataSync();
    expect(Math.min(...pv)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...pv)).toBeLessThanOrEqual(1);
    const inp = buildArch('unet', 1, { head: 'inpaint', channels: 8, midBlocks: 1 });
    const mask = tf.tensor4d(
      Float32Array.from({ length: 256 }, (_, i) => (i % 16 === 5 ? 1 : 0)),
      [1, 16, 16, 1],
    );
    const y = inp.predict(tf.concat([x, mask], 3)) as tf.Tensor;
    const yv = y.dataSync();
    const xv = x.dataSync();
    let changed = 0;
    for (let i = 0; i < 256; i++) {
      for (let c = 0; c < 3; c++) {
        if (i % 16 === 5) changed += Math.abs(yv[i * 3 + c]! - xv[i * 3 + c]!);
        else expect(yv[i * 3 + c]).toBe(xv[i * 3 + c]);
      }
    }
    expect(changed).toBeGreaterThan(0);
    expect(() => buildArch('unet', 2, { head: 'mask' })).toThrow(/scale 1/);
    tf.dispose([x, p, mask, y]);
    det.dispose();
    inp.dispose();
  });

  it('losses: BCE + Dice is lowest for the true mask; the inpainting loss counts masked pixels only', () => {
    const t = tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0], [1, 2, 4, 1]);
    const perfect = bceDiceLoss(tf.clipByValue(t, 0.01, 0.99), t).dataSync()[0]!;
    const blank = bceDiceLoss(tf.fill([1, 2, 4, 1], 0.01), t).dataSync()[0]!;
    const all = bceDiceLoss(tf.fill([1, 2, 4, 1], 0.99), t).dataSync()[0]!;
    expect(perfect).toBeLessThan(blank);
    expect(perfect).toBeLessThan(all);
    const pred = tf.tensor4d([0.5, 0.5, 0.5, 0, 0, 0], [1, 1, 2, 3]);
    const target = tf.tensor4d([0, 0, 0, 1, 1, 1], [1, 1, 2, 3]);
    // Only the first pixel is masked: its error is 0.5 per channel; the second's (1.0) is not counted.
    expect(maskedPixelLoss('l1', pred, target, tf.tensor4d([1, 0], [1, 1, 2, 1])).dataSync()[0]).toBeCloseTo(0.5, 5);
  });

  it('a detection net trained 100 steps beats a blank mask and an all-damaged mask on IoU', async () => {
    // Real photo content (the bundled sample, 600x400): defects must stand out from texture, which stripes of a synthetic image would mimic.
    const sample = await decodeRgbFloat(path.join('resources', 'samples', 'coffee.png'));
    const train = [crop(sample, 0, 0, 160, 160), crop(sample, 220, 120, 160, 160), crop(sample, 440, 240, 160, 160)];
    const held = [crop(sample, 440, 0, 160, 160), crop(sample, 0, 240, 160, 160)];
    const config: TrainerConfig = {
      ...DEFAULT_TRAINER_CONFIG,
      arch: 'unet',
      archOptions: { head: 'mask', channels: 8, midBlocks: 1 },
      scale: 1,
      steps: 100,
      batch: 4,
      patch: 32,
      lr: 3e-3,
      warmupSteps: 5,
      validateEvery: 100,
      checkpointEvery: 100,
    };
    const val = await damagedPairs(
      held.map((img, i) => ({ name: `v${i}`, img })),
      3,
    );
    const t = await Trainer.open(config, damagedSource(train, 64), val, tmpDir());
    const h = await t.run();
    const iou = h.at(-1)!.valIou!;
    expect(iou).toBeCloseTo(bestThreshold(val.map((p) => ({ prob: predictImage(t.model, p.lr), mask: p.mask! }))).iou, 10);
    let marked = 0;
    let pixels = 0;
    let blank = 0;
    for (const p of val) {
      marked += p.mask!.reduce((a, b) => a + b, 0);
      pixels += p.mask!.length;
      const o = maskOverlap({ width: p.lr.width, height: p.lr.height, channels: 1, data: new Float32Array(p.mask!.length) }, p.mask!);
      blank += o.intersection;
    }
    expect(blank).toBe(0); // a blank mask's IoU is 0
    const allDamaged = marked / pixels; // IoU of marking every pixel
    expect(iou).toBeGreaterThan(allDamaged + 0.05);
    expect(iou).toBeGreaterThan(0.15);
    t.dispose();
  });

  it('tiled detection and inpainting equal the whole-image result; inpainting changes only masked pixels', async () => {
    const det = buildArch('unet', 1, { head: 'mask', channels: 8, midBlocks: 1 });
    const inp = buildArch('unet', 1, { head: 'inpaint', channels: 8, midBlocks: 1 });
    const card = (o: object) => ({ arch: 'unet', scale: 1, archOptions: { channels: 8, midBlocks: 1, ...o } });
    const img = synthImage(72, 56, 4);
    const rgb = Uint8Array.from(img.data, (v) => Math.round(v));
    const whole = await detectDamage({ model: det, card: card({ head: 'mask' }) }, rgb, 72, 56, 255, 1024);
    const tiled = await detectDamage({ model: det, card: card({ head: 'mask' }) }, rgb, 72, 56, 255, 32);
    expect(Array.from(tiled)).toEqual(Array.from(whole));
    const mask = new Uint8Array(72 * 56);
    for (let i = 0; i < mask.length; i += 13) mask[i] = 1;
    const a = await inpaintDamage({ model: inp, card: card({ head: 'inpaint' }) }, rgb, 72, 56, 255, mask, 1024);
    const b = await inpaintDamage({ model: inp, card: card({ head: 'inpaint' }) }, rgb, 72, 56, 255, mask, 32);
    expect(Array.from(b)).toEqual(Array.from(a));
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) for (let c = 0; c < 3; c++) expect(a[i * 3 + c]).toBe(rgb[i * 3 + c]);
    }
    // And whole-image inference agrees with the tiled pipeline (whose repaired pixels then take the surrounding colour).
    const direct = predictImage(inp, withMask({ ...img, data: Float32Array.from(rgb) }, mask));
    const direct8 = Uint8Array.from(direct.data);
    takeSurroundingColour(direct8, 72, 56, 255, mask);
    expect(Math.max(...Array.from(direct8, (v, i) => Math.abs(v - a[i]!)))).toBeLessThanOrEqual(1);
    det.dispose();
    inp.dispose();
  });

  it("a user's mask: read as white = damaged; another size, empty, all white or not an image are refused naming the file", async () => {
    const dir = tmpDir();
    const write = async (name: string, w: number, h: number, fill: (i: number) => number) => {
      const f = path.join(dir, name);
      await sharp(Buffer.from(Array.from({ length: w * h }, (_, i) => fill(i))), { raw: { width: w, height: h, channels: 1 } })
        .png()
        .toFile(f);
      return f;
    };
    const good = await write('mäske.png', 8, 6, (i) => (i % 5 === 0 ? 255 : 0));
    const m = await readMask(good, 8, 6, 'photo.png');
    expect(m.reduce((a, b) => a + b, 0)).toBe(10);
    await expect(readMask(good, 9, 6, 'photo.png')).rejects.toThrow(/mäske\.png: the mask is 8x6, but photo\.png is 9x6/);
    await expect(readMask(await write('empty.png', 8, 6, () => 0), 8, 6, 'p')).rejects.toThrow(/empty\.png: the mask is empty/);
    await expect(readMask(await write('white.png', 8, 6, () => 255), 8, 6, 'p')).rejects.toThrow(/white\.png: the mask is white everywhere/);
    const junk = path.join(dir, 'junk.png');
    fs.writeFileSync(junk, 'not a png');
    await expect(readMask(junk, 8, 6, 'p')).rejects.toThrow(/junk\.png: cannot read the mask/);
    expect(() => withMask({ width: 2, height: 2, channels: 3, data: new Float32Array(12) }, new Uint8Array(3))).toThrow(/mask has 3 pixels; the photo has 2x2/);
  });
});
