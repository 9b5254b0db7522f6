/**
 * "Learn from a stronger model" through the studio's API (what IPC and HTTP call): the
 * teacher's cost measured in a worker thread, a distillation run in the training worker
 * with its teacher's progress as events, and the refusal of an unconfirmed costly run.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent, ModelCard } from '../../src/shared/api.js';
import type { ApiHandlers } from '../../src/shared/contract.js';
import { createApp, type App } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { initBackend } from '../../src/main/ml/backend.js';
import { saveLayersModel, writeCard } from '../../src/main/ml/store/modelStore.js';
import { buildSeeded } from '../../src/main/ml/train/trainer.js';
import { synthImage, tmpDir, toUint8 } from '../helpers.js';
import { apiCaller, waitForEvent } from '../apiHelpers.js';

let app: App;
let handlers: ApiHandlers;
let home = '';
let photos = '';
const events: AppEvent[] = [];

const call = apiCaller(() => handlers);
const waitFor = (pred: (e: AppEvent) => boolean, timeoutMs = 120_000): Promise<AppEvent> => waitForEvent(app, events, pred, timeoutMs);

async function installTeacher(id: string, archOptions: Record<string, number>): Promise<void> {
  const m = buildSeeded({ arch: 'compact', scale: 2, archOptions, seed: 7 });
  const dir = path.join(home, 'models', id);
  await saveLayersModel(m, dir);
  writeCard(dir, { id, name: id, arch: 'compact', archOptions, scale: 2, params: m.countParams(), task: 'upscale', license: 'BSD-3-Clause' });
  m.dispose();
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', threads: 1 });
  home = tmpDir('restora-teacher-api-');
  await installTeacher('tiny-teacher', { channels: 4, blocks: 1 });
  await installTeacher('slow-teacher', { channels: 64, blocks: 8 });
  app = createApp({ home, threads: 1, backend: 'wasm' });
  app.events.subscribe((e) => events.push(e));
  handlers = createHandlers(app);
  photos = tmpDir('restora-photos-');
  for (let i = 0; i < 3; i++)
    await sharp(toUint8(synthImage(96, 96, i + 1)), { raw: { width: 96, height: 96, channels: 3 } })
      .png()
      .toFile(path.join(photos, `p${i}.png`));
});

afterAll(async () => {
  await app?.close();
});

const base = { dataDirs: [] as string[], scale: 2 as const, preset: 'none' as const, arch: 'compact', archOptions: { channels: 4, blocks: 1 }, steps: 4, batch: 2, patch: 16 };

describe('distillation through the API', () => {
  it('measures the teacher in a worker, trains with it (its progress as events) and the card records it', async () => {
    const e = await call('training.estimateTeacher', { name: 'student', dataDirs: [photos], scale: 2, preset: 'none', teacher: 'tiny-teacher', teacherRegions: 3 });
    expect(e).toMatchObject({ teacher: 'tiny-teacher', backend: 'wasm', regions: 4, cached: 0, toCompute: 4, regionSide: 80, confirmNeeded: false });
    expect(e.secondsPerRegion).toBeGreaterThan(0);
    const { runId } = await call('training.start', { ...base, dataDirs: [photos], name: 'student', teacher: 'tiny-teacher', teacherRegions: 3, teacherConfirmed: true });
    const done = await waitFor((x) => x.type === 'training.state' && x.runId === runId && (x.state === 'done' || x.state === 'failed'));
    expect(done).toMatchObject({ state: 'done', modelId: 'student' });
    const teacherEvents = events.filter((x): x is Extract<AppEvent, { type: 'training.teacher' }> => x.type === 'training.teacher' && x.runId === runId);
    expect(teacherEvents.map((x) => x.done)).toEqual([1, 2, 3, 4]);
    expect(teacherEvents.at(-1)).toMatchObject({ total: 4 });
    const card = (await call('models.list', {})).find((m) => m.card.id === 'student')!.card as ModelCard;
    expect(card.teacher).toMatchObject({ id: 'tiny-teacher', license: 'BSD-3-Clause', regions: 3 });
    const [run] = await call('training.runs', {});
    expect(run).toMatchObject({ id: runId, state: 'done', preset: 'none' });
    // The same estimate now counts the run's cache.
    expect(await call('training.estimateTeacher', { name: 'student', dataDirs: [photos], scale: 2, preset: 'none', teacher: 'tiny-teacher', teacherRegions: 3 })).toMatchObject({ cached: 4, toCompute: 0 });
  });

  it('names the choices for a wrong teacher, and a costly run unconfirmed fails before writing anything', async () => {
    await expect(call('training.estimateTeacher', { dataDirs: [photos], scale: 4, preset: 'none', teacher: 'tiny-teacher' })).rejects.toThrow(/tiny-teacher upscales x2; this run is x4.*Models that can teach a x4 run: .*restora-x4/);
    await expect(call('training.estimateTeacher', { dataDirs: [photos], scale: 2, preset: 'none', teacher: 'restora-scratch-detect' })).rejects.toThrow(/damage net/);
    await expect(call('training.estimateTeacher', { dataDirs: [photos], scale: 2, preset: 'none', teacher: 'x', teacherRegions: 0 })).rejects.toThrow(/teacherRegions/);
    const costly = await call('training.estimateTeacher', { dataDirs: [photos], scale: 2, preset: 'none', teacher: 'slow-teacher', teacherRegions: 100_000 });
    expect(costly.confirmNeeded).toBe(true);
    const { runId } = await call('training.start', { ...base, dataDirs: [photos], name: 'costly', teacher: 'slow-teacher', teacherRegions: 100_000 });
    const failed = await waitFor((x) => x.type === 'training.state' && x.runId === runId && (x.state === 'failed' || x.state === 'done'));
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'USAGE', message: expect.stringMatching(/over an hour/) } });
    expect(fs.existsSync(path.join(home, 'runs', 'costly'))).toBe(false);
  });
});
