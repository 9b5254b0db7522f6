import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { installTinyModel, ROOT, runCli, tmpDir } from '../helpers.js';

const CORPUS = path.join(ROOT, 'test', 'fixtures', 'bad-input');
const BROKEN = ['huge-header.png', 'random-bytes.png', 'text-file.png', 'truncated-jpeg.jpg', 'truncated-png.png', 'zero-bytes.png'];
let home = '';

const restora = (args: string[]) => runCli(home, args);

function listAll(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String);
}

beforeAll(async () => {
  home = tmpDir('restora-home-');
  await installTinyModel(home);
});

describe('restora upscale over the bad-input corpus', () => {
  let out = '';
  let run: ReturnType<typeof restora>;
  beforeAll(() => {
    out = tmpDir('restora-out-');
    run = restora(['upscale', CORPUS, '--out', out, '--model', 'tiny-x2']);
  });

  it('exits 1, and the summary names each broken file with its reason', () => {
    expect(run.code).toBe(1);
    expect(run.err).toContain('11 of 17 done, 6 failed');
    const summary = run.err.slice(run.err.lastIndexOf('11 of 17 done'));
    for (const f of BROKEN) expect(summary).toContain(f);
    expect(summary).toMatch(/huge-header\.png.*60000x60000/);
    expect(summary).toMatch(/zero-bytes\.png.*empty/);
    expect(summary).toMatch(/truncated-jpeg\.jpg.*\[CORRUPT_IMAGE\]/);
  });

  it('writes every good file once and leaves no partial or temp output', () => {
    const files = listAll(out).sort();
    const good = fs
      .readdirSync(CORPUS)
      .filter((f) => !BROKEN.includes(f))
      .map((f) => f.replace(/\.[^.]+$/, '.png'))
      .sort();
    expect(files).toEqual(good);
    expect(files.some((f) => f.startsWith('.') || f.endsWith('.part'))).toBe(false);
  });

  it('applies EXIF orientation, resets it, and keeps the rest of the EXIF', async () => {
    const m = await sharp(path.join(out, 'exif-rotated.png')).metadata();
    expect([m.width, m.height]).toEqual([32, 48]); // 24x16 rotated 90 degrees, x2
    expect(m.orientation ?? 1).toBe(1);
    expect(m.exif?.toString('latin1')).toContain('RestoraTestCam');
  });

  it('keeps 16-bit depth, alpha, the ICC profile and XMP', async () => {
    expect((await sharp(path.join(out, 'sixteen-bit.png')).metadata()).depth).toBe('ushort');
    const pa = await sharp(path.join(out, 'palette-alpha.png')).metadata();
    expect(pa.hasAlpha).toBe(true);
    const p3 = await sharp(path.join(out, 'display-p3.png')).metadata();
    expect(p3.icc?.length).toBeGreaterThan(0);
    expect(p3.xmp?.toString()).toContain('Restora Test');
  });

  it('handles CMYK, grayscale, 1x1, GIF and non-ASCII names', async () => {
    const cmyk = await sharp(path.join(out, 'cmyk.png')).metadata();
    expect(cmyk.space).toBe('srgb');
    expect((await sharp(path.join(out, 'one-pixel.png')).metadata()).width).toBe(2);
    expect((await sharp(path.join(out, 'animated-first-frame.png')).metadata()).width).toBe(48);
    expect((await sharp(path.join(out, 'grayscale.png')).metadata()).width).toBe(48);
    expect(fs.existsSync(path.join(out, 'ünïcødé 写真.png'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'name with spaces.png'))).toBe(true);
  });
});

describe('restora upscale formats, exit codes and safety', () => {
  it('encodes jpg/webp/tiff/avif with quality, and exits 0 when all succeed', async () => {
    const out = tmpDir();
    for (const format of ['jpg', 'webp', 'tiff', 'avif']) {
      const r = restora(['upscale', path.join(CORPUS, 'display-p3.jpg'), '--out', out, '--model', 'tiny-x2', '--format', format, '--quality', '80']);
      expect(r.code, r.err).toBe(0);
      const m = await sharp(path.join(out, `display-p3.${format}`)).metadata();
      expect([m.width, m.height]).toEqual([48, 32]);
    }
  });

  it('never overwrites an input', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'photo.png');
    fs.copyFileSync(path.join(CORPUS, 'name with spaces.png'), file);
    const before = fs.readFileSync(file);
    const r = restora(['upscale', file, '--out', dir, '--model', 'tiny-x2']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('WOULD_OVERWRITE_INPUT');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it.each([
    [[], 'no command'],
    [['upscale', 'x.png'], 'missing --out'],
    [['upscale', '--out', '/tmp/x'], 'no inputs'],
    [['upscale', 'x.png', '--out', '/tmp/x', '--format', 'bmp'], 'bad format'],
    [['upscale', 'x.png', '--out', '/tmp/x', '--model', 'nope'], 'unknown model'],
    [['upscale', 'x.png', '--out', '/tmp/x', '--quality', '500'], 'quality out of range'],
    [['frobnicate'], 'unknown command'],
    [['train', '--data', '/tmp', '--scale', '2', '--name', 'x', '--momentum', '0.9'], '--momentum without --optimizer sgd'],
    [['train', '--data', '/tmp', '--scale', '2', '--name', 'x', '--optimizer', 'sgd', '--momentum', '1.5'], 'momentum out of range'],
  ])('exits 2 on usage errors: %j (%s)', (args) => {
    expect(restora(args as string[]).code).toBe(2);
  });

  it('exits 2 with a usage message when --out names an existing file (upscale and batch)', () => {
    const file = path.join(tmpDir(), 'not-a-folder.png');
    fs.writeFileSync(file, 'x');
    for (const cmd of ['upscale', 'batch']) {
      const r = restora([cmd, path.join(CORPUS, 'zero-bytes.png'), '--out', file, '--model', 'tiny-x2']);
      expect(r.code, cmd).toBe(2);
      expect(r.err).toContain(`--out ${file} is a file`);
    }
  });

  it('models --json lists installed models with their cards', () => {
    const r = restora(['models', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as { card: { id: string } }[];
    expect(list.map((m) => m.card.id)).toContain('tiny-x2');
  });

  it('info reports the backend and versions', () => {
    const r = restora(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out) as { backend: { id: string; tfjsVersion: string }; sharp: string };
    expect(['gpu', 'node', 'wasm', 'cpu']).toContain(info.backend.id);
    expect(info.backend.tfjsVersion).toBe('4.22.0');
  });
});

describe('restora upscale and restore on a folder with subfolders (issue 25)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = tmpDir('restora-nested-');
    fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
    const png = (seed: number) => sharp({ create: { width: 12, height: 10, channels: 3, background: { r: seed * 40, g: 90, b: 200 - seed * 30 } } }).png();
    await png(1).toFile(path.join(dir, 'a.png'));
    await png(2).toFile(path.join(dir, 'b.png'));
    // The same name in a subfolder: mirrored, it must not collide with the top one.
    await png(3).toFile(path.join(dir, 'sub', 'a.png'));
    await png(4).toFile(path.join(dir, 'sub', 'deeper', 'c.png'));
  });

  it('without --recursive, says how many photos in subfolders were left out', () => {
    const out = tmpDir('restora-out-');
    const run = restora(['upscale', dir, '--out', out, '--model', 'tiny-x2']);
    expect(run.code).toBe(0);
    expect(run.err).toContain('2 of 2 done.');
    expect(run.err).toContain('2 photos in subfolders left out: add --recursive (-r) to include them');
    expect(listAll(out).sort()).toEqual(['a.png', 'b.png']);
  });

  it('with --recursive, takes them too, mirrored under --out', () => {
    const out = tmpDir('restora-out-');
    const run = restora(['upscale', dir, '--out', out, '--model', 'tiny-x2', '-r']);
    expect(run.code).toBe(0);
    expect(run.err).toContain('4 of 4 done.');
    expect(run.err).not.toContain('left out');
    expect(
      listAll(out)
        .filter((f) => f.endsWith('.png'))
        .sort(),
    ).toEqual(['a.png', 'b.png', path.join('sub', 'a.png'), path.join('sub', 'deeper', 'c.png')].sort());
  });
});

describe('restora faces (issue 26)', () => {
  it("lists each photo's faces with box, score and five points; a bad file fails alone, named", () => {
    const dir = tmpDir('restora-faces-');
    const bad = path.join(dir, 'notes ü.png');
    fs.writeFileSync(bad, 'not an image');
    const face = path.join(ROOT, 'test', 'fixtures', 'faces', 'astronaut.jpg');
    const none = path.join(ROOT, 'resources', 'samples', 'coffee.png');
    const run = restora(['faces', face, bad, none, '--json']);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.out) as { file: string; faces?: { box: { width: number }; score: number; points: number[][] }[]; error?: string }[];
    expect(out.map((o) => o.file)).toEqual([face, bad, none]);
    expect(out[0]!.faces).toHaveLength(1);
    expect(out[0]!.faces![0]!.points).toHaveLength(5);
    expect(out[0]!.faces![0]!.score).toBeGreaterThan(0.9);
    expect(out[1]!.error).toContain('notes ü.png');
    expect(run.err).toContain('notes ü.png');
    expect(out[2]!.faces).toEqual([]);
    const text = restora(['faces', face, none]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/astronaut\.jpg: 1 face\n {2}\d+x\d+ at \d+,\d+ {2}score [01]\.\d\d {2}eyes \d+,\d+ \d+,\d+ {2}nose \d+,\d+ {2}mouth \d+,\d+ \d+,\d+\n/);
    expect(text.out).toContain('coffee.png: no face');
    expect(restora(['faces']).code).toBe(2);
    expect(restora(['faces', face, '--min-score', '2']).err).toContain('--min-score must be a number between 0 and 1');
  });
});
