import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { openDatabase } from '../../src/main/db/database.js';
import { Library } from '../../src/main/library/library.js';
import { ROOT, tmpDir } from '../helpers.js';

let lib: Library;
let tree = '';

beforeAll(async () => {
  const home = tmpDir();
  lib = new Library(openDatabase(path.join(home, 'r.db')), path.join(home, 'thumbs'));
  tree = tmpDir('restora-tree-');
  fs.mkdirSync(path.join(tree, '1998', 'summer'), { recursive: true });
  fs.mkdirSync(path.join(tree, 'raw'), { recursive: true });
  const mk = (w: number, h: number, c: string) => sharp({ create: { width: w, height: h, channels: 3, background: c } });
  await mk(40, 30, '#102030')
    .png()
    .toFile(path.join(tree, '1998', 'beach.png'));
  await mk(50, 20, '#aa2030')
    .jpeg()
    .toFile(path.join(tree, '1998', 'summer', 'ünïcødé dog.jpg'));
  fs.copyFileSync(path.join(tree, '1998', 'beach.png'), path.join(tree, 'raw', 'beach-copy.png')); // duplicate content
  await mk(10, 10, '#000000')
    .png()
    .toFile(path.join(tree, 'raw', 'skip-me.png'));
  fs.writeFileSync(path.join(tree, 'raw', 'broken.png'), 'not an image');
  fs.symlinkSync(tree, path.join(tree, 'raw', 'loop')); // symlink loop
});

describe('library', () => {
  it('imports a tree recursively: dedupes by content, honours excludes, survives loops, reports bad files', async () => {
    const p = lib.createProject('Family scans');
    expect(lib.createProject('Family scans')).toBe(p);
    const r = await lib.importPaths(p, [tree], { exclude: ['**/skip-*'] });
    expect(r.added).toBe(2);
    expect(r.duplicates).toBe(1);
    expect(r.skipped).toBe(1);
    expect(r.failed.map((f) => path.basename(f.path))).toEqual(['broken.png']);
    expect(r.failed[0]!.message).toContain('broken.png');
    expect(lib.listProjects()).toEqual([{ id: p, name: 'Family scans', images: 2 }]);
  });

  it('lists with sort, filter, search and paging', async () => {
    const p = lib.createProject('Family scans');
    const all = lib.list(p, { sort: 'pixels', descending: true });
    expect(all.total).toBe(2);
    expect(all.rows.map((r) => r.width)).toEqual([40, 50]); // 1200 px > 1000 px
    expect(lib.list(p, { format: 'jpeg' }).rows.map((r) => path.basename(r.path))).toEqual(['ünïcødé dog.jpg']);
    expect(lib.list(p, { search: 'DOG' }).total).toBe(1);
    expect(lib.list(p, { search: '%' }).total).toBe(0);
    const page = lib.list(p, { limit: 1, offset: 1 });
    expect(page.total).toBe(2);
    expect(page.rows).toHaveLength(1);
  });

  it('sorts by the file name, not its folder (uploads live in uploads/<hash>/name), ignoring case', async () => {
    const dir = tmpDir('restora-names-');
    const mk = (c: string) => sharp({ create: { width: 8, height: 8, channels: 3, background: c } }).png();
    for (const [folder, name, c] of [
      ['0f3a', 'zebra.png', '#010203'],
      ['ff01', 'Apple.png', '#040506'],
      ['a7c2', 'mango.png', '#070809'],
    ] as const) {
      fs.mkdirSync(path.join(dir, folder));
      await mk(c).toFile(path.join(dir, folder, name));
    }
    const p = lib.createProject('Uploads-like');
    await lib.importPaths(p, [dir]);
    expect(lib.list(p, { sort: 'name' }).rows.map((r) => path.basename(r.path))).toEqual(['Apple.png', 'mango.png', 'zebra.png']);
    expect(lib.list(p, { sort: 'name', descending: true }).rows.map((r) => path.basename(r.path))).toEqual(['zebra.png', 'mango.png', 'Apple.png']);
  });

  it('records status and history, and caches thumbnails', async () => {
    const p = lib.createProject('Family scans');
    const img = lib.list(p).rows[0]!;
    lib.setStatus(img.id, 'restored', { action: 'upscale', modelId: 'restora-x2', settings: { scale: 2 }, output: '/out/beach.png' });
    expect(lib.list(p, { status: 'restored' }).rows.map((r) => r.id)).toEqual([img.id]);
    expect(lib.history(img.id)).toMatchObject([{ action: 'upscale', modelId: 'restora-x2', settings: { scale: 2 } }]);
    const t = await lib.thumbnail(img.id);
    expect((await sharp(t).metadata()).format).toBe('webp');
    const mtime = fs.statSync(t).mtimeMs;
    expect(await lib.thumbnail(img.id)).toBe(t);
    expect(fs.statSync(t).mtimeMs).toBe(mtime);
  });

  it('answers 80 concurrent first-time thumbnail requests, also beside a second library on the same store', async () => {
    const home = tmpDir();
    const dir = tmpDir();
    for (let i = 0; i < 8; i++) {
      await sharp({ create: { width: 300 + i, height: 200, channels: 3, background: `#${(i * 30).toString(16).padStart(2, '0')}4060` } })
        .png()
        .toFile(path.join(dir, `p${i}.png`));
    }
    const db = openDatabase(path.join(home, 'r.db'));
    const mine = new Library(db, path.join(home, 'thumbs'));
    const theirs = new Library(db, path.join(home, 'thumbs'));
    await mine.importPaths(mine.createProject('p'), [dir]);
    const ids = mine.list(mine.createProject('p')).rows.map((r) => r.id);
    const results = await Promise.allSettled(Array.from({ length: 80 }, (_, i) => (i % 2 ? mine : theirs).thumbnail(ids[i % ids.length]!)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(fs.readdirSync(path.join(home, 'thumbs'), { recursive: true }).filter((f) => String(f).endsWith('.part'))).toEqual([]);
  });

  it('never blocks the thread on a glob built to backtrack or on a system folder; caps the walk with a clear message', async () => {
    const p = lib.createProject('hostile');
    const dir = tmpDir();
    fs.copyFileSync(path.join(tree, '1998', 'beach.png'), path.join(dir, `${'a'.repeat(57)}.png`));
    const evil = await lib.importPaths(p, [dir], { include: ['*a*a*a*a*a*a*a*a*b.png'] });
    expect(evil).toMatchObject({ added: 0, skipped: 1 });

    // The walk of a big tree gives the event loop turns all along (a synchronous walk gives none until
    // it ends): counted with a setImmediate chain, and the longest gap between timer ticks stays short
    // (generous: other test files share the CPU; the synchronous walk of /usr took 1.5 s here).
    let turns = 0;
    let walking = true;
    const spin = () => {
      turns++;
      if (walking) setImmediate(spin);
    };
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 5);
    setImmediate(spin);
    try {
      await lib.importPaths(p, ['/usr/share', '/usr/lib'], { include: ['no-photo-is-called-this-*.png'] });
    } finally {
      walking = false;
      clearInterval(ticker);
    }
    expect(turns).toBeGreaterThan(20);
    expect(longest).toBeLessThan(1000);

    await expect(lib.importPaths(p, [tree], { maxFiles: 3 })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining(`${tree}: more than 3 files`) });
    await expect(lib.importPaths(p, [tree], { include: ['{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}'] })).rejects.toMatchObject({ code: 'USAGE' });
  }, 60_000);

  it('import of the bad-input corpus: good files in, every unreadable one named', async () => {
    const p = lib.createProject('corpus');
    const r = await lib.importPaths(p, [path.join(ROOT, 'test', 'fixtures', 'bad-input')]);
    // Import reads headers only: files truncated after a valid header are caught when decoded.
    // 'name with spaces.png' and 'ünïcødé 写真.png' hold the same pixels: one is a duplicate.
    expect(r.added).toBe(12);
    expect(r.duplicates).toBe(1);
    expect(r.failed.map((f) => path.basename(f.path)).sort()).toEqual(['huge-header.png', 'random-bytes.png', 'text-file.png', 'zero-bytes.png']);
  });
});
