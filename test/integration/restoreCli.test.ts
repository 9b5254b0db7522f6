/**
 * `restora restore`: detect -> inpaint -> restore on the bundled damage nets and
 * restora-oldphoto-x2, each step optional, with the bad masks the issue names.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { degradeDamaged } from '../../src/main/degrade/presets.js';
import { decodeRgbFloat } from '../../src/main/imaging/decode.js';
import { crop } from '../../src/main/imaging/imresize.js';
import { Rng } from '../../src/main/ml/core/rng.js';
import { ROOT, runCli, tmpDir } from '../helpers.js';

let home = '';
let work = '';
let photo = '';
let trueMask = '';
let damagedCount = 0;

const restora = (args: string[]) => runCli(home, args, 180_000);

async function writeMask(file: string, w: number, h: number, on: (i: number) => boolean): Promise<void> {
  await sharp(Buffer.from(Array.from({ length: w * h }, (_, i) => (on(i) ? 255 : 0))), { raw: { width: w, height: h, channels: 1 } })
    .png()
    .toFile(file);
}

beforeAll(async () => {
  home = tmpDir('restora-home-');
  work = tmpDir('restora-restore-');
  // A real photo (the bundled sample), aged and damaged with seeded defects: its true mask is known.
  const sample = await decodeRgbFloat(path.join(ROOT, 'resources', 'samples', 'coffee.png'));
  const d = await degradeDamaged(crop(sample, 100, 50, 256, 192), 1, new Rng(5));
  photo = path.join(work, 'old print.png');
  await sharp(Buffer.from(Uint8Array.from(d.img.data, (v) => Math.round(v))), { raw: { width: 256, height: 192, channels: 3 } })
    .png()
    .toFile(photo);
  trueMask = path.join(work, 'mask.png');
  await writeMask(trueMask, 256, 192, (i) => d.mask[i] === 1);
  damagedCount = d.mask.reduce((a, b) => a + b, 0);
}, 60_000);

describe('restora restore', () => {
  it('auto: finds the damage, fills it, restores x2, and saves the mask it used', async () => {
    const out = path.join(work, 'auto');
    const r = restora(['restore', photo, '--out', out, '--save-mask', '--json']);
    expect(r.code, r.err).toBe(0);
    const [item] = JSON.parse(r.out) as { output: string; repairedPixels: number }[];
    expect(item!.repairedPixels).toBeGreaterThan(0);
    expect(r.err).toMatch(/damaged pixels filled/);
    const m = await sharp(item!.output).metadata();
    expect([m.width, m.height]).toEqual([512, 384]);
    const mask = await sharp(path.join(out, 'old print-mask.png')).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect([mask.info.width, mask.info.height]).toEqual([256, 192]);
    expect(Array.from(mask.data).filter((v) => v > 127).length).toBe(item!.repairedPixels);
  });

  it("photos smaller than the nets' context (1x1, 3x2) are repaired and restored with what fits", async () => {
    const out = path.join(work, 'tiny');
    const one = path.join(work, 'one pixel.png');
    const small = path.join(work, 'three by two.png');
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#806040' } })
      .png()
      .toFile(one);
    await sharp({ create: { width: 3, height: 2, channels: 3, background: '#404040' } })
      .png()
      .toFile(small);
    const r = restora(['restore', one, small, '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    const items = JSON.parse(r.out) as { output: string }[];
    const sizes = await Promise.all(
      items.map(async (i) =>
        sharp(i.output)
          .metadata()
          .then((m) => [m.width, m.height]),
      ),
    );
    expect(sizes).toEqual([
      [2, 2],
      [6, 4],
    ]);
  });

  it('--model none with a mask: only the masked pixels change, at the photo size', async () => {
    const out = path.join(work, 'masked');
    const r = restora(['restore', photo, '--out', out, '--scratches', trueMask, '--model', 'none', '--json']);
    expect(r.code, r.err).toBe(0);
    const [item] = JSON.parse(r.out) as { output: string; repairedPixels: number }[];
    expect(item!.repairedPixels).toBe(damagedCount);
    const a = await sharp(photo).raw().toBuffer();
    const b = await sharp(item!.output).raw().toBuffer({ resolveWithObject: true });
    expect([b.info.width, b.info.height]).toEqual([256, 192]);
    const mask = await sharp(trueMask).greyscale().raw().toBuffer();
    let changedInside = 0;
    for (let i = 0; i < 256 * 192; i++) {
      const diff = Math.abs(a[i * 3]! - b.data[i * 3]!) + Math.abs(a[i * 3 + 1]! - b.data[i * 3 + 1]!) + Math.abs(a[i * 3 + 2]! - b.data[i * 3 + 2]!);
      if (mask[i]! > 127) changedInside += diff > 0 ? 1 : 0;
      else expect(diff).toBe(0);
    }
    expect(changedInside).toBeGreaterThan(damagedCount / 2);
  });

  it('--scratches off is the restore model alone; off with --model none is a usage error', () => {
    const out = path.join(work, 'off');
    const r = restora(['restore', photo, '--out', out, '--scratches', 'off', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)[0].repairedPixels).toBeUndefined();
    const u = restora(['restore', photo, '--out', out, '--scratches', 'off', '--model', 'none']);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/leaves nothing to do/);
  });

  it('the damage nets are steps of restore, not models to upscale with', () => {
    const r = restora(['upscale', photo, '--out', path.join(work, 'nope'), '--model', 'restora-inpaint']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/restora-inpaint is a step of the repair before restoring \(inpainting\), not a model to upscale with/);
  });

  it('bad masks: another size, empty, all white, a missing file; nothing is written for them', async () => {
    const small = path.join(work, 'small.png');
    await writeMask(small, 100, 100, (i) => i % 7 === 0);
    const empty = path.join(work, 'empty.png');
    await writeMask(empty, 256, 192, () => false);
    const white = path.join(work, 'white.png');
    await writeMask(white, 256, 192, () => true);
    for (const [mask, message] of [
      [small, /small\.png: the mask is 100x100, but .*old print\.png is 256x192/],
      [empty, /empty\.png: the mask is empty/],
      [white, /white\.png: the mask is white everywhere/],
    ] as const) {
      const out = path.join(work, `bad-${path.basename(mask, '.png')}`);
      const r = restora(['restore', photo, '--out', out, '--scratches', mask]);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(message);
      expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
    }
    const missing = restora(['restore', photo, '--out', path.join(work, 'x'), '--scratches', path.join(work, 'nope.png')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.png: no such mask file or folder/);
  });
});
