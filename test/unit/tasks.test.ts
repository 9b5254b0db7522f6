/**
 * Tasks: one choice of "task + scale -> model" (taskModel) for the studio's buttons, the
 * CLI and the batch service; which tasks a model may be the default for.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASKS, taskChoices, taskFor, taskModel, tasksForModel } from '../../src/shared/api.js';
import { createApp, type App } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { tmpDir } from '../helpers.js';

describe('tasks', () => {
  it('names every task by kind and scale, with restore at x2 only and clean up at x2 and x4', () => {
    for (const t of TASKS) expect(taskFor(t.kind, t.scale)).toBe(t);
    expect(taskFor('restore')?.id).toBe('restore');
    expect(taskFor('upscale')?.id).toBe('upscale-x2');
    expect(taskFor('cleanup', 4)?.settingsKey).toBe('cleanup-x4');
    expect(taskFor('restore', 4)).toBeUndefined();
    expect(taskFor('denoise', 2)).toBeUndefined();
    expect(taskChoices()).toBe('restore (x2), upscale (x2, x4), cleanup (x2, x4)');
  });

  it("runs the user's default for a task, else the bundled fallback", () => {
    const c4 = taskFor('cleanup', 4)!;
    expect(taskModel(c4, undefined)).toBe('restora-clean-x4');
    expect(taskModel(taskFor('cleanup', 2)!, {})).toBe('restora-clean-x2');
    expect(taskModel(c4, { 'cleanup-x4': 'my-x4', 'upscale-x4': 'other' })).toBe('my-x4');
  });

  it('offers a model the tasks of its scale that fit it', () => {
    const ids = (task: string, scale: number) => tasksForModel({ task, scale }).map((t) => t.id);
    expect(ids('restore', 2)).toEqual(['restore', 'cleanup']);
    expect(ids('upscale', 2)).toEqual(['upscale-x2', 'cleanup']);
    expect(ids('upscale', 4)).toEqual(['upscale-x4', 'cleanup-x4']);
    expect(ids('upscale', 3)).toEqual([]);
    expect(ids('inpaint', 1)).toEqual([]);
  });
});

describe('the batch service and the studio use the same choice', () => {
  let app: App;
  let home: string;
  beforeAll(() => {
    home = tmpDir('restora-tasks-');
    app = createApp({ home, threads: 1, backend: 'wasm' });
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('resolves "no model" to the Upscale task\'s model, following the saved defaults', async () => {
    expect(app.models.resolve(undefined, 2).card.id).toBe('restora-x2');
    expect(app.models.resolve(undefined, 4).card.id).toBe('restora-x4');
    const handlers = createHandlers(app);
    // restora-oldphoto-x2 as the x2 upscaler: what Models' "Make default for upscale-x2" saves.
    await handlers['settings.set']({ defaults: { 'upscale-x2': 'restora-oldphoto-x2' } });
    expect(app.models.resolve(undefined, 2).card.id).toBe(taskModel(taskFor('upscale', 2)!, app.settings.get().defaults));
    expect(app.models.resolve(undefined, 2).card.id).toBe('restora-oldphoto-x2');
    // A batch without a model picks it too.
    const dir = tmpDir('restora-tasks-in-');
    fs.copyFileSync(path.join('resources', 'samples', 'coffee.png'), path.join(dir, 'a.png'));
    const job = app.jobs().prepare({ inputs: [dir], outDir: path.join(dir, 'out'), format: 'png', nameTemplate: '{name}-{model}', recursive: false });
    // The job stores the model it resolved (and runs that one).
    const spec = JSON.parse((app.db().prepare('SELECT spec_json FROM export_jobs WHERE id = ?').get(job.jobId) as { spec_json: string }).spec_json) as { modelId: string };
    expect(spec.modelId).toBe('restora-oldphoto-x2');
  });

  it("refuses a default whose scale is not its task's", async () => {
    const handlers = createHandlers(app);
    await expect(handlers['settings.set']({ defaults: { 'cleanup-x4': 'restora-realworld-x2' } })).rejects.toThrow(/x2; it cannot be the default for cleanup-x4/);
  });
});
