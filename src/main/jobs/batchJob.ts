/**
 * Resumable batch export. A job and its items live in SQLite; the job's identity
 * is its normalised spec, so running the same command again resumes it: done
 * items are skipped, items caught mid-write are redone (outputs are written with
 * temp + rename, so a crash never leaves a truncated file under the final name).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_TILE, type OutputFormat } from '../../shared/api.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import type { Db } from '../db/database.js';
import type { ComputeHost } from '../ml/computeHost.js';
import type { ModelLibrary } from '../ml/modelLibrary.js';
import { enumerateInputs } from '../imaging/inputs.js';
import { tempPrefix } from '../imaging/atomic.js';

export interface BatchSpec {
  inputs: string[];
  outDir: string;
  modelId?: string;
  scale?: number;
  format: OutputFormat;
  quality?: number;
  /** Output name template: {name} {model} {scale} {ext}. */
  nameTemplate: string;
  recursive: boolean;
  tile?: number;
}

export interface JobProgress {
  jobId: number;
  done: number;
  failed: number;
  total: number;
  current?: string;
  ratePerSec: number;
  etaSec: number;
}

export interface JobSummary {
  id: number;
  state: string;
  total: number;
  done: number;
  failed: number;
  pending: number;
  createdAt: string;
  spec: BatchSpec;
  failures: { input: string; code: string; message: string }[];
}

export function renderName(template: string, input: string, modelId: string, scale: number, format: OutputFormat): string {
  const name = path.basename(input, path.extname(input));
  const out = template.replaceAll('{name}', name).replaceAll('{model}', modelId).replaceAll('{scale}', String(scale)).replaceAll('{ext}', format);
  if (!out || out.includes('/') || out.includes('\\') || out === '.' || out === '..') {
    throw new RestoraError('USAGE', `--name "${template}" gives an invalid file name "${out}"`);
  }
  return out.endsWith(`.${format}`) ? out : `${out}.${format}`;
}

function signature(spec: BatchSpec, modelId: string): string {
  const norm = { ...spec, inputs: spec.inputs.map((p) => path.resolve(p)).sort(), outDir: path.resolve(spec.outDir), modelId };
  return crypto.createHash('sha256').update(JSON.stringify(norm)).digest('hex').slice(0, 32);
}

function removeStaleTemps(output: string): void {
  const dir = path.dirname(output);
  const prefix = tempPrefix(output);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(prefix) && n.endsWith('.part')) fs.rmSync(path.join(dir, n), { force: true });
}

export class BatchJobs {
  constructor(
    private readonly db: Db,
    private readonly models: ModelLibrary,
    private readonly compute: ComputeHost,
  ) {}

  /** Creates the job for `spec`, or finds the same job from an earlier run. */
  prepare(spec: BatchSpec): { jobId: number; resumed: boolean } {
    const model = this.models.resolve(spec.modelId, spec.scale);
    const sig = signature(spec, model.card.id);
    const existing = this.db.prepare('SELECT id FROM export_jobs WHERE signature = ?').get(sig) as { id: number } | undefined;
    const all = enumerateInputs(spec.inputs, spec.recursive);
    const entries = all.filter((e) => !e.missing).map((e) => ({ ...e, input: path.resolve(e.input) }));
    const missing = all.filter((e) => e.missing).map((e) => path.resolve(e.input));
    const insertJob = this.db.prepare('INSERT INTO export_jobs (signature, spec_json) VALUES (?, ?)');
    const insertItem = this.db.prepare(
      'INSERT OR IGNORE INTO job_items (job_id, input_path, output_path, state, error_code, error_message) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const jobId = this.db.transaction(() => {
      const id = existing?.id ?? Number(insertJob.run(sig, JSON.stringify({ ...spec, modelId: model.card.id })).lastInsertRowid);
      const claimed = new Map<string, string>();
      const outDir = path.resolve(spec.outDir);
      for (const e of entries) {
        let out = '';
        let err: [string, string] | null = null;
        try {
          out = path.join(outDir, e.relDir, renderName(spec.nameTemplate, e.input, model.card.id, model.card.scale, spec.format));
          const prior = claimed.get(out);
          if (prior) err = ['WOULD_OVERWRITE_INPUT', `${e.input}: output ${out} is also the output of ${prior}; use --name with {ext} or rename one`];
          else if (out === e.input) err = ['WOULD_OVERWRITE_INPUT', `${e.input}: output would overwrite the input; choose another --out folder`];
          claimed.set(out, e.input);
        } catch (x) {
          err = ['USAGE', errorMessage(x)];
        }
        insertItem.run(id, e.input, out, err ? 'failed' : 'pending', err?.[0] ?? null, err?.[1] ?? null);
      }
      for (const m of missing) insertItem.run(id, m, '', 'failed', 'NOT_FOUND', `${m}: no such file or folder`);
      this.db.prepare("UPDATE export_jobs SET state = 'running', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?").run(id);
      return id;
    })();
    return { jobId, resumed: Boolean(existing) };
  }

  async run(jobId: number, hooks: { onProgress?: (p: JobProgress) => void; signal?: AbortSignal } = {}): Promise<JobSummary> {
    const job = this.db.prepare('SELECT spec_json FROM export_jobs WHERE id = ?').get(jobId) as { spec_json: string } | undefined;
    if (!job) throw new RestoraError('NOT_FOUND', `No export job ${jobId}.`);
    const spec = JSON.parse(job.spec_json) as BatchSpec & { modelId: string };
    const model = this.models.get(spec.modelId);
    // Items caught 'running' by a crash go back to pending.
    this.db.prepare("UPDATE job_items SET state = 'pending' WHERE job_id = ? AND state = 'running'").run(jobId);
    const todo = this.db.prepare("SELECT id, input_path, output_path FROM job_items WHERE job_id = ? AND state = 'pending' ORDER BY id").all(jobId) as {
      id: number;
      input_path: string;
      output_path: string;
    }[];
    const counts = () => this.countItems(jobId);
    const setState = this.db.prepare(
      "UPDATE job_items SET state = ?, error_code = ?, error_message = ?, ms = ?, attempts = attempts + ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
    );
    const started = performance.now();
    let processed = 0;
    for (const item of todo) {
      if (hooks.signal?.aborted) break;
      removeStaleTemps(item.output_path);
      if (fs.existsSync(item.output_path)) {
        // Written by an earlier run that died before recording it: outputs appear only by rename, so it is complete.
        setState.run('done', null, null, null, 0, item.id);
        continue;
      }
      setState.run('running', null, null, null, 1, item.id);
      const t0 = performance.now();
      try {
        fs.mkdirSync(path.dirname(item.output_path), { recursive: true });
        await this.compute.upscale(
          model.dir,
          {
            input: item.input_path,
            output: item.output_path,
            scale: model.card.scale,
            format: spec.format,
            tile: spec.tile ?? DEFAULT_TILE,
            overlap: 0,
            ...(spec.quality !== undefined ? { quality: spec.quality } : {}),
          },
          hooks.signal ? { signal: hooks.signal } : {},
        );
        setState.run('done', null, null, Math.round(performance.now() - t0), 0, item.id);
      } catch (err) {
        const code = err instanceof RestoraError ? err.code : 'INTERNAL';
        if (code === 'CANCELLED') {
          setState.run('pending', null, null, null, 0, item.id);
          break;
        }
        setState.run('failed', code, errorMessage(err), null, 0, item.id);
      }
      processed++;
      const c = counts();
      const rate = processed / ((performance.now() - started) / 1000);
      hooks.onProgress?.({ jobId, done: c.done, failed: c.failed, total: c.total, current: item.input_path, ratePerSec: rate, etaSec: (c.total - c.done - c.failed) / Math.max(rate, 1e-9) });
    }
    const c = counts();
    const finished = c.done + c.failed === c.total;
    const state = hooks.signal?.aborted ? 'cancelled' : finished ? (c.failed ? 'failed' : 'done') : 'running';
    this.db.prepare("UPDATE export_jobs SET state = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?").run(state, jobId);
    return this.summary(jobId);
  }

  private countItems(jobId: number): { total: number; done: number; failed: number; pending: number } {
    return this.db
      .prepare(
        "SELECT count(*) AS total, coalesce(sum(state IN ('done','skipped')),0) AS done, coalesce(sum(state = 'failed'),0) AS failed, coalesce(sum(state IN ('pending','running')),0) AS pending FROM job_items WHERE job_id = ?",
      )
      .get(jobId) as { total: number; done: number; failed: number; pending: number };
  }

  summary(jobId: number): JobSummary {
    const j = this.db.prepare('SELECT id, state, created_at, spec_json FROM export_jobs WHERE id = ?').get(jobId) as {
      id: number;
      state: string;
      created_at: string;
      spec_json: string;
    };
    const c = this.countItems(jobId);
    const failures = (
      this.db.prepare("SELECT input_path, error_code, error_message FROM job_items WHERE job_id = ? AND state = 'failed' ORDER BY id").all(jobId) as {
        input_path: string;
        error_code: string;
        error_message: string;
      }[]
    ).map((f) => ({ input: f.input_path, code: f.error_code, message: f.error_message }));
    return { id: j.id, state: j.state, createdAt: j.created_at, spec: JSON.parse(j.spec_json) as BatchSpec, ...c, failures };
  }

  list(): JobSummary[] {
    return (this.db.prepare('SELECT id FROM export_jobs ORDER BY id').all() as { id: number }[]).map((r) => this.summary(r.id));
  }
}
