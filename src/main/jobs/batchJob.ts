/**
 * Resumable batch export. A job and its items live in SQLite; the job's identity
 * is its normalised spec, so running the same command again resumes it: done
 * items are skipped, items caught mid-write are redone (outputs are written with
 * temp + rename, so a crash never leaves a truncated file under the final name),
 * and items that failed are tried again (the cause may be fixed: disk space freed,
 * a file put back).
 *
 * One runner per item across processes: a runner claims its next item in one UPDATE
 * (owner + expiry, renewed while it works), so the same job run twice at once (two
 * `restora batch`, or the CLI beside the app) shares the items and never writes one
 * twice, and the claim of a killed process expires and is taken over.
 *
 * Pause and cancel both stop `run()` through its AbortSignal: `abort('pause')`
 * leaves the job 'paused', any other reason 'cancelled'. Either way the item in
 * flight goes back to pending, and `run(jobId)` again (or `prepare()` with the
 * same spec, then `run`) carries on from there.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_FACE_FIDELITY, DEFAULT_FACE_STRENGTH, DEFAULT_TILE, type BatchSpec, type JobProgress, type JobState, type JobSummary, type OutputFormat, type TileChange } from '../../shared/api.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import { guardDb, mapDbError, type Db } from '../db/database.js';
import type { ComputeHost } from '../ml/worker/computeHost.js';
import type { ModelLibrary } from '../ml/store/modelLibrary.js';
import { damageNetDirs, pipelineRequest, repairPlanFor } from '../ml/infer/pipeline.js';
import { enumerateInputs } from '../imaging/inputs.js';
import { tempPrefix } from '../imaging/atomic.js';

export type { BatchSpec, JobProgress, JobState, JobSummary };

/** The abort reason that pauses a job instead of cancelling it: `controller.abort(PAUSE)`. */
export const PAUSE = 'pause';

/** Tile progress of the current item is reported at most this often (by default). */
const PROGRESS_INTERVAL_MS = 100;

export interface RunHooks {
  onProgress?: (p: JobProgress) => void;
  signal?: AbortSignal;
  /** Least time between two tile-progress reports; item-finished reports always go out. */
  progressIntervalMs?: number;
}

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/** How long an item's claim lasts without renewal; renewed every third of it while the item is worked on. */
export const CLAIM_MS = 30_000;

export function renderName(template: string, input: string, modelId: string, scale: number, format: OutputFormat): string {
  const name = path.basename(input, path.extname(input));
  const out = template.replaceAll('{name}', name).replaceAll('{model}', modelId).replaceAll('{scale}', String(scale)).replaceAll('{ext}', format);
  if (!out || out.includes('/') || out.includes('\\') || out === '.' || out === '..') {
    throw new RestoraError('USAGE', `The name template "${template}" gives an invalid file name "${out}".`, undefined, { hint: { cli: 'Change --name.', studio: 'Change the file name template.' } });
  }
  return out.endsWith(`.${format}`) ? out : `${out}.${format}`;
}

function checkResize(resize: BatchSpec['resize']): void {
  if (!resize) return;
  const ok = (v: number | undefined) => v === undefined || (Number.isInteger(v) && v >= 1 && v <= 65535);
  if ((resize.width === undefined && resize.height === undefined) || !ok(resize.width) || !ok(resize.height)) {
    throw new RestoraError('USAGE', `resize needs a width and/or a height in whole pixels (1..65535), got ${JSON.stringify(resize)}`);
  }
}

/** What an encoder does without a quality (imaging/io.ts applyFormat); lossless formats ignore it. */
const DEFAULT_QUALITY = 92;
const LOSSY_FORMATS: ReadonlySet<OutputFormat> = new Set(['jpg', 'webp', 'avif']);

/**
 * The one spelling of a job: what its outputs depend on, with every default filled in
 * (tile, quality, keepColours as the model decides it, the model's own scale) and
 * nothing else. The CLI and the studio build specs with other key orders and other
 * defaults left implicit; both come out the same here (issue 24, item 9).
 */
export function canonicalSpec(spec: BatchSpec, model: { id: string; scale: number; task?: string }): BatchSpec & { modelId: string } {
  const resize =
    spec.resize && (spec.resize.width !== undefined || spec.resize.height !== undefined)
      ? { resize: { ...(spec.resize.width !== undefined ? { width: spec.resize.width } : {}), ...(spec.resize.height !== undefined ? { height: spec.resize.height } : {}) } }
      : {};
  return {
    inputs: [...new Set(spec.inputs.map((p) => path.resolve(p)))].sort(),
    outDir: path.resolve(spec.outDir),
    modelId: model.id,
    scale: model.scale,
    format: spec.format,
    ...(LOSSY_FORMATS.has(spec.format) ? { quality: spec.quality ?? DEFAULT_QUALITY } : {}),
    nameTemplate: spec.nameTemplate,
    recursive: spec.recursive,
    tile: spec.tile ?? DEFAULT_TILE,
    ...resize,
    // The compute worker's default: restoration models keep the photo's colours.
    keepColours: spec.keepColours ?? model.task === 'restore',
    ...(spec.repair === 'auto'
      ? { repair: 'auto' as const, ...(spec.repairMasks && Object.keys(spec.repairMasks).length ? { repairMasks: Object.fromEntries(Object.entries(spec.repairMasks).map(([k, v]) => [path.resolve(k), path.resolve(v)])) } : {}) }
      : {}),
    ...(spec.levels ? { levels: true } : {}),
    ...(spec.faces ? { faces: { modelId: spec.faces.modelId, strength: spec.faces.strength ?? DEFAULT_FACE_STRENGTH, fidelity: spec.faces.fidelity ?? DEFAULT_FACE_FIDELITY } } : {}),
  };
}

/** JSON with object keys sorted at every level, so equal values hash equal. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A job's identity: the hash of its canonical spec (prefixed, so it never equals a legacy one). */
function signature(canonical: BatchSpec & { modelId: string }): string {
  return `c1:${crypto.createHash('sha256').update(stableJson(canonical)).digest('hex').slice(0, 32)}`;
}

/**
 * The signature of versions before canonical specs: JSON.stringify in the order the keys
 * came in. Only looked up, so that a job started by an earlier version still resumes.
 */
function legacySignature(spec: BatchSpec, modelId: string): string {
  const resize = spec.resize ? { resize: { width: spec.resize.width, height: spec.resize.height } } : {};
  const norm = { ...spec, inputs: spec.inputs.map((p) => path.resolve(p)).sort(), outDir: path.resolve(spec.outDir), modelId, ...resize };
  return crypto.createHash('sha256').update(JSON.stringify(norm)).digest('hex').slice(0, 32);
}

/** Temp files of earlier runs, found with one listing per output folder (not one per item). */
class StaleTemps {
  private readonly parts = new Map<string, string[]>();

  remove(output: string): void {
    const dir = path.dirname(output);
    let names = this.parts.get(dir);
    if (!names) {
      try {
        names = fs.readdirSync(dir).filter((n) => n.endsWith('.part'));
      } catch {
        names = [];
      }
      this.parts.set(dir, names);
    }
    if (names.length === 0) return;
    const prefix = tempPrefix(output);
    // The writer's temp name is `<prefix><pid>.<ms>.part`: match exactly that; the staged output
    // (that same pattern) may have the writer's own temp beside it: `.<staged name>.<pid>.<ms>.part`.
    const isTemp = (rest: string) => /^\d+\.\d+\.part$/.test(rest) || /^\d+\.\d+\.part\.\d+\.\d+\.part$/.test(rest);
    for (const n of names) {
      const rest = n.startsWith(prefix) ? n.slice(prefix.length) : n.startsWith(`.${prefix}`) ? n.slice(prefix.length + 1) : null;
      if (rest !== null && isTemp(rest)) fs.rmSync(path.join(dir, n), { force: true });
    }
  }
}

function makeOutputDir(input: string, output: string): void {
  const dir = path.dirname(output);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way of the folder' : errorMessage(err);
    throw new RestoraError('WRITE_FAILED', `${input}: cannot create the output folder for ${output} (${why})`, output);
  }
}

interface ItemRow {
  id: number;
  input_path: string;
  output_path: string;
  /** The claim's fencing token: bumped by every claim, so a takeover invalidates older holders. */
  attempts: number;
}

/** Why an item's compute was stopped when its claim could not be renewed. */
const LOST_CLAIM = 'lost-claim';

/**
 * Where the worker writes an item before it is published: a temp name of the writer's
 * pattern (`.<name>.<pid>.<ms>.part`, so a crash leaves what StaleTemps removes), with the
 * output's extension nowhere in the way of the format (it is given explicitly).
 */
function stagedOutput(output: string): string {
  return path.join(path.dirname(output), `${tempPrefix(output)}${process.pid}.${Date.now()}.part`);
}

export class BatchJobs {
  /** Jobs being run by this instance: one run per job at a time. */
  private readonly active = new Set<number>();
  /** Who claims items: this process (and this instance). */
  readonly owner = `${os.hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;

  constructor(
    private readonly db: Db,
    private readonly models: ModelLibrary,
    private readonly compute: ComputeHost,
    private readonly claimMs = CLAIM_MS,
    /** The tile a spec without one gets (Settings, through the app's request defaults). */
    private readonly defaultTile: () => number = () => DEFAULT_TILE,
  ) {}

  /** Creates the job for `spec`, or finds the same job from an earlier run (its failed items become pending again). */
  prepare(given: BatchSpec): { jobId: number; resumed: boolean } {
    const spec = { ...given, tile: given.tile ?? this.defaultTile() };
    checkResize(spec.resize);
    const model = this.models.resolve(spec.modelId, spec.scale);
    if (spec.faces) {
      this.models.face(spec.faces.modelId);
      for (const [k, v] of [
        ['strength', spec.faces.strength],
        ['fidelity', spec.faces.fidelity],
      ] as const) {
        if (v !== undefined && !(v >= 0 && v <= 1)) throw new RestoraError('USAGE', `face ${k} must be from 0 to 1, got ${v}`);
      }
    }
    const canonical = canonicalSpec(spec, model.card);
    const sig = signature(canonical);
    const oldSig = legacySignature(given, model.card.id);
    const all = enumerateInputs(spec.inputs, spec.recursive);
    const entries = all.filter((e) => !e.missing).map((e) => ({ ...e, input: path.resolve(e.input) }));
    const missing = all.filter((e) => e.missing).map((e) => path.resolve(e.input));
    return guardDb(this.db, () => {
      const bySignature = this.db.prepare('SELECT id FROM export_jobs WHERE signature = ?');
      const insertJob = this.db.prepare('INSERT INTO export_jobs (signature, spec_json) VALUES (?, ?)');
      // Done items stay done; failed ones are retried with what the inputs are now.
      const upsertItem = this.db.prepare(
        `INSERT INTO job_items (job_id, input_path, output_path, state, error_code, error_message) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (job_id, input_path) DO UPDATE SET output_path = excluded.output_path, state = excluded.state,
           error_code = excluded.error_code, error_message = excluded.error_message, updated_at = ${NOW}
         WHERE job_items.state = 'failed'`,
      );
      let existing: { id: number } | undefined;
      const jobId = this.db
        .transaction(() => {
          existing = bySignature.get(sig) as { id: number } | undefined;
          if (!existing) {
            // A job from before canonical signatures, spelled as this request spells it: it
            // takes the canonical signature, so every spelling finds it from now on.
            existing = bySignature.get(oldSig) as { id: number } | undefined;
            if (existing) this.db.prepare('UPDATE export_jobs SET signature = ?, spec_json = ? WHERE id = ?').run(sig, JSON.stringify(canonical), existing.id);
          }
          const id = existing?.id ?? Number(insertJob.run(sig, JSON.stringify(canonical)).lastInsertRowid);
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
            upsertItem.run(id, e.input, out, err ? 'failed' : 'pending', err?.[0] ?? null, err?.[1] ?? null);
          }
          for (const m of missing) upsertItem.run(id, m, '', 'failed', 'NOT_FOUND', `${m}: no such file or folder`);
          this.writeState(id, 'running');
          return id;
        })
        .immediate(); // the lookup and the insert under one write lock, waited for up front: a read that later wants to write cannot wait out another writer
      return { jobId, resumed: Boolean(existing) };
    });
  }

  /** Records a job's state (e.g. 'paused' for a job no process is running). */
  setState(jobId: number, state: JobState): void {
    guardDb(this.db, () => {
      if (!this.writeState(jobId, state)) throw new RestoraError('NOT_FOUND', `No export job ${jobId}.`);
    });
  }

  private writeState(jobId: number, state: JobState): boolean {
    return this.db.prepare(`UPDATE export_jobs SET state = ?, updated_at = ${NOW} WHERE id = ?`).run(state, jobId).changes > 0;
  }

  /**
   * Works through the job's pending items until all are done or failed, or the
   * signal aborts it (reason PAUSE: 'paused', else 'cancelled'). Progress: on every
   * finished item, and on tile progress of the current one at most every
   * `progressIntervalMs` (100 ms).
   */
  async run(jobId: number, hooks: RunHooks = {}): Promise<JobSummary> {
    if (this.active.has(jobId)) throw new RestoraError('USAGE', `Export job ${jobId} is already running.`);
    this.active.add(jobId);
    try {
      return await this.runItems(jobId, hooks);
    } catch (err) {
      throw mapDbError(this.db, err);
    } finally {
      this.active.delete(jobId);
    }
  }

  private async runItems(jobId: number, hooks: RunHooks): Promise<JobSummary> {
    const { signal, onProgress } = hooks;
    const interval = hooks.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
    const job = this.db.prepare('SELECT spec_json FROM export_jobs WHERE id = ?').get(jobId) as { spec_json: string } | undefined;
    if (!job) throw new RestoraError('NOT_FOUND', `No export job ${jobId}.`);
    const spec = JSON.parse(job.spec_json) as BatchSpec & { modelId: string };
    const model = this.models.get(spec.modelId);
    const damageNets = spec.repair === 'auto' ? damageNetDirs(this.models) : null;
    const faces = spec.faces ? { modelDir: this.models.face(spec.faces.modelId).dir, strength: spec.faces.strength ?? DEFAULT_FACE_STRENGTH, fidelity: spec.faces.fidelity ?? DEFAULT_FACE_FIDELITY } : undefined;
    this.writeState(jobId, 'running');
    // The next item no live runner holds: pending, or 'running' under a claim that expired
    // (its process was killed). One statement, so two runners never get the same item.
    const claim = this.db.prepare(
      `UPDATE job_items SET state = 'running', claimed_by = @owner, claim_expires_ms = @expires, attempts = attempts + 1, updated_at = ${NOW}
       WHERE id = (SELECT id FROM job_items WHERE job_id = @jobId AND (state = 'pending' OR (state = 'running' AND coalesce(claim_expires_ms, 0) < @now)) ORDER BY id LIMIT 1)
       RETURNING id, input_path, output_path, attempts`,
    );
    // The fence: a claim is ours while it names us, carries the attempt number we claimed it
    // with (any takeover bumps it), and has not expired. Renewal and every write check all three.
    const FENCE = `id = @id AND claimed_by = @owner AND attempts = @fence AND state = 'running' AND claim_expires_ms >= @now`;
    const renewStmt = this.db.prepare(`UPDATE job_items SET claim_expires_ms = @expires WHERE ${FENCE}`);
    const renew = (item: ItemRow) => renewStmt.run({ id: item.id, owner: this.owner, fence: item.attempts, now: Date.now(), expires: Date.now() + this.claimMs }).changes > 0;
    const setItemStmt = this.db.prepare(`UPDATE job_items SET state = @state, error_code = @code, error_message = @message, ms = @ms, claimed_by = NULL, claim_expires_ms = NULL, updated_at = ${NOW} WHERE ${FENCE}`);
    const setItem = (state: string, code: string | null, message: string | null, ms: number | null, item: ItemRow) => setItemStmt.run({ state, code, message, ms, id: item.id, owner: this.owner, fence: item.attempts, now: Date.now() }).changes > 0;
    /**
     * Publishes the staged output and records the item done, only under a live claim: in one
     * write transaction, so no runner can take the item over between the check and the rename.
     */
    const commitOutput = this.db.transaction((item: ItemRow, staged: string, ms: number): boolean => {
      if (!setItem('done', null, null, ms, item)) return false;
      fs.renameSync(staged, item.output_path);
      return true;
    });
    const next = () => claim.get({ owner: this.owner, jobId, now: Date.now(), expires: Date.now() + this.claimMs }) as ItemRow | undefined;
    // Counted once, then kept up to date here: a count query per item is O(items) each.
    const counts = this.countItems(jobId);
    const temps = new StaleTemps();
    const started = performance.now();
    let computed = 0;
    let lastEmit = -Infinity;
    let tileChange: TileChange | undefined;
    const emit = (current: string, tiles?: { done: number; total: number }) => {
      if (!onProgress) return;
      lastEmit = performance.now();
      // Items/s over this run, counting the current item's finished fraction so the first ETA comes early.
      const frac = tiles && tiles.total > 0 ? tiles.done / tiles.total : 0;
      const secs = (lastEmit - started) / 1000;
      const rate = secs > 0 ? (computed + frac) / secs : 0;
      const left = counts.total - counts.done - counts.failed - frac;
      onProgress({
        jobId,
        done: counts.done,
        failed: counts.failed,
        total: counts.total,
        current,
        ...(tiles ? { currentDone: tiles.done, currentTotal: tiles.total } : {}),
        ratePerSec: rate,
        // 0 until there is a rate to go by.
        etaSec: rate > 0 ? Math.max(0, left) / rate : 0,
        ...(tileChange ? { tile: tileChange } : {}),
      });
    };

    let stopped = false;
    for (;;) {
      if (signal?.aborted) {
        stopped = true;
        break;
      }
      const item = next();
      if (!item) {
        // What is left is another process's: wait for it (its claims expire if it was killed), then count.
        if (!this.runningElsewhere(jobId)) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, this.claimMs / 3)));
        continue;
      }
      temps.remove(item.output_path);
      if (fs.existsSync(item.output_path)) {
        // Written by an earlier run that died before recording it: outputs appear only by rename, so it is complete.
        if (setItem('done', null, null, null, item)) counts.done++;
        emit(item.input_path);
        continue;
      }
      const t0 = performance.now();
      // The worker writes a staged file; only commitOutput, under the fence, gives it the output's name.
      const staged = stagedOutput(item.output_path);
      // Stops this item alone: when the claim is lost, or when the job is paused or cancelled.
      const itemStop = new AbortController();
      const onJobAbort = () => itemStop.abort(signal?.reason);
      if (signal?.aborted) onJobAbort();
      signal?.addEventListener('abort', onJobAbort, { once: true });
      let lost = false;
      let staging = false;
      // The claim is renewed while the item is worked on (the compute runs in a worker, so this
      // timer fires). A renewal that fails means another runner may own the item now: stop it.
      const heartbeat = setInterval(
        () => {
          let renewed: boolean;
          try {
            renewed = lost || renew(item);
          } catch {
            // The store was busy past its timeout: try again on the next beat. If the claim
            // lapses meanwhile, that renewal fails, and the fence at commit refuses the write.
            return;
          }
          if (renewed) return;
          lost = true;
          itemStop.abort(LOST_CLAIM);
        },
        Math.max(50, this.claimMs / 3),
      );
      try {
        makeOutputDir(item.input_path, item.output_path);
        staging = true;
        const repair = damageNets ? repairPlanFor(damageNets, spec.repairMasks?.[item.input_path]) : undefined;
        const result = await this.compute.upscale(
          model.dir,
          pipelineRequest(model, item.input_path, staged, spec.format, { repair, keepColours: spec.keepColours, levels: spec.levels, quality: spec.quality, tile: spec.tile, resize: spec.resize, faces }),
          {
            signal: itemStop.signal,
            onProgress: (done, total) => {
              if (performance.now() - lastEmit >= interval) emit(item.input_path, { done, total });
            },
          },
        );
        tileChange ??= result.tile;
        if (!lost && commitOutput.immediate(item, staged, Math.round(performance.now() - t0))) counts.done++;
        // Else the claim lapsed: whoever holds the item now writes it; this result is dropped.
      } catch (err) {
        const code = err instanceof RestoraError ? err.code : 'INTERNAL';
        if (lost) {
          // Stopped because the claim was lost: the item is not ours to record; go on with the next.
        } else if (code === 'CANCELLED' || signal?.aborted) {
          setItem('pending', null, null, null, item);
          stopped = true;
          break;
          // The user knows the output's name, not the staged file's.
        } else if (setItem('failed', code, errorMessage(err).replaceAll(staged, item.output_path), null, item)) counts.failed++;
      } finally {
        clearInterval(heartbeat);
        signal?.removeEventListener('abort', onJobAbort);
        if (staging) fs.rmSync(staged, { force: true });
      }
      computed++;
      emit(item.input_path);
    }
    // Fresh counts: another process may have finished items meanwhile.
    Object.assign(counts, this.countItems(jobId));
    const finished = counts.done + counts.failed === counts.total;
    // An abort that comes after the last item changes nothing: the job is finished.
    const state: JobState = finished ? (counts.failed ? 'failed' : 'done') : stopped || signal?.aborted ? (signal?.reason === PAUSE ? 'paused' : 'cancelled') : 'running';
    this.writeState(jobId, state);
    return this.summary(jobId);
  }

  /** Whether another process holds a live claim on one of the job's items. */
  runningElsewhere(jobId: number): boolean {
    return Boolean(this.db.prepare("SELECT 1 FROM job_items WHERE job_id = ? AND state = 'running' AND claimed_by IS NOT NULL AND claimed_by != ? AND claim_expires_ms >= ? LIMIT 1").get(jobId, this.owner, Date.now()));
  }

  private countItems(jobId: number): { total: number; done: number; failed: number; pending: number } {
    return this.db
      .prepare("SELECT count(*) AS total, coalesce(sum(state IN ('done','skipped')),0) AS done, coalesce(sum(state = 'failed'),0) AS failed, coalesce(sum(state IN ('pending','running')),0) AS pending FROM job_items WHERE job_id = ?")
      .get(jobId) as { total: number; done: number; failed: number; pending: number };
  }

  summary(jobId: number): JobSummary {
    return guardDb(this.db, () => {
      const j = this.db.prepare('SELECT id, state, created_at, spec_json FROM export_jobs WHERE id = ?').get(jobId) as { id: number; state: JobState; created_at: string; spec_json: string } | undefined;
      if (!j) throw new RestoraError('NOT_FOUND', `No export job ${jobId}.`);
      const c = this.countItems(jobId);
      const failures = (
        this.db.prepare("SELECT input_path, error_code, error_message FROM job_items WHERE job_id = ? AND state = 'failed' ORDER BY id").all(jobId) as {
          input_path: string;
          error_code: string;
          error_message: string;
        }[]
      ).map((f) => ({ input: f.input_path, code: f.error_code, message: f.error_message }));
      return { id: j.id, state: j.state, createdAt: j.created_at, spec: JSON.parse(j.spec_json) as BatchSpec, ...c, failures, runningElsewhere: this.runningElsewhere(jobId) };
    });
  }

  /** A job's finished outputs, each with its name inside the output folder (for downloads); null for no such job. */
  outputs(jobId: number): { name: string; file: string }[] | null {
    return guardDb(this.db, () => {
      const job = this.db.prepare('SELECT spec_json FROM export_jobs WHERE id = ?').get(jobId) as { spec_json: string } | undefined;
      if (!job) return null;
      const outDir = (JSON.parse(job.spec_json) as BatchSpec).outDir;
      const rows = this.db.prepare("SELECT output_path FROM job_items WHERE job_id = ? AND state = 'done' ORDER BY id").all(jobId) as { output_path: string }[];
      return rows.map((r) => ({ name: path.relative(outDir, r.output_path).split(path.sep).join('/'), file: r.output_path }));
    });
  }

  list(): JobSummary[] {
    return guardDb(this.db, () => (this.db.prepare('SELECT id FROM export_jobs ORDER BY id').all() as { id: number }[]).map((r) => this.summary(r.id)));
  }
}
