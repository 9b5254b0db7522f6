/**
 * The batch engine against things going wrong outside it: folders that cannot be
 * created, inputs that vanish or change, a locked or too-new database, a full disk;
 * and pause/resume, tile progress and resize. Runs the engine in-process on a tiny
 * untrained model so each case takes a fraction of a second.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchSpec, JobProgress } from '../../src/shared/api.js';
import { migrate, openDatabase, SCHEMA_VERSION, type Db } from '../../src/main/db/database.js';
import { BatchJobs, PAUSE } from '../../src/main/jobs/batchJob.js';
import { ComputeHost } from '../../src/main/ml/worker/computeHost.js';
import { ModelLibrary } from '../../src/main/ml/store/modelLibrary.js';
import { bundledModelsDir } from '../../src/main/paths.js';
import { installTinyModel, ROOT, synthImage, tmpDir, toUint8 } from '../helpers.js';

let home = '';
let db: Db;
let models: ModelLibrary;
let compute: ComputeHost;
let jobs: BatchJobs;

/** A noisy photo-like PNG (noise keeps outputs from compressing to nothing). */
async function photo(file: string, width: number, height: number, seed = 1): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = synthImage(width, height, seed);
  await sharp(Buffer.from(toUint8(img)), { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
  return file;
}

function spec(inputs: string[], outDir: string, extra: Partial<BatchSpec> = {}): BatchSpec {
  return { inputs, outDir, modelId: 'tiny-x2', format: 'png', nameTemplate: '{name}', recursive: true, ...extra };
}

function items(jobId: number): { input_path: string; output_path: string; state: string; attempts: number }[] {
  return db.prepare('SELECT input_path, output_path, state, attempts FROM job_items WHERE job_id = ? ORDER BY id').all(jobId) as {
    input_path: string;
    output_path: string;
    state: string;
    attempts: number;
  }[];
}

function partFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.part'));
}

beforeAll(async () => {
  home = tmpDir('restora-bad-');
  await installTinyModel(home);
  db = openDatabase(path.join(home, 'restora.db'));
  models = new ModelLibrary(bundledModelsDir(), path.join(home, 'models'));
  compute = new ComputeHost({ backend: 'wasm', threads: 1 });
  jobs = new BatchJobs(db, models, compute);
});

afterAll(async () => {
  db?.close();
  await compute?.close();
});

describe('batch export: bad outputs and inputs', () => {
  it('a file in the way of an output folder fails those items by name; the rest finish; a rerun after the fix finishes them', async () => {
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    const a = await photo(path.join(inp, 'a.png'), 24, 20, 1);
    await photo(path.join(inp, 'b.png'), 24, 20, 2);
    const c = await photo(path.join(inp, 'roll', 'c.png'), 24, 20, 3);
    const d = await photo(path.join(inp, 'roll', 'd.png'), 24, 20, 4);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'roll'), 'not a folder'); // ENOTDIR/EEXIST for out/roll/*

    const { jobId } = jobs.prepare(spec([inp], out));
    const s = await jobs.run(jobId);
    expect(s).toMatchObject({ state: 'failed', total: 4, done: 2, failed: 2, pending: 0 });
    expect(s.failures.map((f) => f.input).sort()).toEqual([c, d]);
    for (const f of s.failures) {
      expect(f.code).toBe('WRITE_FAILED');
      expect(f.message).toContain(f.input);
      expect(f.message).toContain(path.join(out, 'roll'));
      expect(f.message).toMatch(/a file is in the way/);
    }
    const inoA = fs.statSync(path.join(out, 'a.png')).ino;

    fs.rmSync(path.join(out, 'roll'));
    const again = jobs.prepare(spec([inp], out));
    expect(again).toEqual({ jobId, resumed: true });
    const s2 = await jobs.run(jobId);
    expect(s2).toMatchObject({ state: 'done', done: 4, failed: 0 });
    expect(fs.existsSync(path.join(out, 'roll', 'c.png')) && fs.existsSync(path.join(out, 'roll', 'd.png'))).toBe(true);
    expect(fs.statSync(path.join(out, 'a.png')).ino).toBe(inoA); // done items are not redone
    expect(items(jobId).find((i) => i.input_path === a)?.attempts).toBe(1);
    expect(partFiles(out)).toEqual([]);
  });

  it('an input that vanishes between prepare and run fails alone, naming the file', async () => {
    const dir = tmpDir();
    const files = [];
    for (let i = 0; i < 3; i++) files.push(await photo(path.join(dir, 'in', `p${i}.png`), 20, 16, i + 1));
    const out = path.join(dir, 'out');
    const { jobId } = jobs.prepare(spec([path.join(dir, 'in')], out));
    fs.rmSync(files[1]!);
    const s = await jobs.run(jobId);
    expect(s).toMatchObject({ state: 'failed', done: 2, failed: 1 });
    expect(s.failures).toEqual([{ input: files[1], code: 'NOT_FOUND', message: expect.stringContaining(files[1]!) }]);
    expect(fs.readdirSync(out).sort()).toEqual(['p0.png', 'p2.png']);
  });

  it('inputs that change during the batch give a valid output of what was read, or a clear error naming the file', async () => {
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    const first = await photo(path.join(inp, 'a.png'), 24, 20, 1);
    const resized = await photo(path.join(inp, 'b.png'), 24, 20, 2);
    const truncated = await photo(path.join(inp, 'c.png'), 64, 48, 3);
    const midItem = await photo(path.join(inp, 'd.png'), 128, 128, 4);
    const out = path.join(dir, 'out');
    const { jobId } = jobs.prepare(spec([inp], out, { tile: 16 }));
    let changedMidItem: { done: number; total: number } | null = null;
    const s = await jobs.run(jobId, {
      // Every tile's progress, not 10/s: with real threads d's 64 tiles can finish inside one 100 ms window.
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.current === first && p.currentDone === undefined) {
          // Between items: b becomes a different valid image (other size), c a cut-off file.
          const other = path.join(dir, 'other.png');
          fs.copyFileSync(resized, other);
          fs.writeFileSync(resized, fs.readFileSync(truncated)); // 64x48 now
          const bytes = fs.readFileSync(other);
          fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
        }
        if (p.current === midItem && p.currentDone !== undefined && !changedMidItem) {
          // While d is being upscaled: overwritten in place with another size.
          changedMidItem = { done: p.currentDone, total: p.currentTotal! };
          fs.writeFileSync(midItem, fs.readFileSync(path.join(dir, 'other.png')));
        }
      },
    });
    expect(s.total).toBe(4);
    expect(s.pending).toBe(0);
    const meta = async (f: string) => {
      const m = await sharp(f).metadata();
      return [m.width, m.height];
    };
    // b was replaced before its turn: its output is x2 of what it is now.
    expect(await meta(path.join(out, 'b.png'))).toEqual([128, 96]);
    // c was cut in half: it fails with its name, or (if the decoder tolerates it) gives a decodable x2 output.
    const cFail = s.failures.find((f) => f.input === truncated);
    if (cFail) expect(cFail.message).toContain(truncated);
    else await expect(sharp(path.join(out, 'c.png')).raw().toBuffer()).resolves.toBeInstanceOf(Buffer);
    // d changed mid-item: still a decodable output of the pixels read, or a clear error.
    const dFail = s.failures.find((f) => f.input === midItem);
    if (dFail) expect(dFail.message).toContain(midItem);
    else {
      expect(await meta(path.join(out, 'd.png'))).toEqual([256, 256]);
      await expect(sharp(path.join(out, 'd.png')).raw().toBuffer()).resolves.toBeInstanceOf(Buffer);
    }
    expect(changedMidItem, 'tile progress for d arrived while it was being upscaled').not.toBeNull();
    expect(s.failures.every((f) => f.input === truncated || f.input === midItem)).toBe(true);
    expect(partFiles(out)).toEqual([]);
  });
});

describe('batch export: the database', () => {
  it('a write lock held longer than the busy timeout gives DB_UNAVAILABLE naming the database file', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'locked.db');
    openDatabase(file).close();
    const mine = openDatabase(file, { busyTimeoutMs: 200 });
    const other = new Database(file);
    try {
      other.exec('BEGIN EXCLUSIVE');
      const lockedJobs = new BatchJobs(mine, models, compute);
      await photo(path.join(dir, 'in', 'a.png'), 16, 16);
      const t0 = performance.now();
      expect(() => lockedJobs.prepare(spec([path.join(dir, 'in')], path.join(dir, 'out')))).toThrow(expect.objectContaining({ code: 'DB_UNAVAILABLE', message: expect.stringContaining(file) }));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(150); // it waited before giving up
      other.exec('COMMIT');
      expect(lockedJobs.prepare(spec([path.join(dir, 'in')], path.join(dir, 'out'))).resumed).toBe(false);
    } finally {
      other.close();
      mine.close();
    }
  });

  it('opening a database another process has locked mid-write gives DB_UNAVAILABLE naming the file', () => {
    const file = path.join(tmpDir(), 'old.db');
    const old = new Database(file); // rollback journal: an exclusive lock keeps readers out too
    migrate(old, SCHEMA_VERSION - 1);
    old.exec('BEGIN EXCLUSIVE');
    try {
      expect(() => openDatabase(file, { busyTimeoutMs: 100 })).toThrow(expect.objectContaining({ code: 'DB_UNAVAILABLE', message: expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*locked`)) }));
    } finally {
      old.exec('ROLLBACK');
      old.close();
    }
  });

  it('a short lock by another process is waited out', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'busy.db');
    openDatabase(file).close();
    const holdMs = 400;
    const script = `const D = require('better-sqlite3'); const d = new D(${JSON.stringify(file)}); d.exec('BEGIN EXCLUSIVE'); console.log('locked'); setTimeout(() => { d.exec('COMMIT'); d.close(); }, ${holdMs});`;
    const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`locker exited early (${code})`)));
    });
    const mine = openDatabase(file);
    try {
      await photo(path.join(dir, 'in', 'a.png'), 16, 16);
      const t0 = performance.now();
      const r = new BatchJobs(mine, models, compute).prepare(spec([path.join(dir, 'in')], path.join(dir, 'out')));
      expect(r.resumed).toBe(false);
      expect(performance.now() - t0).toBeGreaterThan(holdMs / 4); // it was really blocked, then got through
    } finally {
      mine.close();
      child.kill();
    }
  });

  it('a database from a newer Restora is refused by the batch engine before any side file appears', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'restora.db');
    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    const before = fs.readFileSync(file);
    expect(() => openDatabase(file)).toThrow(expect.objectContaining({ code: 'DB_TOO_NEW', message: expect.stringContaining(file) }));
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['restora.db']); // no -wal/-shm created either
  });
});

describe('batch export: pause, progress, resize', () => {
  it('pause stops mid-item with that item pending; resume writes every output exactly once', async () => {
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    for (let i = 0; i < 5; i++) await photo(path.join(inp, `p${i}.png`), 64, 64, i + 1);
    const out = path.join(dir, 'out');
    const { jobId } = jobs.prepare(spec([inp], out, { tile: 16 }));
    const controller = new AbortController();
    let pausedAt: JobProgress | null = null;
    const s = await jobs.run(jobId, {
      signal: controller.signal,
      progressIntervalMs: 0, // every tile, so the pause lands on the first tile of item 3
      onProgress: (p) => {
        // Pause on the first tile progress after two items are done: mid-item.
        if (p.done === 2 && p.currentDone !== undefined && !pausedAt) {
          pausedAt = p;
          controller.abort(PAUSE);
        }
      },
    });
    expect(pausedAt).toMatchObject({ current: path.join(inp, 'p2.png'), currentDone: 1, currentTotal: 16 }); // 64x64 in 16 px tiles
    expect(s).toMatchObject({ state: 'paused', done: 2, failed: 0, pending: 3 });
    const rows = items(jobId);
    expect(rows.map((r) => r.state)).toEqual(['done', 'done', 'pending', 'pending', 'pending']);
    expect(fs.readdirSync(out).sort()).toEqual(['p0.png', 'p1.png']); // the interrupted item left nothing
    const inodes = new Map(['p0.png', 'p1.png'].map((f) => [f, fs.statSync(path.join(out, f)).ino]));

    const r = await jobs.run(jobId);
    expect(r).toMatchObject({ state: 'done', done: 5, failed: 0, pending: 0 });
    expect(fs.readdirSync(out).sort()).toEqual(['p0.png', 'p1.png', 'p2.png', 'p3.png', 'p4.png']);
    for (const [f, ino] of inodes) expect(fs.statSync(path.join(out, f)).ino, f).toBe(ino);
    // One attempt each; the paused item was started twice but written once.
    expect(items(jobId).map((i) => i.attempts)).toEqual([1, 1, 2, 1, 1]);
    expect(partFiles(out)).toEqual([]);
  });

  it('cancel leaves the job cancelled; prepare with the same spec resumes it', async () => {
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    for (let i = 0; i < 3; i++) await photo(path.join(inp, `p${i}.png`), 20, 16, i + 1);
    const out = path.join(dir, 'out');
    const { jobId } = jobs.prepare(spec([inp], out));
    const controller = new AbortController();
    const s = await jobs.run(jobId, { signal: controller.signal, onProgress: (p) => p.done === 1 && controller.abort() });
    expect(s).toMatchObject({ state: 'cancelled', done: 1, pending: 2 });
    expect(jobs.prepare(spec([inp], out))).toEqual({ jobId, resumed: true });
    expect(jobs.summary(jobId).state).toBe('running');
    expect(await jobs.run(jobId)).toMatchObject({ state: 'done', done: 3 });
  });

  it('reports tile progress of the current item (throttled) and one event per finished item with rate and ETA', async () => {
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    // 256x256 in 16 px tiles: 256 tiles, a few hundred ms per item here. The throttle is 25 ms rather than
    // the default 100 ms so that a faster machine still gets several reports per item.
    for (let i = 0; i < 3; i++) await photo(path.join(inp, `p${i}.png`), 256, 256, i + 1);
    const { jobId } = jobs.prepare(spec([inp], path.join(dir, 'out'), { tile: 16 }));
    const events: (JobProgress & { at: number })[] = [];
    const interval = 25;
    await jobs.run(jobId, { progressIntervalMs: interval, onProgress: (p) => events.push({ ...p, at: performance.now() }) });
    const itemEvents = events.filter((e) => e.currentDone === undefined);
    const tileEvents = events.filter((e) => e.currentDone !== undefined);
    expect(itemEvents.map((e) => e.done)).toEqual([1, 2, 3]);
    expect(itemEvents.every((e) => e.total === 3 && e.failed === 0 && e.ratePerSec > 0)).toBe(true);
    expect(itemEvents.at(-1)!.etaSec).toBe(0);
    expect(itemEvents[0]!.etaSec).toBeGreaterThan(0);
    expect(tileEvents.length).toBeGreaterThan(0);
    for (const e of tileEvents) {
      expect(e.currentDone!).toBeGreaterThan(0);
      expect(e.currentDone!).toBeLessThanOrEqual(e.currentTotal!);
      expect(e.etaSec).toBeGreaterThan(0);
    }
    // Throttled: a tile event never follows the previous event by less than the interval
    // (timed here after the callback runs, so allow a few ms of scheduling slack).
    for (let i = 1; i < events.length; i++) if (events[i]!.currentDone !== undefined) expect(events[i]!.at - events[i - 1]!.at).toBeGreaterThanOrEqual(interval - 5);
    // ...and tiles really were reported more often than items finished.
    expect(tileEvents.length).toBeGreaterThanOrEqual(3);
  });

  it('resizes after the model to the target size, keeping alpha, 16-bit depth and EXIF', async () => {
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    fs.mkdirSync(inp);
    const [w, h] = [40, 30]; // x2 by the model: 80x60
    // 16-bit RGBA PNG and an 8-bit JPEG with EXIF.
    const rgba = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([(i * 7) % 256, (i * 3) % 256, 200, i % w < w / 2 ? 255 : 40], i * 4);
    await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
      .toColourspace('rgb16')
      .png()
      .toFile(path.join(inp, 'alpha.png'));
    await sharp(Buffer.from(toUint8(synthImage(w, h))), { raw: { width: w, height: h, channels: 3 } })
      .withExif({ IFD0: { Make: 'RestoraTest' } })
      .jpeg()
      .toFile(path.join(inp, 'photo.jpg'));
    const cases: [BatchSpec['resize'], number, number][] = [
      [{ width: 50 }, 50, Math.round((60 * 50) / 80)],
      [{ height: 45 }, Math.round((80 * 45) / 60), 45],
      [{ width: 50, height: 30 }, Math.round(80 * Math.min(50 / 80, 30 / 60)), Math.round(60 * Math.min(50 / 80, 30 / 60))],
    ];
    const ids = new Set<number>();
    for (const [resize, ew, eh] of cases) {
      const out = path.join(dir, `out-${ew}x${eh}`);
      const { jobId } = jobs.prepare(spec([inp], out, { resize }));
      ids.add(jobId);
      expect(await jobs.run(jobId)).toMatchObject({ state: 'done', done: 2 });
      const a = await sharp(path.join(out, 'alpha.png')).metadata();
      expect([a.width, a.height, a.channels, a.depth]).toEqual([ew, eh, 4, 'ushort']);
      const j = await sharp(path.join(out, 'photo.png')).metadata();
      expect([j.width, j.height]).toEqual([ew, eh]);
      expect(j.exif?.includes(Buffer.from('RestoraTest'))).toBe(true);
    }
    expect(ids.size).toBe(3); // resize is part of the job's identity
    // The same box given in another key order is the same job.
    const again = jobs.prepare(spec([inp], path.join(dir, `out-${cases[2]![1]}x${cases[2]![2]}`), { resize: { height: 30, width: 50 } }));
    expect(again.resumed).toBe(true);
    expect(() => jobs.prepare(spec([inp], dir, { resize: {} }))).toThrow(/resize needs/);
  });
});

describe('batch export: a full disk', () => {
  it('an output that does not fit fails with ENOSPC naming it, leaves no temp file, the rest go on; a rerun after freeing space finishes', async (ctx) => {
    const dir = tmpDir();
    const mnt = path.join(dir, 'small-disk');
    fs.mkdirSync(mnt);
    // A real small filesystem (tmpfs) is the honest full disk; it needs mount rights.
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'restora-test', mnt], { encoding: 'utf8' });
    if (mount.status !== 0) ctx.skip(`cannot mount a tmpfs here: ${mount.stderr || mount.error?.message}`);
    try {
      const inp = path.join(dir, 'in');
      const big = await photo(path.join(inp, 'a-big.png'), 160, 160, 1);
      for (let i = 0; i < 3; i++) await photo(path.join(inp, `s${i}.png`), 20, 16, i + 2);
      // Size the outputs first (same model, elsewhere), then leave room for the small ones only.
      const probe = path.join(dir, 'probe');
      const pj = jobs.prepare(spec([inp], probe));
      await jobs.run(pj.jobId);
      const sizes = fs.readdirSync(probe).map((f) => fs.statSync(path.join(probe, f)).size);
      const bigSize = fs.statSync(path.join(probe, 'a-big.png')).size;
      const small = sizes.reduce((a, b) => a + b, 0) - bigSize;
      const room = Math.max(small * 2 + 16384, 32768);
      expect(room).toBeLessThan(bigSize);
      const filler = path.join(mnt, 'filler');
      const free = () => {
        const st = fs.statfsSync(mnt);
        return st.bavail * st.bsize;
      };
      fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - room)));

      const out = path.join(mnt, 'out');
      const { jobId } = jobs.prepare(spec([inp], out));
      const s = await jobs.run(jobId);
      expect(s).toMatchObject({ state: 'failed', done: 3, failed: 1 });
      expect(s.failures).toEqual([{ input: big, code: 'WRITE_FAILED', message: expect.stringMatching(/ENOSPC|no space/i) }]);
      expect(s.failures[0]!.message).toContain(path.join(out, 'a-big.png'));
      expect(partFiles(out)).toEqual([]);
      expect(fs.readdirSync(out).sort()).toEqual(['s0.png', 's1.png', 's2.png']);

      fs.rmSync(filler);
      jobs.prepare(spec([inp], out));
      expect(await jobs.run(jobId)).toMatchObject({ state: 'done', done: 4, failed: 0 });
      expect(fs.statSync(path.join(out, 'a-big.png')).size).toBe(bigSize);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('batch export: one runner per item across processes', () => {
  const attempts = (d: Db, jobId: number) => (d.prepare('SELECT attempts FROM job_items WHERE job_id = ? ORDER BY id').all(jobId) as { attempts: number }[]).map((r) => r.attempts);

  it('the same job run twice at once (two store connections, as two processes) shares the items and writes none twice', async () => {
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    for (let i = 0; i < 8; i++) await photo(path.join(inp, `p${i}.png`), 40, 32, i + 1);
    const out = path.join(dir, 'out');
    const other = openDatabase(path.join(home, 'restora.db'));
    try {
      const a = new BatchJobs(db, models, compute);
      const b = new BatchJobs(other, models, compute);
      const { jobId } = a.prepare(spec([inp], out));
      expect(b.prepare(spec([inp], out))).toEqual({ jobId, resumed: true });
      const [ra, rb] = await Promise.all([a.run(jobId), b.run(jobId)]);
      expect(ra).toMatchObject({ state: 'done', done: 8 });
      expect(rb).toMatchObject({ state: 'done', done: 8 });
      expect(attempts(db, jobId)).toEqual(Array(8).fill(1));
      expect(fs.readdirSync(out)).toHaveLength(8);
    } finally {
      other.close();
    }
  });

  it("waits for another process's live claim, shows it as running elsewhere, and takes over a claim that expired", async () => {
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    for (let i = 0; i < 3; i++) await photo(path.join(inp, `p${i}.png`), 20, 16, i + 1);
    const { jobId } = jobs.prepare(spec([inp], path.join(dir, 'out')));
    const ids = (db.prepare('SELECT id FROM job_items WHERE job_id = ? ORDER BY id').all(jobId) as { id: number }[]).map((r) => r.id);
    const hold = db.prepare("UPDATE job_items SET state = 'running', claimed_by = ?, claim_expires_ms = ?, attempts = 1 WHERE id = ?");
    hold.run('killed-host:1:dead', Date.now() - 1, ids[0]); // its process died: expired
    hold.run('other-host:2:live', Date.now() + 1500, ids[1]); // alive, then it stops renewing
    expect(jobs.summary(jobId).runningElsewhere).toBe(true);
    const fast = new BatchJobs(db, models, compute, 600);
    const t0 = performance.now();
    const s = await fast.run(jobId);
    expect(performance.now() - t0).toBeGreaterThan(1000); // it waited for the live claim to lapse
    expect(s).toMatchObject({ state: 'done', done: 3, runningElsewhere: false });
    expect(attempts(db, jobId)).toEqual([2, 2, 1]);
  });

  it('the app does not call a job another process works on paused, and will not start a second runner on Resume', async () => {
    const { JobRunner } = await import('../../src/main/jobs/jobRunner.js');
    const { EventBus } = await import('../../src/main/events.js');
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    for (let i = 0; i < 2; i++) await photo(path.join(inp, `p${i}.png`), 20, 16, i + 1);
    const { jobId } = jobs.prepare(spec([inp], path.join(dir, 'out')));
    const first = db.prepare('SELECT min(id) AS id FROM job_items WHERE job_id = ?').get(jobId) as { id: number };
    db.prepare("UPDATE job_items SET state = 'running', claimed_by = 'cli-host:3:live', claim_expires_ms = ? WHERE id = ?").run(Date.now() + 60_000, first.id);
    const runner = new JobRunner(
      db,
      jobs,
      () => {
        throw new Error('no library here');
      },
      new EventBus(),
    );
    expect(jobs.summary(jobId)).toMatchObject({ state: 'running', runningElsewhere: true });
    expect(() => runner.resume(jobId)).toThrow(/running in another process/);
    db.prepare("UPDATE job_items SET state = 'pending', claimed_by = NULL, claim_expires_ms = NULL WHERE id = ?").run(first.id);
  });

  it('two `restora batch` processes of one job at once: every output written once', async () => {
    const dir = tmpDir();
    const inp = path.join(dir, 'in');
    for (let i = 0; i < 12; i++) await photo(path.join(inp, `p${String(i).padStart(2, '0')}.png`), 48, 40, i + 1);
    const out = path.join(dir, 'out');
    const cliHome = tmpDir('restora-two-');
    await installTinyModel(cliHome);
    const batch = () =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'index.ts'), 'batch', inp, '--out', out, '--model', 'tiny-x2'], {
          cwd: ROOT,
          env: { ...process.env, RESTORA_HOME: cliHome, RESTORA_THREADS: '1' },
        });
        let err = '';
        child.stderr.on('data', (b: Buffer) => (err += b.toString()));
        child.on('exit', (code) => resolve({ code, err }));
      });
    const runs = await Promise.all([batch(), batch()]);
    for (const r of runs) expect(r.code, r.err).toBe(0);
    const check = new Database(path.join(cliHome, 'restora.db'), { readonly: true });
    try {
      const rows = check.prepare('SELECT state, attempts FROM job_items').all() as { state: string; attempts: number }[];
      expect(rows).toHaveLength(12);
      expect(rows.every((r) => r.state === 'done' && r.attempts === 1)).toBe(true);
    } finally {
      check.close();
    }
    expect(fs.readdirSync(out).sort()).toHaveLength(12);
  }, 120_000);
});
