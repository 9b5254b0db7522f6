/**
 * `restora upscale --task`: the model the studio's task buttons run (the user's defaults
 * from Settings included), the restore task's repair step, the usage errors; and the
 * tone options (--highlights, --levels) of upscale and restore.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRgbFloat } from '../../src/main/imaging/decode.js';
import { crop } from '../../src/main/imaging/imresize.js';
import { clippedFraction } from '../../src/main/imaging/tone.js';
import { installTinyModel, ROOT, runCli, tmpDir, toUint8 } from '../helpers.js';

let home = '';
let work = '';
let photo = '';
let bright = '';

const restora = (args: string[]) => runCli(home, args, 180_000);
const pixels = async (file: string) => await sharp(file).raw().toBuffer({ resolveWithObject: true });

beforeAll(async () => {
  home = tmpDir('restora-home-');
  work = tmpDir('restora-task-');
  await installTinyModel(home, 'tiny-x2');
  const sample = await decodeRgbFloat(path.join(ROOT, 'resources', 'samples', 'coffee.png'));
  photo = path.join(work, 'photo.png');
  await sharp(Buffer.from(toUint8(crop(sample, 120, 60, 64, 48))), { raw: { width: 64, height: 48, channels: 3 } })
    .png()
    .toFile(photo);
  // A faded print with a bright cup: restora-oldphoto-x2 stretches it and clips 1.6 % of it (none in the input).
  const c = crop(sample, 300, 200, 96, 72);
  for (let i = 0; i < c.data.length; i++) c.data[i] = 40 + 0.8 * c.data[i]!;
  bright = path.join(work, 'bright.png');
  await sharp(Buffer.from(toUint8(c)), { raw: { width: 96, height: 72, channels: 3 } })
    .png()
    .toFile(bright);
}, 60_000);

describe('restora upscale --task', () => {
  it('refuses an unknown task, --task with --model, and a scale the task lacks, naming the choices (exit 2)', () => {
    const out = path.join(work, 'bad');
    for (const args of [
      ['--task', 'denoise'],
      ['--task', 'upscale', '--model', 'restora-x2'],
      ['--task', 'restore', '--scale', '4'],
      ['--task', 'cleanup', '--scale', '3'],
    ]) {
      const r = restora(['upscale', photo, '--out', out, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/restore \(x2\), upscale \(x2, x4\), cleanup \(x2, x4\)/);
    }
    expect(fs.existsSync(out)).toBe(false);
  });

  it("runs the task's bundled model, and the user's default from Settings once one is set", async () => {
    const a = restora(['upscale', photo, '--out', path.join(work, 'cleanup4'), '--task', 'cleanup', '--scale', '4']);
    expect(a.code, a.err).toBe(0);
    expect(a.err).toMatch(/Clean up noise\/JPEG x4: restora-clean-x4/);
    const m = await sharp(path.join(work, 'cleanup4', 'photo.png')).metadata();
    expect([m.width, m.height]).toEqual([256, 192]);
    // The studio saves defaults in settings.json (Models: "Make default for cleanup-x2").
    fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ defaults: { 'cleanup-x2': 'tiny-x2' } }));
    try {
      const b = restora(['upscale', photo, '--out', path.join(work, 'cleanup2'), '--task', 'cleanup']);
      expect(b.code, b.err).toBe(0);
      expect(b.err).toMatch(/Clean up noise\/JPEG x2: tiny-x2/);
      const c = restora(['upscale', photo, '--out', path.join(work, 'tiny'), '--model', 'tiny-x2']);
      expect(c.code, c.err).toBe(0);
      expect((await pixels(path.join(work, 'cleanup2', 'photo.png'))).data.equals((await pixels(path.join(work, 'tiny', 'photo.png'))).data)).toBe(true);
    } finally {
      fs.rmSync(path.join(home, 'settings.json'));
    }
  });

  it('--task restore runs what restora restore does by default (the repair step first)', async () => {
    const a = restora(['upscale', photo, '--out', path.join(work, 'task-restore'), '--task', 'restore', '--json']);
    expect(a.code, a.err).toBe(0);
    expect(a.err).toMatch(/Restore old photo: restora-oldphoto-x2/);
    expect(JSON.parse(a.out)[0].repairedPixels).toBeTypeOf('number');
    const b = restora(['restore', photo, '--out', path.join(work, 'restore')]);
    expect(b.code, b.err).toBe(0);
    expect((await pixels(path.join(work, 'task-restore', 'photo.png'))).data.equals((await pixels(path.join(work, 'restore', 'photo.png'))).data)).toBe(true);
  });
});

describe('tone options', () => {
  it('keeps the highlights of a restored bright print by default; --highlights model clips them', async () => {
    const input = await pixels(bright);
    const inClip = clippedFraction(input.data, 255);
    const keep = restora(['upscale', bright, '--out', path.join(work, 'keep'), '--model', 'restora-oldphoto-x2']);
    expect(keep.code, keep.err).toBe(0);
    const raw = restora(['upscale', bright, '--out', path.join(work, 'raw'), '--model', 'restora-oldphoto-x2', '--highlights', 'model']);
    expect(raw.code, raw.err).toBe(0);
    const rawClip = clippedFraction((await pixels(path.join(work, 'raw', 'bright.png'))).data, 255);
    // The case must overexpose without the guard, or the bound proves nothing.
    expect(rawClip).toBeGreaterThan(inClip + 0.005);
    expect(clippedFraction((await pixels(path.join(work, 'keep', 'bright.png'))).data, 255)).toBeLessThanOrEqual(inClip + 0.005);
  });

  it('--levels auto stretches a faded photo; bad values are usage errors', async () => {
    // `photo` squeezed into 70..200: a faded print.
    const faded = path.join(work, 'faded.png');
    const p = await pixels(photo);
    await sharp(Buffer.from(p.data.map((v) => 70 + Math.round((v * 130) / 255))), { raw: { width: p.info.width, height: p.info.height, channels: 3 } })
      .png()
      .toFile(faded);
    // A trained upscaler (tiny-x2 has random weights, whose overshoot made the plain range vary run to run).
    const up = restora(['upscale', faded, '--out', path.join(work, 'levels'), '--model', 'restora-x2', '--levels', 'auto']);
    expect(up.code, up.err).toBe(0);
    const plain = restora(['upscale', faded, '--out', path.join(work, 'plain'), '--model', 'restora-x2']);
    expect(plain.code, plain.err).toBe(0);
    const range = (d: Buffer) => {
      let lo = 255;
      let hi = 0;
      for (let i = 0; i < d.length; i++) [lo, hi] = [Math.min(lo, d[i]!), Math.max(hi, d[i]!)];
      return hi - lo;
    };
    expect(range((await pixels(path.join(work, 'levels', 'faded.png'))).data)).toBeGreaterThan(range((await pixels(path.join(work, 'plain', 'faded.png'))).data) + 40);
    for (const args of [
      ['--levels', 'max'],
      ['--highlights', 'clip'],
    ])
      expect(restora(['upscale', bright, '--out', path.join(work, 'x'), ...args]).code).toBe(2);
  });
});
