/**
 * The studio's API end to end through the handler map (what IPC and HTTP call):
 * library import with bad files, upscale in Compare, media by id, export jobs with
 * events and pause/resume, training in a worker thread with pause/resume and the
 * model it produces, model import/delete, settings.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src/shared/api.js';
import { parseRequest, type ApiHandlers } from '../../src/shared/contract.js';
import { createApp, type App } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { ROOT, installTinyModel, synthImage, tmpDir, toUint8 } from '../helpers.js';
import { apiCaller, waitForEvent } from '../apiHelpers.js';

let app: App;
let handlers: ApiHandlers;
let photos = '';
const events: AppEvent[] = [];

/** Calls a method the way the adapters do: validate, then the handler. */
const call = apiCaller(() => handlers);
const waitFor = (pred: (e: AppEvent) => boolean, timeoutMs = 90_000): Promise<AppEvent> => waitForEvent(app, events, pred, timeoutMs);

async function writePhoto(file: string, w: number, h: number, seed: number): Promise<void> {
  await sharp(toUint8(synthImage(w, h, seed)), { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(file);
}

beforeAll(async () => {
  const home = tmpDir('restora-studio-');
  await installTinyModel(home, 'tiny-x2');
  app = createApp({ home, threads: 1, backend: 'wasm' });
  app.events.subscribe((e) => events.push(e));
  handlers = createHandlers(app);
  photos = tmpDir('restora-photos-');
  fs.mkdirSync(path.join(photos, 'sub ü'));
  for (let i = 0; i < 6; i++) await writePhoto(path.join(photos, i < 3 ? '' : 'sub ü', `p${i}.png`), 72 + i * 4, 64, i + 1);
  fs.writeFileSync(path.join(photos, 'notes.txt'), 'not an image');
  fs.writeFileSync(path.join(photos, 'broken.png'), Buffer.from('89504e470d0a1a0a0000', 'hex'));
});

afterAll(async () => {
  await app?.close();
});

describe('studio API', () => {
  it('imports a folder tree, reports the files it could not take, and lists with filters', async () => {
    const { id } = await call('projects.create', { name: 'Family' });
    const report = await call('library.import', { projectId: id, paths: [photos, path.join(photos, 'notes.txt')] });
    expect(report.added).toBe(6);
    const failed = report.failed.map((f) => path.basename(f.path)).sort();
    expect(failed).toEqual(['broken.png', 'notes.txt']);
    // Inside the folder, notes.txt is not an image by name: listed as left out, not as a failure.
    expect(report.ignored).toEqual({ count: 1, paths: [path.join(photos, 'notes.txt')] });
    for (const f of report.failed) expect(f.message).toContain(f.path);
    const again = await call('library.import', { projectId: id, paths: [photos] });
    expect(again).toMatchObject({ added: 0, duplicates: 6 });
    const page = await call('library.list', { projectId: id, search: 'sub ü', sort: 'name', limit: 2 });
    expect(page.total).toBe(3);
    expect(page.rows.map((r) => path.basename(r.path))).toEqual(['p3.png', 'p4.png']);
    expect(await call('projects.list', {})).toEqual([{ id, name: 'Family', images: 6 }]);
  });

  it('decodes imported images in the background and flags a file damaged after a valid header, with the reason', async () => {
    const dir = tmpDir('restora-damaged-');
    await writePhoto(path.join(dir, 'good.png'), 64, 48, 7);
    await writePhoto(path.join(dir, 'whole.png'), 64, 48, 8);
    const bytes = fs.readFileSync(path.join(dir, 'whole.png'));
    fs.writeFileSync(path.join(dir, 'cut-short.png'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    fs.rmSync(path.join(dir, 'whole.png'));
    const { id: projectId } = await call('projects.create', { name: 'damaged' });
    const report = await call('library.import', { projectId, paths: [dir] });
    expect(report.added).toBe(2); // the header reads fine: import alone cannot tell
    const checked = await waitFor((e) => e.type === 'library.checked' && e.projectId === projectId);
    expect(checked).toMatchObject({ checked: 2, broken: 1 });
    const rows = (await call('library.list', { projectId })).rows;
    expect(rows.find((r) => r.path.endsWith('good.png'))!.problem).toBeNull();
    expect(rows.find((r) => r.path.endsWith('cut-short.png'))!.problem).toMatch(/cut-short\.png: /);
  });

  it('upscales a library image for Compare, records it, and serves it only by media id', async () => {
    const { rows } = await call('library.list', { projectId: 1, limit: 1 });
    const img = rows[0]!;
    const r = await call('upscale.image', { imageId: img.id, modelId: 'tiny-x2', taskId: 'task-1' });
    expect([r.width, r.height]).toEqual([img.width * 2, img.height * 2]);
    expect(fs.existsSync(r.output)).toBe(true);
    expect(events.some((e) => e.type === 'upscale.progress' && e.taskId === 'task-1')).toBe(true);
    const detail = await call('library.get', { id: img.id });
    expect(detail.status).toBe('restored');
    expect(detail.history.map((h) => [h.action, h.modelId, h.output])).toEqual([['upscale', 'tiny-x2', r.output]]);
    expect(await app.media.resolve(`result/${r.historyId}`)).toBe(r.output);
    expect(await app.media.resolve(`image/${img.id}`)).toBe(img.path);
    expect(fs.existsSync((await app.media.resolve(`thumb/${img.id}`))!)).toBe(true);
    for (const bad of ['result/999', 'image/0', '../restora.db', `image/${img.id}/../..`, 'preview/zz/0-lr.png', img.path]) {
      expect(await app.media.resolve(bad), bad).toBeNull();
    }
  });

  it('ten concurrent upscales of one image give ten distinct result files, each recorded', async () => {
    const { rows } = await call('library.list', { projectId: 1, limit: 1 });
    const img = rows[0]!;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call('upscale.image', { imageId: img.id, modelId: 'tiny-x2', taskId: `same-${i}` })));
    expect(new Set(results.map((r) => r.output)).size).toBe(10);
    for (const r of results) expect(fs.existsSync(r.output)).toBe(true);
    expect(new Set(results.map((r) => r.historyId)).size).toBe(10);
  });

  it('scores the result against a reference kept beside the image (a sibling HR folder)', async () => {
    const root = tmpDir('restora-ref-');
    fs.mkdirSync(path.join(root, 'LR'));
    fs.mkdirSync(path.join(root, 'HR'));
    await writePhoto(path.join(root, 'HR', 'scan.png'), 64, 48, 9);
    await sharp(path.join(root, 'HR', 'scan.png'))
      .resize(32, 24)
      .png()
      .toFile(path.join(root, 'LR', 'scan.png'));
    const { id: projectId } = await call('projects.create', { name: 'With references' });
    await call('library.import', { projectId, paths: [path.join(root, 'LR')] });
    const [img] = (await call('library.list', { projectId })).rows;
    const r = await call('upscale.image', { imageId: img!.id, modelId: 'tiny-x2', taskId: 'ref-1' });
    expect(r.reference).toBeDefined();
    expect(r.reference!.psnr).toBeGreaterThan(10);
    expect(r.reference!.ssim).toBeGreaterThan(0);
    expect(r.reference!.ssim).toBeLessThanOrEqual(1);
  });

  it('runs an export job of library images in the background with progress events, and resumes a paused job', async () => {
    const out = tmpDir('restora-export-');
    const { rows } = await call('library.list', { projectId: 1 });
    const { jobId } = await call('jobs.start', { imageIds: rows.map((r) => r.id), outDir: out, modelId: 'tiny-x2', format: 'jpg', quality: 85 });
    const paused = await call('jobs.pause', { jobId });
    expect(['paused', 'done']).toContain(paused.state);
    if (paused.state === 'paused') {
      expect(paused.done).toBeLessThan(6);
      await call('jobs.resume', { jobId });
      await waitFor((e) => e.type === 'job.state' && e.jobId === jobId && e.state === 'done');
    }
    const [job] = (await call('jobs.list', {})).filter((j) => j.id === jobId);
    expect(job).toMatchObject({ state: 'done', done: 6, failed: 0, total: 6 });
    expect(events.some((e) => e.type === 'job.progress' && e.progress.jobId === jobId && e.progress.total === 6)).toBe(true);
    const files = fs.readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.jpg'));
    expect(files).toHaveLength(6);
    const exported = await call('library.list', { projectId: 1, status: 'exported' });
    expect(exported.total).toBe(6);
  });

  it('previews degraded training pairs and inspects a dataset', async () => {
    const stats = await call('datasets.inspect', { dataDirs: [photos], scale: 2, patch: 16, name: 'family' });
    expect(stats).toMatchObject({ usable: 6, train: 5, val: 1, name: 'family' });
    expect(stats.skipped.map((s) => path.basename(s.path))).toEqual(['broken.png']);
    const { pairs } = await call('training.preview', { dataDirs: [photos], preset: 'old-photo', scale: 2, count: 2, patch: 16 });
    expect(pairs).toHaveLength(2);
    const lr = await sharp((await app.media.resolve(pairs[0]!.lr))!).metadata();
    const hr = await sharp((await app.media.resolve(pairs[0]!.hr))!).metadata();
    expect([lr.width, hr.width]).toEqual([16, 32]);
  });

  it('inspect decodes every photo and lists one cut short after a valid header; preview skips it (no INTERNAL)', async () => {
    const dir = tmpDir('restora-cut-');
    for (const f of ['p0.png', 'p1.png', 'p2.png']) fs.copyFileSync(path.join(photos, f), path.join(dir, f));
    const whole = fs.readFileSync(path.join(photos, 'sub ü', 'p3.png'));
    fs.writeFileSync(path.join(dir, 'cut.png'), whole.subarray(0, Math.floor(whole.length * 0.6)));
    expect((await sharp(path.join(dir, 'cut.png')).metadata()).width).toBe(84); // the header still reads
    const stats = await call('datasets.inspect', { dataDirs: [dir], scale: 2, patch: 16 });
    expect(stats.usable).toBe(3);
    expect(stats.skipped).toEqual([{ path: path.join(dir, 'cut.png'), reason: expect.stringMatching(/cut\.png.*cannot be decoded/) }]);
    const preview = await call('training.preview', { dataDirs: [dir], preset: 'old-photo', scale: 2, count: 4, patch: 16 });
    expect(preview.pairs).toHaveLength(4);
    expect(preview.skipped.map((s) => path.basename(s.path))).toEqual(['cut.png']);
  });

  it('trains from Library photos (a project or a selection, uploads included) and times a run before it starts', async () => {
    const project = await call('projects.create', { name: 'to learn from' });
    await call('library.import', { projectId: project.id, paths: [photos], recursive: true });
    const rows = (await call('library.list', { projectId: project.id })).rows;
    expect(rows.length).toBeGreaterThan(4);
    // The whole project: the same photos as the folder (the broken file is listed, as from the folder).
    const all = await call('datasets.inspect', { library: { projectId: project.id }, scale: 2, patch: 16 });
    const fromFolder = await call('datasets.inspect', { dataDirs: [photos], scale: 2, patch: 16 });
    expect(all.usable).toBe(fromFolder.usable);
    // Only the chosen photos.
    const chosen = rows
      .filter((r) => r.problem === null)
      .slice(0, 3)
      .map((r) => r.id);
    expect((await call('datasets.inspect', { library: { projectId: project.id, imageIds: chosen }, scale: 2, patch: 16 })).usable).toBe(3);
    const { pairs } = await call('training.preview', { library: { projectId: project.id, imageIds: chosen }, preset: 'old-photo', scale: 2, count: 2, patch: 16 });
    expect(pairs).toHaveLength(2);
    // Nothing chosen, an empty project, or a photo of another project: clear refusals.
    await expect(call('datasets.inspect', { scale: 2, patch: 16 })).rejects.toThrow(/Choose the photos to learn from/);
    const empty = await call('projects.create', { name: 'empty' });
    await expect(call('datasets.inspect', { library: { projectId: empty.id }, scale: 2, patch: 16 })).rejects.toThrow(/has no photos yet/);
    await expect(call('datasets.inspect', { library: { projectId: empty.id, imageIds: [chosen[0]!] }, scale: 2, patch: 16 })).rejects.toThrow(new RegExp(`No image ${chosen[0]} in project ${empty.id}`));
    // The estimate: real steps of this run's model, batch and patch, timed in a worker; minutes for the plan.
    const est = await call('training.estimate', { name: 'timed', library: { projectId: project.id }, scale: 2, preset: 'bicubic', arch: 'compact', archOptions: { channels: 8, blocks: 1 }, steps: 500, batch: 2, patch: 16 });
    expect(est.timedSteps).toBeGreaterThanOrEqual(1);
    expect(est.secondsPerStep).toBeGreaterThan(0);
    expect(est.minutes).toBeCloseTo((500 * est.secondsPerStep) / 60, 9);
    expect(Math.abs(est.stepsFor30Min * est.secondsPerStep - 1800)).toBeLessThanOrEqual(10 * est.secondsPerStep);
    expect(est.backend).toBe('wasm');
    // It leaves nothing behind: no run, no scratch folder.
    expect((await call('training.runs', {})).some((r) => r.name === 'timed')).toBe(false);
    expect(fs.readdirSync(path.join(app.home, 'tmp')).filter((f) => f.startsWith('estimate-'))).toEqual([]);
  });

  it('trains in a worker thread with live events, pauses and resumes, and the model appears', async () => {
    const { runId } = await call('training.start', {
      name: 'tiny-run',
      dataDirs: [photos],
      scale: 2,
      preset: 'bicubic',
      arch: 'compact',
      archOptions: { channels: 8, blocks: 1 },
      steps: 60,
      batch: 2,
      patch: 16,
      evalDir: path.join(photos, 'sub ü'),
    });
    await waitFor((e) => e.type === 'training.progress' && e.runId === runId && e.step >= 5);
    const paused = await call('training.pause', { runId });
    expect(paused.state).toBe('paused');
    expect(paused.step).toBeGreaterThanOrEqual(5);
    expect(paused.step).toBeLessThan(60);
    expect(events.some((e) => e.type === 'training.state' && e.runId === runId && e.state === 'paused')).toBe(true);
    expect((await call('training.resume', { runId })).state).toBe('running');
    const done = await waitFor((e) => e.type === 'training.state' && e.runId === runId && (e.state === 'done' || e.state === 'failed'));
    expect(done).toMatchObject({ state: 'done', modelId: 'tiny-run' });
    const history = await call('training.history', { runId });
    expect(history.map((p) => p.step)).toEqual([...new Set(history.map((p) => p.step))].sort((a, b) => a - b));
    expect(history.at(-1)).toMatchObject({ step: 60 });
    expect(history.some((p) => p.valPsnr !== null)).toBe(true);
    // The evaluation set is scored at exactly the validation points, and lands on the card.
    for (const p of history) expect(p.evalPsnr === null, `step ${p.step}`).toBe(p.valPsnr === null);
    const card = (await call('models.list', {})).find((m) => m.card.id === 'tiny-run')!.card;
    expect(card.metrics!['eval-sub ü']!.psnr).toBeCloseTo(history.at(-1)!.evalPsnr!, 6);
    expect(card.metrics!['eval-sub ü-bicubic']!.psnr).toBeGreaterThan(10);
    // The wizard's sample strip: LR | model | HR of a held-out photo, by media path only.
    const sampleEvent = events.find((e) => e.type === 'training.sample' && e.runId === runId);
    expect(sampleEvent).toBeDefined();
    const sampleFile = await app.media.resolve((sampleEvent as { media: string }).media);
    expect(sampleFile).not.toBeNull();
    const meta = await sharp(sampleFile!).metadata();
    expect(meta.width).toBe(3 * meta.height! + 8);
    const [run] = await call('training.runs', {});
    expect(run).toMatchObject({ id: runId, state: 'done', step: 60, steps: 60, modelId: 'tiny-run' });
    // The photos it trained on are stored with it, as the dataset "run:tiny-run".
    expect(run!.photos).toEqual({ train: 5, val: 1 });
    // Its baseline (bicubic, on the same held-out pair) and its plain outcome against it, as on the card.
    expect(run!.baselines!.bicubic).toBeCloseTo(card.metrics!['heldout-bicubic']!.psnr, 6);
    expect(run!.outcome!.psnr).toBeCloseTo(card.metrics!.heldout!.psnr, 6);
    expect(run!.outcome!.beatsBicubic).toBe(card.metrics!.heldout!.psnr > card.metrics!['heldout-bicubic']!.psnr);
    expect(run!.outcome!.verdict === '').toBe(run!.outcome!.beatsBicubic);
    expect((await call('models.list', {})).map((m) => m.card.id)).toContain('tiny-run');
    // The run's speed is remembered for the wizard's estimate on this machine.
    const est = await call('models.estimate', { arch: 'compact', scale: 2, archOptions: { channels: 8, blocks: 1 } });
    expect(est.params).toBeGreaterThan(0);
    expect(est.trainStepsPerSec).toBeGreaterThan(0);
    await expect(call('training.start', { name: 'tiny-run', dataDirs: [photos], scale: 2, preset: 'bicubic', arch: 'compact' })).rejects.toThrow(/already exists/);
  });

  it('offers only generators to train; the discriminator and a cancelled run get clear usage messages', async () => {
    const archs = await call('models.archs', {});
    expect(archs.find((a) => a.id === 'srgan-discriminator')?.trainable).toBe(false);
    expect(archs.find((a) => a.id === 'compact')?.trainable).toBe(true);
    const base = { dataDirs: [photos], scale: 2 as const, preset: 'bicubic' as const, archOptions: {}, steps: 400, batch: 2, patch: 16 };
    const disc = await call('training.start', { ...base, name: 'disc-run', arch: 'srgan-discriminator' });
    const failed = await waitFor((e) => e.type === 'training.state' && e.runId === disc.runId && (e.state === 'failed' || e.state === 'done'));
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'USAGE', message: expect.stringContaining('discriminator, not a model to train') } });

    const { runId } = await call('training.start', { ...base, name: 'to-cancel', arch: 'compact', archOptions: { channels: 8, blocks: 1 } });
    await waitFor((e) => e.type === 'training.progress' && e.runId === runId);
    const cancelled = await call('training.cancel', { runId });
    expect(cancelled.state).toBe('cancelled');
    // The name stays the run's own, and a cancel keeps the checkpoint: the run is taken up where it stopped.
    const again = call('training.start', { ...base, name: 'to-cancel', arch: 'compact' });
    await expect(again).rejects.toThrow(/already exists \(cancelled\); resume it or choose another name\.$/);
    expect(cancelled.step).toBeGreaterThan(0);
    const seenBefore = events.length;
    expect((await call('training.resume', { runId })).state).toBe('running');
    const next = await waitFor((e) => e.type === 'training.progress' && e.runId === runId && events.indexOf(e) >= seenBefore);
    expect(next.type === 'training.progress' && next.step).toBeGreaterThan(cancelled.step);
    expect((await call('training.cancel', { runId })).state).toBe('cancelled');
  });

  it('imports a model folder without a card by probing it, deletes user models but not bundled ones', async () => {
    const src = path.join(tmpDir('restora-import-'), 'my-model');
    fs.cpSync(path.join(app.home, 'models', 'tiny-x2'), src, { recursive: true });
    fs.rmSync(path.join(src, 'card.json'));
    const m = await call('models.import', { path: src });
    expect(m.card).toMatchObject({ id: 'my-model', scale: 2, arch: 'imported' });
    await expect(call('models.import', { path: src })).rejects.toThrow(/already installed/);
    await expect(call('models.import', { path: photos })).rejects.toThrow(/holds no model file/);
    expect(await call('models.delete', { id: 'my-model' })).toEqual({ deleted: 'my-model' });
    await expect(call('models.delete', { id: 'restora-x2' })).rejects.toThrow(/bundled/);
  });

  it('imports a PyTorch state dict as a Restora model with source, licence and speed; a refused file adds nothing', async () => {
    const fixture = path.join(ROOT, 'test/fixtures/import/srvgg-x4.pth');
    const m = await call('models.import', { path: fixture, name: 'Tiny SRVGG', license: 'CC0 (test fixture)' });
    expect(m.card).toMatchObject({ id: 'Tiny-SRVGG', name: 'Tiny SRVGG', arch: 'srvgg', scale: 4, license: 'CC0 (test fixture)' });
    const sha = crypto.createHash('sha256').update(fs.readFileSync(fixture)).digest('hex');
    expect(m.card.source).toMatchObject({ format: 'pytorch', layout: 'SRVGGNetCompact', files: [{ name: 'srvgg-x4.pth', sha256: sha }] });
    expect(m.card.speed?.outputMpPerSec).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(m.dir, 'model.json'))).toBe(true);
    const before = fs.readdirSync(path.join(app.home, 'models')).sort();
    for (const bad of ['evil.pth', 'unknown-arch.pth']) {
      await expect(call('models.import', { path: path.join(ROOT, 'test/fixtures/import', bad) })).rejects.toThrow(bad);
    }
    expect(fs.readdirSync(path.join(app.home, 'models')).sort()).toEqual(before);
    expect(await call('models.delete', { id: 'Tiny-SRVGG' })).toEqual({ deleted: 'Tiny-SRVGG' });
  });

  it('keeps settings, refuses defaults naming unknown models, and types bad payloads', async () => {
    const s = await call('settings.set', { theme: 'dark', tile: 256, defaults: { 'upscale-x2': 'tiny-x2' } });
    expect(s).toMatchObject({ theme: 'dark', tile: 256, defaults: { 'upscale-x2': 'tiny-x2' } });
    expect(await call('settings.get', {})).toEqual(s);
    await expect(call('settings.set', { defaults: { 'upscale-x2': 'nope' } })).rejects.toThrow(/Unknown model/);
    expect(parseRequest('settings.set', { theme: 'neon' })).toMatchObject({ ok: false });
    expect(parseRequest('library.import', { projectId: 1, paths: [] })).toMatchObject({ ok: false });
    await expect(call('app.openPath', { path: photos })).rejects.toThrow(/desktop app/);
  });
});
