/**
 * Batch jobs: one identity for one set of inputs, outputs and options however the request
 * was spelled (the CLI and the studio), and writes fenced by the item's claim (issue 24,
 * items 9 and 10). The engine runs in-process with a stand-in compute that writes a few
 * bytes, so what is tested is the bookkeeping, not the model.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchSpec } from '../../src/shared/api.js';
import { parseRequest } from '../../src/shared/contract.js';
import { openDatabase, type Db } from '../../src/main/db/database.js';
import { BatchJobs } from '../../src/main/jobs/batchJob.js';
import type { ComputeHost } from '../../src/main/ml/worker/computeHost.js';
import type { UpscaleFileRequest } from '../../src/main/ml/infer/upscaleFile.js';
import { ModelLibrary } from '../../src/main/ml/store/modelLibrary.js';
import { bundledModelsDir } from '../../src/main/paths.js';
import { createApp, type App } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { RestoraError } from '../../src/shared/errors.js';
import { installTinyModel, tmpDir } from '../helpers.js';

let home = '';
let db: Db;
let models: ModelLibrary;

type Upscale = (req: UpscaleFileRequest, opts: { signal?: AbortSignal }) => Promise<void>;
/** Only `upscale` is used by the batch engine. */
const fakeCompute = (upscale: Upscale) =>
  ({
    upscale: async (_dir: string | null, req: UpscaleFileRequest, opts: { signal?: AbortSignal } = {}) => {
      await upscale(req, opts);
      return { width: 1, height: 1, outWidth: 2, outHeight: 2, keptColours: false, keptHighlights: false };
    },
  }) as unknown as ComputeHost;

function inputsDir(n: number): string {
  const dir = tmpDir('restora-ident-in-');
  // The engine never decodes them here: any bytes with an image extension.
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dir, `p${i}.png`), `photo ${i}`);
  return dir;
}

const item = (jobId: number) => db.prepare('SELECT id, state, claimed_by, attempts FROM job_items WHERE job_id = ? ORDER BY id').all(jobId) as { id: number; state: string; claimed_by: string | null; attempts: number }[];

beforeAll(async () => {
  home = tmpDir('restora-ident-');
  await installTinyModel(home);
  db = openDatabase(path.join(home, 'restora.db'));
  models = new ModelLibrary(bundledModelsDir(), path.join(home, 'models'));
});
afterAll(() => db?.close());

describe('batch job identity (item 9)', () => {
  it('one job for one spec in any key order and with its defaults spelled out or left implicit', () => {
    const jobs = new BatchJobs(
      db,
      models,
      fakeCompute(async () => undefined),
    );
    const inp = inputsDir(2);
    const out = tmpDir();
    // As the CLI builds it.
    const cli: BatchSpec = { inputs: [inp], outDir: out, format: 'png', nameTemplate: '{name}', recursive: true, modelId: 'tiny-x2' };
    const first = jobs.prepare(cli);
    expect(first.resumed).toBe(false);
    // Other key orders, relative paths, a duplicate input, and the defaults made explicit.
    const spelled: BatchSpec[] = [
      { recursive: true, nameTemplate: '{name}', modelId: 'tiny-x2', format: 'png', outDir: out, inputs: [inp] },
      { inputs: [path.relative(process.cwd(), inp), inp], outDir: `${out}/`, modelId: 'tiny-x2', scale: 2, format: 'png', quality: 92, nameTemplate: '{name}', recursive: true, tile: 384, keepColours: false },
    ];
    for (const s of spelled) expect(jobs.prepare(s), JSON.stringify(s)).toEqual({ jobId: first.jobId, resumed: true });
    // A real difference is another job.
    expect(jobs.prepare({ ...cli, tile: 128 }).jobId).not.toBe(first.jobId);
    expect(jobs.prepare({ ...cli, keepColours: true }).jobId).not.toBe(first.jobId);
  });

  it('the same batch from the CLI and from the studio is one job: the studio resumes what the CLI finished', async () => {
    const inp = inputsDir(3);
    const out = tmpDir();
    let computed = 0;
    const jobs = new BatchJobs(
      db,
      models,
      fakeCompute(async (req) => (computed++, fs.writeFileSync(req.output, 'out'))),
    );
    // `restora batch IN --out OUT --model tiny-x2 --recursive`, as cmdBatch spells it.
    const cli = jobs.prepare({ inputs: [inp], outDir: out, format: 'png', nameTemplate: '{name}', recursive: true, modelId: 'tiny-x2' });
    expect((await jobs.run(cli.jobId)).done).toBe(3);
    expect(computed).toBe(3);

    // The Export view's request, through the contract's schema and the studio's handler (settings' tile filled in).
    const app: App = createApp({ home, backend: 'wasm', threads: 1 });
    try {
      const handlers = createHandlers(app);
      const req = parseRequest('jobs.start', { inputs: [inp], outDir: out, modelId: 'tiny-x2', format: 'png', nameTemplate: '{name}' });
      if (!req.ok) throw new Error(req.message);
      const started = await handlers['jobs.start'](req.value as Parameters<(typeof handlers)['jobs.start']>[0]);
      expect(started).toEqual({ jobId: cli.jobId, resumed: true });
      await expect.poll(() => app.jobs().summary(cli.jobId).state).toBe('done');
      expect(
        app
          .jobs()
          .list()
          .filter((j) => path.resolve(j.spec.outDir) === path.resolve(out)),
      ).toHaveLength(1);
    } finally {
      await app.close();
    }
    expect(computed).toBe(3);
  });

  it('a job stored by an earlier version (JSON.stringify signature) still resumes, and takes the canonical signature', () => {
    const inp = inputsDir(1);
    const out = tmpDir();
    const spec: BatchSpec = { inputs: [inp], outDir: out, format: 'png', nameTemplate: '{name}', recursive: true, modelId: 'tiny-x2' };
    // What versions before canonical signatures stored for this spec.
    const norm = { ...spec, inputs: spec.inputs.map((p) => path.resolve(p)).sort(), outDir: path.resolve(spec.outDir), modelId: 'tiny-x2' };
    const legacy = crypto.createHash('sha256').update(JSON.stringify(norm)).digest('hex').slice(0, 32);
    const oldId = Number(db.prepare('INSERT INTO export_jobs (signature, spec_json) VALUES (?, ?)').run(legacy, JSON.stringify(spec)).lastInsertRowid);
    db.prepare("INSERT INTO job_items (job_id, input_path, output_path, state) VALUES (?, ?, ?, 'done')").run(oldId, path.join(inp, 'p0.png'), path.join(out, 'p0.png'));

    const jobs = new BatchJobs(
      db,
      models,
      fakeCompute(async () => undefined),
    );
    expect(jobs.prepare(spec)).toEqual({ jobId: oldId, resumed: true });
    expect(item(oldId)).toMatchObject([{ state: 'done' }]);
    // Spelled another way, it is found too (by the canonical signature it now has).
    expect(jobs.prepare({ ...spec, tile: 384 })).toEqual({ jobId: oldId, resumed: true });
  });
});

describe('writes fenced by the claim (item 10)', () => {
  it('a runner whose claim was taken over while it worked writes nothing; the item is written once, under a live claim', async () => {
    const inp = inputsDir(1);
    const out = tmpDir();
    let calls = 0;
    let jobId = 0;
    const jobs = new BatchJobs(
      db,
      models,
      fakeCompute(async (req) => {
        calls++;
        if (calls === 1) {
          // Meanwhile another runner took the expired claim over (its claim lapses soon after, and ours takes it back).
          db.prepare('UPDATE job_items SET claimed_by = ?, attempts = attempts + 1, claim_expires_ms = ? WHERE job_id = ?').run('other-runner', Date.now() + 300, jobId);
        }
        fs.writeFileSync(req.output, `attempt ${calls}`);
      }),
      60_000,
    );
    jobId = jobs.prepare({ inputs: [inp], outDir: out, format: 'png', nameTemplate: '{name}', recursive: true, modelId: 'tiny-x2' }).jobId;
    const s = await jobs.run(jobId);
    expect(s).toMatchObject({ state: 'done', done: 1 });
    expect(calls).toBe(2);
    // Not the bytes of the attempt that lost its claim.
    expect(fs.readFileSync(path.join(out, 'p0.png'), 'utf8')).toBe('attempt 2');
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('a claim that expired (a stalled runner) is not written on; the item is redone under a new claim', async () => {
    const inp = inputsDir(1);
    const out = tmpDir();
    let calls = 0;
    let jobId = 0;
    const jobs = new BatchJobs(
      db,
      models,
      fakeCompute(async (req) => {
        calls++;
        // The first attempt outlives its claim without any renewal (a stalled main thread).
        if (calls === 1) db.prepare('UPDATE job_items SET claim_expires_ms = ? WHERE job_id = ?').run(Date.now() - 1, jobId);
        fs.writeFileSync(req.output, `attempt ${calls}`);
      }),
      60_000,
    );
    jobId = jobs.prepare({ inputs: [inp], outDir: out, format: 'png', nameTemplate: '{name}', recursive: true, modelId: 'tiny-x2' }).jobId;
    expect(await jobs.run(jobId)).toMatchObject({ state: 'done', done: 1 });
    expect(fs.readFileSync(path.join(out, 'p0.png'), 'utf8')).toBe('attempt 2');
    expect(item(jobId)).toMatchObject([{ state: 'done', attempts: 2 }]);
  });

  it('the heartbeat stops the item when its renewal fails', async () => {
    const inp = inputsDir(1);
    const out = tmpDir();
    let jobId = 0;
    let stoppedAfterMs = -1;
    const jobs = new BatchJobs(
      db,
      models,
      fakeCompute(async (req, { signal }) => {
        const t0 = Date.now();
        // Another runner took the item and finished it.
        db.prepare("UPDATE job_items SET claimed_by = NULL, claim_expires_ms = NULL, attempts = attempts + 1, state = 'done' WHERE job_id = ?").run(jobId);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        if (signal?.aborted) {
          stoppedAfterMs = Date.now() - t0;
          throw new RestoraError('CANCELLED', 'cancelled');
        }
        fs.writeFileSync(req.output, 'late');
      }),
      300,
    );
    jobId = jobs.prepare({ inputs: [inp], outDir: out, format: 'png', nameTemplate: '{name}', recursive: true, modelId: 'tiny-x2' }).jobId;
    const s = await jobs.run(jobId);
    // Stopped by the first failed renewal (every 100 ms), not left to run for 5 s.
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(0);
    expect(stoppedAfterMs).toBeLessThan(2000);
    expect(s).toMatchObject({ state: 'done', done: 1, failed: 0 });
    expect(fs.existsSync(path.join(out, 'p0.png'))).toBe(false);
  });

  it('a store too busy to renew the claim neither crashes the runner nor lets the lapsed claim write', async () => {
    const file = path.join(tmpDir(), 'busy.db');
    const busyDb = openDatabase(file, { busyTimeoutMs: 50 });
    const other = new Database(file);
    const inp = inputsDir(1);
    const out = tmpDir();
    let calls = 0;
    try {
      const jobs = new BatchJobs(
        busyDb,
        models,
        fakeCompute(async (req, { signal }) => {
          calls++;
          if (calls === 1) {
            // Another process holds the write lock past the busy timeout and past the claim (300 ms).
            other.exec('BEGIN EXCLUSIVE');
            setTimeout(() => other.exec('COMMIT'), 600);
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 5000);
              signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
            });
            if (signal?.aborted) throw new RestoraError('CANCELLED', 'cancelled');
          }
          fs.writeFileSync(req.output, `attempt ${calls}`);
        }),
        300,
      );
      const { jobId } = jobs.prepare({ inputs: [inp], outDir: out, format: 'png', nameTemplate: '{name}', recursive: true, modelId: 'tiny-x2' });
      expect(await jobs.run(jobId)).toMatchObject({ state: 'done', done: 1 });
      // The first attempt was stopped by the first renewal after the lock, and wrote nothing.
      expect(calls).toBe(2);
      expect(fs.readFileSync(path.join(out, 'p0.png'), 'utf8')).toBe('attempt 2');
    } finally {
      other.close();
      busyDb.close();
    }
  });
});
