/**
 * A training recipe through the studio's API (what IPC and HTTP call): `training.start` with
 * `recipe: 'vae-latent'` trains its three stages in order in the training worker, its progress
 * events say which stage is stepping, and the same service run again passes over every stage
 * whose model is installed.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent, TrainingStage } from '../../src/shared/api.js';
import type { ApiHandlers } from '../../src/shared/contract.js';
import { createApp, type App } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { initBackend } from '../../src/main/ml/backend.js';
import { tmpDir } from '../helpers.js';
import { apiCaller, waitForEvent } from '../apiHelpers.js';

let app: App;
let handlers: ApiHandlers;
let home = '';
let photos = '';
const events: AppEvent[] = [];

const call = apiCaller(() => handlers);
const waitFor = (pred: (e: AppEvent) => boolean, timeoutMs = 240_000): Promise<AppEvent> => waitForEvent(app, events, pred, timeoutMs);

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', threads: 1 });
  home = tmpDir('restora-recipe-api-');
  app = createApp({ home, threads: 1, backend: 'wasm' });
  app.events.subscribe((e) => events.push(e));
  handlers = createHandlers(app);
  photos = tmpDir('restora-photos-');
  // As the CLI's recipe test: five small noisy photos, tiny VAEs, a few steps per stage.
  for (let i = 0; i < 5; i++) {
    await sharp({ create: { width: 96, height: 80, channels: 3, background: { r: 40 * i, g: 120, b: 200 - 30 * i }, noise: { type: 'gaussian', mean: 110, sigma: 40 } } })
      .blur(1.2)
      .png()
      .toFile(path.join(photos, `p${i}.png`));
  }
});

afterAll(async () => {
  await app?.close();
});

const recipe = { name: 'latent', scale: 2 as const, preset: 'old-photo' as const, arch: 'vae', archOptions: { channels: 4, latent: 2, blocks: 1 }, steps: 4, batch: 2, patch: 16, recipe: 'vae-latent' as const };

describe('the VAE latent recipe through the API', () => {
  it('trains its three stages in order, each said in the progress events, and installs three models', async () => {
    const { runId } = await call('training.start', { ...recipe, dataDirs: [photos] });
    const end = await waitFor((x) => x.type === 'training.state' && x.runId === runId && x.state !== 'running');
    expect(end).toMatchObject({ state: 'done', modelId: 'latent' });
    const progress = events.filter((x): x is Extract<AppEvent, { type: 'training.progress' }> => x.type === 'training.progress' && x.runId === runId);
    // Every step of the run names its stage; the stages step one after the other, each from 1 to its steps.
    expect(progress.every((x) => x.stage)).toBe(true);
    const order = progress.map((x) => `${x.stage!.index}/${x.stage!.total} ${x.stage!.stage} ${x.stage!.name} ${x.stage!.status}`).filter((s, i, a) => a.indexOf(s) === i);
    expect(order).toEqual(['1/3 clean latent-clean starting', '2/3 degraded latent-degraded starting', '3/3 mapping latent starting']);
    expect(progress.filter((x) => x.stage!.stage === 'clean').map((x) => x.step)).toEqual([1, 2, 3, 4]);
    const cards = new Map((await call('models.list', {})).map((m) => [m.card.id, m.card]));
    expect(cards.get('latent-clean')).toMatchObject({ arch: 'vae', scale: 1, archOptions: { levels: 3 } });
    expect(cards.get('latent-degraded')).toMatchObject({ arch: 'vae', scale: 1, archOptions: { levels: 2 } });
    expect(cards.get('latent')).toMatchObject({ arch: 'vae-mapping', scale: 2 });
    // Each stage is a run of its own, finished in order; the recipe's run is the last stage's.
    const runs = await call('training.runs', {});
    const byName = new Map(runs.map((r) => [r.name, r]));
    expect([...byName.keys()].sort()).toEqual(['latent', 'latent-clean', 'latent-degraded']);
    for (const r of runs) expect(r.state).toBe('done');
    expect(byName.get('latent-clean')!.id).toBeLessThan(byName.get('latent-degraded')!.id);
    expect(byName.get('latent')).toMatchObject({ id: runId, arch: 'vae-mapping', modelId: 'latent' });
    // The run's sample is the last stage's.
    expect(app.trainingRunner().sampleFile(runId)).toBe(path.join(home, 'runs', 'latent', 'sample.png'));
  });

  it('run again, the same service passes over every installed stage and trains nothing', async () => {
    const stages: TrainingStage[] = [];
    const before = fs.statSync(path.join(home, 'models', 'latent', 'card.json')).mtimeMs;
    const training = await app.training();
    const out = await training.trainRecipe({ ...recipe, dataDirs: [photos] }, undefined, undefined, undefined, undefined, { onStage: (s) => stages.push(s) });
    expect(out).toEqual({ modelId: 'latent', results: [] });
    expect(stages.map((s) => `${s.stage} ${s.status}`)).toEqual(['clean installed', 'degraded installed', 'mapping installed']);
    expect(fs.statSync(path.join(home, 'models', 'latent', 'card.json')).mtimeMs).toBe(before);
  });

  it('takes up the first stage whose model is missing (from its checkpoint), and refuses a request the recipe does not fit', async () => {
    fs.rmSync(path.join(home, 'models', 'latent'), { recursive: true });
    const stages: string[] = [];
    const training = await app.training();
    const out = await training.trainRecipe({ ...recipe, name: 'latent', dataDirs: [photos] }, undefined, undefined, undefined, undefined, { onStage: (s) => stages.push(`${s.stage} ${s.status}`) });
    // Its run kept its checkpoint: the stage resumes from it rather than starting over.
    expect(fs.existsSync(path.join(home, 'runs', 'latent', 'checkpoint', 'state.json'))).toBe(true);
    expect(stages).toEqual(['clean installed', 'degraded installed', 'mapping resuming']);
    expect(out.results.map((r) => r.modelId)).toEqual(['latent']);
    await expect(call('training.start', { ...recipe, arch: 'compact', name: 'wrong', dataDirs: [photos] })).rejects.toThrow(/recipe trains VAEs \(arch vae\) for a x2 model/);
    await expect(call('training.start', { ...recipe, gan: true, name: 'wrong', dataDirs: [photos] })).rejects.toThrow(/no GAN stage/);
    await expect(call('training.start', { ...recipe, recipe: 'nope' as 'vae-latent', name: 'wrong', dataDirs: [photos] })).rejects.toThrow(/recipe/);
  });
});
