/**
 * Knowledge distillation (restora train --teacher): the teacher's pool, its cache, the
 * batches drawn from it, resume, the usage errors and the cost gate.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { initBackend } from '../../src/main/ml/backend.js';
import { openDatabase } from '../../src/main/db/database.js';
import { saveLayersModel, writeCard, loadLayersModel } from '../../src/main/ml/store/modelStore.js';
import { buildSeeded, Trainer } from '../../src/main/ml/train/trainer.js';
import { TeacherPool, loadTeacher, resolveTeacher, teacherCandidates, type TeacherFn } from '../../src/main/ml/train/teacher.js';
import { TrainService } from '../../src/main/training/trainService.js';
import { ModelLibrary } from '../../src/main/ml/store/modelLibrary.js';
import { bundledModelsDir } from '../../src/main/paths.js';
import { RestoraError } from '../../src/shared/errors.js';
import type { ModelCard, ModelSummary, TeacherEstimate, TrainRequest } from '../../src/shared/api.js';
import { imresize, type FloatImage } from '../../src/main/imaging/imresize.js';
import { Rng } from '../../src/main/ml/core/rng.js';
import { TINY_TRAINER_CONFIG, expectSameWeights, weightValues } from '../trainerFixture.js';
import { synthImage, tmpDir, toUint8 } from '../helpers.js';

/** Saves a seeded compact x2 model as <home>/models/<id> with its card. */
async function installTeacher(home: string, id: string, archOptions: Record<string, number>, license = 'CC0 (test teacher)'): Promise<ModelSummary> {
  const m = buildSeeded({ arch: 'compact', scale: 2, archOptions, seed: 7 });
  const dir = path.join(home, 'models', id);
  await saveLayersModel(m, dir);
  const card: ModelCard = { id, name: `test teacher ${id}`, arch: 'compact', archOptions, scale: 2, params: m.countParams(), task: 'upscale', license };
  writeCard(dir, card);
  m.dispose();
  return { card, dir, source: 'user' };
}

async function writePhotos(dir: string, n: number, w: number, h: number): Promise<{ file: string; img: FloatImage }[]> {
  fs.mkdirSync(dir, { recursive: true });
  const out: { file: string; img: FloatImage }[] = [];
  for (let i = 0; i < n; i++) {
    const img = synthImage(w, h, i + 1);
    // Integer pixels, as a decoded PNG has.
    img.data.set(toUint8(img));
    const file = path.join(dir, `p${i}.png`);
    await sharp(toUint8(img), { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(file);
    out.push({ file, img });
  }
  return out;
}

/** The position of an LR region (side r) inside a photo: where its pixels equal the photo's. */
function findRegion(photo: FloatImage, lr: FloatImage): { x: number; y: number } {
  for (let y = 0; y + lr.height <= photo.height; y++) {
    for (let x = 0; x + lr.width <= photo.width; x++) {
      let same = true;
      for (let r = 0; r < lr.height && same; r++) {
        for (let i = 0; i < lr.width * 3; i++) {
          if (photo.data[((y + r) * photo.width + x) * 3 + i] !== lr.data[r * lr.width * 3 + i]) {
            same = false;
            break;
          }
        }
      }
      if (same) return { x, y };
    }
  }
  throw new Error('region not found in the photo');
}

/** A square crop of interleaved RGB, transformed like dataset.ts copyPatch (1 flip x, 2 flip y, 4 transpose), 0..255. */
function cropT(src: ArrayLike<number>, width: number, x0: number, y0: number, size: number, t: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sx = t & 4 ? y : x;
      let sy = t & 4 ? x : y;
      if (t & 1) sx = size - 1 - sx;
      if (t & 2) sy = size - 1 - sy;
      const s = ((y0 + sy) * width + x0 + sx) * 3;
      out.push(src[s]!, src[s + 1]!, src[s + 2]!);
    }
  }
  return out;
}

const TINY = { channels: 4, blocks: 1 };

describe('the teacher pool', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it("a region's target is the teacher's output on the photo there (its margin gives the borders their context)", async () => {
    const home = tmpDir();
    const teacherModel = await installTeacher(home, 'tiny-teacher', TINY);
    const photos = await writePhotos(path.join(home, 'photos'), 2, 96, 88);
    const teacher = await loadTeacher(teacherModel, 2);
    try {
      const pool = TeacherPool.open({ runDir: path.join(home, 'run'), teacher: teacherModel, scale: 2, inputs: 'none', regions: 3, seed: 5, photos });
      await pool.fill(teacher.run);
      // The teacher on each whole photo: the receptive field (3 px) is within the margin (8 px), so crops of it are the targets.
      const whole = await Promise.all(photos.map((p) => teacher.run(toUint8(p.img), p.img.width, p.img.height)));
      for (let i = 0; i < 3; i++) {
        const { lr, target } = pool.regionAt(i);
        const k = photos.findIndex((p) => {
          try {
            findRegion(p.img, lr);
            return true;
          } catch {
            return false;
          }
        });
        expect(k, 'the input is a crop of a photo (preset none)').toBeGreaterThanOrEqual(0);
        const { x, y } = findRegion(photos[k]!.img, lr);
        const expected = cropT(whole[k]!, photos[k]!.img.width * 2, x * 2, y * 2, 128, 0);
        expect(Array.from(target.data)).toEqual(expected);
      }
    } finally {
      await teacher.close();
    }
  });

  it("each batch item is a flipped/rotated crop of a region's input with the same crop of the teacher's output", async () => {
    const home = tmpDir();
    const teacherModel = await installTeacher(home, 'tiny-teacher', TINY);
    const photos = await writePhotos(path.join(home, 'photos'), 2, 80, 80);
    const teacher = await loadTeacher(teacherModel, 2);
    const pool = TeacherPool.open({ runDir: path.join(home, 'run'), teacher: teacherModel, scale: 2, inputs: 'none', regions: 3, seed: 2, photos });
    await pool.fill(teacher.run);
    await teacher.close();
    const regions = [0, 1, 2].map((i) => pool.regionAt(i));
    // Patch = region: the crop is the whole region, so only the region and the transform vary.
    const b = pool.sample(new Rng(9), 8, 64, 2);
    const transforms = new Set<number>();
    for (let k = 0; k < 8; k++) {
      const lr = Array.from(b.lr.subarray(k * 64 * 64 * 3, (k + 1) * 64 * 64 * 3), (v) => Math.round(v * 255));
      const hr = Array.from(b.hr.subarray(k * 128 * 128 * 3, (k + 1) * 128 * 128 * 3), (v) => Math.round(v * 255));
      let found = false;
      for (const [i, r] of regions.entries()) {
        for (let t = 0; t < 8 && !found; t++) {
          if (JSON.stringify(cropT(r.lr.data, 64, 0, 0, 64, t)) !== JSON.stringify(lr)) continue;
          expect(hr, `item ${k}: region ${i}, transform ${t}`).toEqual(cropT(r.target.data, 128, 0, 0, 128, t));
          transforms.add(t);
          found = true;
        }
      }
      expect(found, `batch item ${k} comes from a region of the pool`).toBe(true);
    }
    expect(transforms.size, 'augmented with flips and rotations').toBeGreaterThan(1);
    // A pure function of the RNG.
    expect(Array.from(pool.sample(new Rng(9), 8, 64, 2).hr)).toEqual(Array.from(b.hr));
  });

  it('is computed once: a reopened pool calls the teacher for nothing; a crash loses only the region in flight, recomputed the same', async () => {
    const home = tmpDir();
    const teacherModel = await installTeacher(home, 'tiny-teacher', TINY);
    // x2 with a degradation preset: the photos are degraded first (seeded per region).
    const photos = await writePhotos(path.join(home, 'photos'), 2, 176, 168);
    const val = await writePhotos(path.join(home, 'val'), 1, 170, 170);
    const loaded = await loadTeacher(teacherModel, 2);
    let calls = 0;
    const counting: TeacherFn = (lr, w, h) => {
      calls++;
      return loaded.run(lr, w, h);
    };
    const options = { runDir: path.join(home, 'run'), teacher: teacherModel, scale: 2, inputs: 'realistic' as const, regions: 5, seed: 3, photos, val };
    // A teacher that fails on its third region (a crash mid-cache).
    let n = 0;
    const failing: TeacherFn = (lr, w, h) => (++n === 3 ? Promise.reject(new Error('power cut')) : counting(lr, w, h));
    await expect(TeacherPool.open(options).fill(failing)).rejects.toThrow(/power cut/);
    const dir = path.join(home, 'run', 'teacher');
    expect(
      fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.bin'))
        .sort(),
    ).toEqual(['r000000.bin', 'r000001.bin']);
    expect(
      fs.readdirSync(dir).some((f) => f.endsWith('.part')),
      'no partial file',
    ).toBe(false);
    const first = fs.readFileSync(path.join(dir, 'r000001.bin'));

    // A write cut short by a crash leaves its temp file only: the reopened pool drops it.
    fs.writeFileSync(path.join(dir, `.r000002.bin.${process.pid}.1.part`), 'half a region');
    calls = 0;
    const resumed = TeacherPool.open(options);
    expect(fs.readdirSync(dir).some((f) => f.endsWith('.part'))).toBe(false);
    expect(resumed.cached).toBe(2);
    expect(resumed.missing).toBe(4);
    await resumed.fill(counting);
    expect(calls).toBe(4);
    expect(resumed.valPairs()).toHaveLength(1);

    calls = 0;
    const again = TeacherPool.open(options);
    expect(again.missing).toBe(0);
    await again.fill(counting);
    expect(calls, 'a complete cache runs the teacher on nothing').toBe(0);

    // A region lost is computed again exactly as before (its degradation and the teacher are deterministic).
    fs.rmSync(path.join(dir, 'r000001.bin'));
    const repaired = TeacherPool.open(options);
    await repaired.fill(counting);
    expect(calls).toBe(1);
    expect(Buffer.compare(fs.readFileSync(path.join(dir, 'r000001.bin')), first)).toBe(0);
    // A larger pool keeps the regions it had (region i depends only on the seed and i).
    calls = 0;
    const larger = TeacherPool.open({ ...options, regions: 7 });
    expect(larger.missing).toBe(2);
    await larger.fill(counting);
    expect(calls).toBe(2);
    // A different teacher may not reuse the cache.
    const other = await installTeacher(home, 'other-teacher', { channels: 4, blocks: 2 });
    expect(() => TeacherPool.open({ ...options, teacher: other })).toThrow(/made with teacher tiny-teacher/);
    await loaded.close();
  });

  it("--teacher-downscale: an x4 teacher's output reduced to x2 with the reference bicubic imresize", async () => {
    const home = tmpDir();
    const m = buildSeeded({ arch: 'compact', scale: 4, archOptions: TINY, seed: 3 });
    const dir = path.join(home, 'models', 'tiny-x4');
    await saveLayersModel(m, dir);
    const card: ModelCard = { id: 'tiny-x4', name: 'tiny x4', arch: 'compact', archOptions: TINY, scale: 4, params: m.countParams(), task: 'upscale' };
    writeCard(dir, card);
    m.dispose();
    const x4 = await loadTeacher({ card, dir, source: 'user' }, 4);
    const x2 = await loadTeacher({ card, dir, source: 'user' }, 2);
    const lr = toUint8(synthImage(24, 20, 4));
    const big = await x4.run(lr, 24, 20);
    const half = await x2.run(lr, 24, 20);
    expect(half.length).toBe(48 * 40 * 3);
    const expected = imresize({ width: 96, height: 80, channels: 3, data: Float32Array.from(big) }, { width: 48, height: 40 }, { uint8: true });
    expect(Array.from(half)).toEqual(Array.from(expected.data));
    await x4.close();
    await x2.close();
  });

  it('a run trained on the pool resumes bit-identically from its checkpoint', async () => {
    const home = tmpDir();
    const teacherModel = await installTeacher(home, 'tiny-teacher', TINY);
    const photos = await writePhotos(path.join(home, 'photos'), 2, 80, 72);
    const teacher = await loadTeacher(teacherModel, 2);
    const pool = TeacherPool.open({ runDir: path.join(home, 'pool'), teacher: teacherModel, scale: 2, inputs: 'none', regions: 4, seed: 1, photos });
    await pool.fill(teacher.run);
    await teacher.close();
    const config = { ...TINY_TRAINER_CONFIG, patch: 16 };
    const straight = await Trainer.open(config, pool.source(), [], tmpDir());
    await straight.run();
    const dir = tmpDir();
    const first = await Trainer.open(config, pool.source(), [], dir);
    await first.run({ untilStep: 6 });
    first.dispose();
    const resumed = await Trainer.open(config, pool.source(), [], dir);
    expect(resumed.currentStep).toBe(6);
    await resumed.run();
    expectSameWeights(weightValues(straight.model), weightValues(resumed.model));
    straight.dispose();
    resumed.dispose();
  });
});

describe('choosing a teacher', () => {
  const summary = (id: string, scale: number, task: ModelCard['task'] = 'upscale'): ModelSummary => ({
    card: { id, name: id, arch: 'compact', archOptions: {}, scale, params: 1, task },
    dir: `/models/${id}`,
    source: 'user',
  });
  const models = [summary('big-x4', 4), summary('fast-x2', 2), summary('old-x2', 2, 'restore'), summary('detector', 1, 'detect-damage'), summary('inpainter', 1, 'inpaint'), summary('x8', 8)];

  it('takes an upscaling model of the run scale, a larger one only with --teacher-downscale', () => {
    expect(resolveTeacher(models, 'big-x4', 4).card.id).toBe('big-x4');
    expect(resolveTeacher(models, 'old-x2', 2).card.id).toBe('old-x2');
    expect(resolveTeacher(models, 'big-x4', 2, true).card.id).toBe('big-x4');
    expect(resolveTeacher(models, 'x8', 2, true).card.id).toBe('x8');
    expect(teacherCandidates(models, 2).map((m) => m.card.id)).toEqual(['fast-x2', 'old-x2']);
  });

  it('refuses a scale mismatch, a damage net, an x1 model and an unknown id, naming the choices', () => {
    const usage = (f: () => unknown, re: RegExp) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(RestoraError);
        expect((err as RestoraError).code).toBe('USAGE');
        expect((err as Error).message).toMatch(re);
        return;
      }
      throw new Error('no error');
    };
    usage(() => resolveTeacher(models, 'big-x4', 2), /big-x4 upscales x4; this run is x2\. Add --teacher-downscale.*Models that can teach a x2 run: fast-x2, old-x2/);
    usage(() => resolveTeacher(models, 'fast-x2', 4), /cannot be smaller than the run\. Models that can teach a x4 run: big-x4\./);
    usage(() => resolveTeacher(models, 'detector', 2), /detector is a damage net .*scratch detection.*cannot be a teacher\. Models that can teach a x2 run: fast-x2, old-x2/);
    usage(() => resolveTeacher(models, 'inpainter', 4), /inpainting/);
    usage(() => resolveTeacher(models, 'nope', 4), /Unknown teacher "nope"\. Models that can teach a x4 run: big-x4\./);
  });
});

describe('TrainService with a teacher', () => {
  let home = '';
  let data = '';
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
    home = tmpDir();
    data = path.join(home, 'photos');
    await writePhotos(data, 3, 96, 96);
    await installTeacher(home, 'tiny-teacher', TINY, 'BSD-3-Clause');
    // Slow enough that 100,000 regions take over an hour on any CPU (about 3.8 GFLOP per region).
    await installTeacher(home, 'slow-teacher', { channels: 64, blocks: 8 });
  });

  const request = (name: string, extra: Partial<TrainRequest> = {}): TrainRequest => ({
    name,
    dataDirs: [data],
    scale: 2,
    preset: 'none',
    arch: 'compact',
    archOptions: { channels: 4, blocks: 1 },
    steps: 6,
    batch: 2,
    patch: 16,
    teacher: 'tiny-teacher',
    teacherRegions: 4,
    ...extra,
  });

  it('trains a student on the teacher, resumes bit-identically without running the teacher again, and the card keeps the lineage', async () => {
    const db = openDatabase(path.join(home, 'restora.db'));
    const svc = new TrainService(db, home);
    const estimates: TeacherEstimate[] = [];
    const straight = await svc.train(request('straight'), undefined, undefined, undefined, undefined, { onTeacherEstimate: (e) => estimates.push(e) });
    expect(estimates).toHaveLength(1);
    expect(estimates[0]).toMatchObject({ teacher: 'tiny-teacher', regions: 5, cached: 0, toCompute: 5, regionSide: 80, confirmNeeded: false });
    expect(estimates[0]!.secondsPerRegion).toBeGreaterThan(0);

    const stop = new AbortController();
    await expect(svc.train(request('resumed'), (p) => p.step === 3 && stop.abort(), stop.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
    const cache = path.join(home, 'runs', 'resumed', 'teacher');
    const stamps = new Map(fs.readdirSync(cache).map((f) => [f, fs.statSync(path.join(cache, f)).mtimeMs]));
    expect(stamps.size).toBe(6); // pool.json + 4 train regions + 1 held-out
    const progress: number[] = [];
    const again: TeacherEstimate[] = [];
    const resumed = await svc.train({ ...request('resumed'), resume: true }, undefined, undefined, undefined, undefined, { onTeacherProgress: (p) => progress.push(p.done), onTeacherEstimate: (x) => again.push(x) });
    expect(progress, 'the teacher ran on no region again').toEqual([]);
    expect(again).toMatchObject([{ regions: 5, cached: 5, toCompute: 0, seconds: 0 }]);
    for (const [f, t] of stamps) expect(fs.statSync(path.join(cache, f)).mtimeMs, f).toBe(t);
    const a = await loadLayersModel(straight.modelDir);
    const b = await loadLayersModel(resumed.modelDir);
    expectSameWeights(weightValues(a), weightValues(b));
    a.dispose();
    b.dispose();

    const card = JSON.parse(fs.readFileSync(path.join(resumed.modelDir, 'card.json'), 'utf8')) as ModelCard;
    expect(card.teacher).toMatchObject({ id: 'tiny-teacher', scale: 2, license: 'BSD-3-Clause', regions: 4, regionSide: 64, inputs: 'the photos themselves' });
    expect(card.license).toMatch(/distilled from tiny-teacher \(BSD-3-Clause\)/);
    expect(card.degradation).toMatch(/none/);
    expect(Number.isFinite(card.metrics!['heldout-teacher']!.psnr)).toBe(true);
    // The estimate of that run now counts its cache.
    const e = await svc.estimateTeacher({ name: 'resumed', dataDirs: [data], scale: 2, preset: 'none', teacher: 'tiny-teacher', teacherRegions: 4 });
    expect(e).toMatchObject({ regions: 5, cached: 5, toCompute: 0, seconds: 0, confirmNeeded: false });
    db.close();
  });

  it('usage errors name the choices and create nothing', async () => {
    const db = openDatabase(path.join(home, 'restora.db'));
    const svc = new TrainService(db, home);
    const lib = new ModelLibrary(bundledModelsDir(), path.join(home, 'models'));
    const x2 = teacherCandidates(lib.list(), 2).map((m) => m.card.id);
    expect(x2).toContain('tiny-teacher');
    await expect(svc.train(request('bad1', { scale: 4 }))).rejects.toThrow(/tiny-teacher upscales x2; this run is x4, and a teacher cannot be smaller/);
    await expect(svc.train(request('bad2', { teacher: 'restora-scratch-detect' }))).rejects.toThrow(new RegExp(`damage net.*Models that can teach a x2 run: ${x2.join(', ')}`));
    await expect(svc.train(request('bad3', { teacher: 'no-such-model' }))).rejects.toThrow(/Unknown teacher "no-such-model"/);
    // The domain's message names no flag; the CLI's hint does.
    await expect(svc.train(request('bad4', { teacher: undefined }))).rejects.toMatchObject({ message: expect.stringMatching(/photos themselves .* needs a teacher/), hint: { cli: expect.stringMatching(/--teacher MODEL/) } });
    await expect(svc.train(request('bad5', { patch: 72 }))).rejects.toThrow(/larger than the teacher's 64 px regions/);
    for (const n of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5']) expect(fs.existsSync(path.join(home, 'runs', n)), n).toBe(false);
    db.close();
  });

  it('over an hour of teacher time: refused unconfirmed (nothing written), started when confirmed', async () => {
    const db = openDatabase(path.join(home, 'restora.db'));
    const svc = new TrainService(db, home);
    const big = { teacher: 'slow-teacher', teacherRegions: 100_000 };
    const e = await svc.estimateTeacher({ dataDirs: [data], scale: 2, preset: 'none', ...big });
    expect(e).toMatchObject({ teacher: 'slow-teacher', regions: 100_001, cached: 0, toCompute: 100_001, confirmNeeded: true });
    expect(e.seconds).toBeCloseTo(e.secondsPerRegion * 100_001, 3);
    const seen: TeacherEstimate[] = [];
    await expect(svc.train(request('costly', big), undefined, undefined, undefined, undefined, { onTeacherEstimate: (x) => seen.push(x) })).rejects.toThrow(/over an hour: .*Add --yes/);
    expect(seen[0]?.confirmNeeded).toBe(true);
    expect(fs.existsSync(path.join(home, 'runs', 'costly'))).toBe(false);
    // Confirmed, it starts: stopped after its first region, that region is kept.
    const stop = new AbortController();
    await expect(svc.train(request('costly', { ...big, teacherConfirmed: true }), undefined, stop.signal, undefined, undefined, { onTeacherProgress: () => stop.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(fs.existsSync(path.join(home, 'runs', 'costly', 'teacher', 'r000000.bin'))).toBe(true);
    db.close();
  });
});
