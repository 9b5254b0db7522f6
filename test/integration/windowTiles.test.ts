/**
 * A transformer whose attention windows a tile cannot honour (issue 27, bad input): the tile
 * is adjusted to whole windows, the photo comes out whole, and the user is told, in
 * `restora upscale` (per photo) and `restora batch` (once per job).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tmpDir } from '../helpers.js';

let home = '';
let work = '';
let photo = '';
const restora = (args: string[]) => runCli(home, args, 240_000);

beforeAll(async () => {
  home = tmpDir('restora-home-');
  work = tmpDir('restora-window-tiles-');
  // A tiny classical SwinIR x2 (window 4), seeded random weights (scripts/make-swinir-fixtures.py).
  const r = restora(['models', 'import', path.join(ROOT, 'test', 'fixtures', 'swinir', 'swinir-classical-x2.pth'), '--name', 'swin-tiny', '--license', 'test fixture: seeded random weights']);
  expect(r.code, r.err).toBe(0);
  photo = path.join(work, 'photo.png');
  await sharp({ create: { width: 70, height: 45, channels: 3, background: '#5a7890', noise: { type: 'gaussian', mean: 120, sigma: 30 } } })
    .png()
    .toFile(photo);
}, 240_000);

describe('tiles on a windowed transformer', () => {
  it('restora upscale runs whole windows and says the tile it used', async () => {
    const r = restora(['upscale', photo, '--out', path.join(work, 'up'), '--model', 'swin-tiny', '--tile', '34']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('in 32 px tiles, not 34: the model takes tiles in whole multiples of 4 px');
    const m = await sharp(path.join(work, 'up', 'photo.png')).metadata();
    expect([m.width, m.height]).toEqual([140, 90]);
  });

  it('a tile the windows divide is used as asked, without a note', () => {
    const r = restora(['upscale', photo, '--out', path.join(work, 'up32'), '--model', 'swin-tiny', '--tile', '32']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain('px tiles, not');
  });

  it('restora batch says it once for the job', () => {
    const dir = path.join(work, 'many');
    fs.mkdirSync(dir);
    for (const n of ['a', 'b']) fs.copyFileSync(photo, path.join(dir, `${n}.png`));
    const r = restora(['batch', dir, '--out', path.join(work, 'batch'), '--model', 'swin-tiny', '--tile', '50']);
    expect(r.code, r.err).toBe(0);
    expect(r.err.split('Items run in 48 px tiles, not 50').length - 1).toBe(1);
    expect(fs.readdirSync(path.join(work, 'batch')).sort()).toEqual(['a.png', 'b.png']);
  });
});
