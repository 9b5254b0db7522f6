/**
 * Training runs for the app: each run trains in its own worker thread (see
 * trainWorker.ts); this side starts, pauses, resumes and cancels them, turns
 * their progress into AppEvents, and answers run lists and metric histories
 * from SQLite. A run interrupted by a crash is shown as paused and resumes from
 * its last checkpoint.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { PageLauncher } from '../ml/engine/chromium.js';
import { PageHost } from '../ml/engine/pageRelay.js';
import type { BackendId, ComputeChoice, MetricPointRow, RunBaselines, RunOutcome, RunState, RunSummary, TeacherEstimate, TeacherEstimateRequest, TrainEstimate, TrainingStage } from '../../shared/api.js';
import { RestoraError, type ErrorCode } from '../../shared/errors.js';
import type { Db } from '../db/database.js';
import type { EventBus } from '../events.js';
import { siblingEntry, startWorker } from '../workers.js';
import { CONTROL_CANCEL, CONTROL_PAUSE, type FromTrainWorker, type TrainWorkerData } from './trainProtocol.js';
import type { TrainRequest } from './trainService.js';
import { checkRecipeRequest } from './recipes.js';
import type { EstimateWorkerData, FromEstimateWorker } from './estimateWorker.js';

interface Live {
  worker: Worker;
  control: Int32Array;
  step: number;
  ended: Promise<void>;
  /** A recipe: the stage stepping now, and its own run (a stage before the last trains under its own name). */
  stage?: TrainingStage;
  stageRunId?: number;
}

interface RunRow {
  id: number;
  name: string;
  state: RunState;
  config_json: string;
  run_dir: string;
  created_at: string;
  updated_at: string;
  steps: number;
  model_id: string | null;
  error: string | null;
  last_step: number | null;
  dataset_json: string | null;
}

/** The step a stopped run's checkpoint holds (metric points are only every few steps). */
function checkpointStep(runDir: string): number | null {
  try {
    return (JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoint', 'state.json'), 'utf8')) as { step: number }).step;
  } catch {
    return null;
  }
}

export class TrainingRunner {
  private readonly live = new Map<number, Live>();

  constructor(
    private readonly db: Db,
    private readonly home: string,
    private readonly events: EventBus,
    /** `computeChoice`: Settings' choice, read when each run starts. */
    private readonly compute: { backend?: BackendId; threads?: number; computeChoice?: () => ComputeChoice; pageLauncher?: PageLauncher } = {},
  ) {
    // Runs left 'running' by a crash have a checkpoint to resume from.
    this.db.prepare("UPDATE training_runs SET state = 'paused' WHERE state = 'running'").run();
  }

  private row(runId: number): RunRow {
    const r = this.db.prepare('SELECT r.*, (SELECT max(step) FROM metric_points m WHERE m.run_id = r.id) AS last_step, d.config_json AS dataset_json FROM training_runs r LEFT JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?').get(runId) as
      | RunRow
      | undefined;
    if (!r) throw new RestoraError('NOT_FOUND', `No training run ${runId}.`);
    return r;
  }

  private summary(r: RunRow): RunSummary {
    const c = JSON.parse(r.config_json) as { scale?: number; arch?: string; preset?: string; steps?: number; baselines?: RunBaselines; outcome?: RunOutcome };
    const d = r.dataset_json ? (JSON.parse(r.dataset_json) as { train: string[]; val: string[] }) : null;
    const stage = this.live.get(r.id)?.stage;
    return {
      id: r.id,
      name: r.name,
      state: r.state,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      // A finished run's last metric point is its last step; only stopped runs need their checkpoint read.
      step: this.live.get(r.id)?.step ?? (r.state === 'done' ? r.last_step : checkpointStep(r.run_dir)) ?? r.last_step ?? 0,
      steps: r.steps || c.steps || 0,
      scale: c.scale ?? 0,
      arch: c.arch ?? '',
      preset: c.preset ?? '',
      modelId: r.model_id,
      error: r.error,
      photos: d ? { train: d.train.length, val: d.val.length } : null,
      baselines: c.baselines ?? null,
      outcome: c.outcome ?? null,
      ...(stage ? { stage } : {}),
    };
  }

  private setState(runId: number, state: RunState, error: string | null = null): void {
    this.db.prepare("UPDATE training_runs SET state = ?, error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?").run(state, error, runId);
  }

  /** Starts a new run; returns its id at once (the photos load inside the worker). */
  start(request: TrainRequest): number {
    // A recipe's request is checked now, so a wrong one is refused rather than started and failed.
    if (request.recipe) checkRecipeRequest(request.recipe, request);
    const runDir = path.join(this.home, 'runs', request.name);
    const existing = this.db.prepare('SELECT id, state FROM training_runs WHERE run_dir = ?').get(runDir) as { id: number; state: RunState } | undefined;
    if (existing) {
      // A paused, cancelled or failed run can be resumed; a finished one keeps its name.
      const resumable = existing.state !== 'done' && existing.state !== 'running';
      throw new RestoraError('USAGE', `A run named "${request.name}" already exists (${existing.state}); ${resumable ? 'resume it or choose another name' : 'choose another name'}.`);
    }
    const runId = Number(
      this.db.prepare("INSERT INTO training_runs (name, config_json, state, run_dir, steps) VALUES (?, ?, 'running', ?, ?)").run(request.name, JSON.stringify({ ...request, request }), runDir, request.steps ?? 2000).lastInsertRowid,
    );
    this.launch(runId, { ...request, resume: false });
    return runId;
  }

  resume(runId: number): RunSummary {
    const r = this.row(runId);
    if (this.live.has(runId)) return this.summary(r);
    if (r.state === 'done') throw new RestoraError('USAGE', `Run ${r.name} is finished; start a new run to train more.`);
    const { request } = JSON.parse(r.config_json) as { request?: TrainRequest };
    if (!request) throw new RestoraError('USAGE', `Run ${r.name} has no stored request to resume from.`);
    this.setState(runId, 'running');
    // A cancel stops like a pause (the checkpoint is kept), so a cancelled run can be taken up again.
    // A run that failed before its first checkpoint starts over; otherwise continue from the checkpoint.
    const hasCheckpoint = checkpointStep(r.run_dir) !== null || (r.last_step ?? 0) > 0 || r.state === 'paused';
    this.launch(runId, { ...request, resume: hasCheckpoint });
    return this.summary(this.row(runId));
  }

  async pause(runId: number): Promise<RunSummary> {
    return this.stop(runId, CONTROL_PAUSE);
  }

  async cancel(runId: number): Promise<RunSummary> {
    const r = this.row(runId);
    if (!this.live.has(runId)) {
      if (r.state !== 'done') this.setState(runId, 'cancelled');
      this.events.publish({ type: 'training.state', runId, state: 'cancelled' });
      return this.summary(this.row(runId));
    }
    return this.stop(runId, CONTROL_CANCEL);
  }

  private async stop(runId: number, how: number): Promise<RunSummary> {
    const live = this.live.get(runId);
    if (!live) return this.summary(this.row(runId));
    Atomics.store(live.control, 0, how);
    await live.ended;
    return this.summary(this.row(runId));
  }

  list(): RunSummary[] {
    const rows = this.db
      .prepare('SELECT r.*, (SELECT max(step) FROM metric_points m WHERE m.run_id = r.id) AS last_step, d.config_json AS dataset_json FROM training_runs r LEFT JOIN datasets d ON d.id = r.dataset_id ORDER BY r.id DESC')
      .all() as RunRow[];
    return rows.map((r) => this.summary(r));
  }

  /** The latest held-out sample strip of a run (LR | model | HR), or null. */
  sampleFile(runId: number): string | null {
    // A recipe's earlier stages write their samples in their own run folders.
    const r = this.db.prepare('SELECT run_dir FROM training_runs WHERE id = ?').get(this.live.get(runId)?.stageRunId ?? runId) as { run_dir: string } | undefined;
    const file = r ? path.join(r.run_dir, 'sample.png') : null;
    return file && fs.existsSync(file) ? file : null;
  }

  history(runId: number): MetricPointRow[] {
    this.row(runId);
    return this.db
      .prepare('SELECT step, wall_ms AS wallMs, loss, lr, val_psnr AS valPsnr, val_ssim AS valSsim, g_loss AS gLoss, d_loss AS dLoss, eval_psnr AS evalPsnr, eval_ssim AS evalSsim, recon, kl FROM metric_points WHERE run_id = ? ORDER BY step')
      .all(runId) as MetricPointRow[];
  }

  /** A teacher's measured cost for a run, timed in a worker thread (never on the main thread). */
  estimateTeacher(request: TeacherEstimateRequest): Promise<TeacherEstimate> {
    return this.estimate({ kind: 'teacher', request }) as Promise<TeacherEstimate>;
  }

  /** A run's training time on this machine: a few real steps timed in a worker thread, then minutes for the plan. */
  estimateSteps(request: TrainRequest): Promise<TrainEstimate> {
    return this.estimate({ kind: 'steps', request }) as Promise<TrainEstimate>;
  }

  private estimate(what: { kind: 'teacher'; request: TeacherEstimateRequest } | { kind: 'steps'; request: TrainRequest }): Promise<TeacherEstimate | TrainEstimate> {
    const data: EstimateWorkerData = { home: this.home, ...what, ...(this.compute.backend ? { backend: this.compute.backend } : {}), ...(this.compute.threads ? { threads: this.compute.threads } : {}) };
    const worker = startWorker(siblingEntry(import.meta.url, 'estimateWorker'), data);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        void worker.terminate();
        f();
      };
      worker.on('message', (m: FromEstimateWorker) => settle(() => (m.type === 'estimate' ? resolve(m.estimate) : reject(new RestoraError(m.error.code as ErrorCode, m.error.message)))));
      worker.on('error', (err) => settle(() => reject(err)));
      worker.on('exit', (code) => settle(() => reject(new RestoraError('INTERNAL', `the ${what.kind} estimate's worker exited (code ${code})`))));
    });
  }

  /** Waits for every live run to stop (pausing them), e.g. when the app quits. */
  async close(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.pause(id)));
  }

  private launch(runId: number, request: TrainRequest): void {
    const control = new Int32Array(new SharedArrayBuffer(4));
    const { computeChoice, pageLauncher, ...backend } = this.compute;
    const data: TrainWorkerData = {
      home: this.home,
      request,
      control: control.buffer as SharedArrayBuffer,
      ...backend,
      ...(computeChoice ? { compute: computeChoice() } : {}),
      ...(pageLauncher ? { pageHost: 'parent' as const } : {}),
    };
    const worker = startWorker(siblingEntry(import.meta.url, 'trainWorker'), data);
    const pages = pageLauncher ? new PageHost(pageLauncher, (m) => worker.postMessage(m)) : null;
    let finished = false;
    const ended = new Promise<void>((resolve) => {
      const finish = (state: RunState, extra: { modelId?: string; error?: { code: string; message: string } } = {}) => {
        if (finished) return;
        finished = true;
        this.live.delete(runId);
        void worker.terminate();
        void pages?.closeAll();
        const how = Atomics.load(control, 0);
        // The worker records 'paused' for any stop; a cancel is shown as such (and can still be resumed).
        const final: RunState = state === 'paused' && how === CONTROL_CANCEL ? 'cancelled' : state;
        this.setState(runId, final, extra.error && final === 'failed' ? extra.error.message : null);
        this.events.publish({ type: 'training.state', runId, state: final, ...extra });
        resolve();
      };
      worker.on('message', (m: FromTrainWorker) => {
        if (m.type === 'openPage' || m.type === 'closePage') {
          void pages?.handle(m);
        } else if (m.type === 'run') {
          const live = this.live.get(runId);
          if (live) live.stageRunId = m.runId;
        } else if (m.type === 'stage') {
          const live = this.live.get(runId);
          if (live) live.stage = m.stage;
        } else if (m.type === 'progress') {
          const p = m.progress;
          const live = this.live.get(runId);
          if (live) live.step = p.step;
          this.events.publish({
            type: 'training.progress',
            runId,
            ...(m.stage ? { stage: m.stage } : {}),
            step: p.step,
            steps: p.steps,
            loss: p.loss,
            lr: p.lr,
            stepsPerSec: p.stepsPerSec,
            etaSec: p.etaSec,
            ...(p.point
              ? {
                  point: {
                    step: p.point.step,
                    wallMs: p.point.wallMs,
                    loss: p.point.loss,
                    lr: p.point.lr,
                    valPsnr: p.point.valPsnr ?? null,
                    valSsim: p.point.valSsim ?? null,
                    evalPsnr: p.point.evalPsnr ?? null,
                    evalSsim: p.point.evalSsim ?? null,
                    ...(p.point.kl !== undefined ? { recon: p.point.recon ?? null, kl: p.point.kl } : {}),
                  },
                }
              : {}),
          });
        } else if (m.type === 'teacher') {
          this.events.publish({ type: 'training.teacher', runId, done: m.done, total: m.total, secondsPerRegion: m.secondsPerRegion, etaSec: m.etaSec });
        } else if (m.type === 'sample') {
          this.events.publish({ type: 'training.sample', runId, step: m.step, media: `sample/${runId}/${m.step}` });
        } else if (m.type === 'done') {
          finish('done', { modelId: m.modelId });
        } else if (m.type === 'error') {
          const code = m.error.code as ErrorCode;
          finish(code === 'CANCELLED' ? 'paused' : 'failed', code === 'CANCELLED' ? {} : { error: m.error });
        }
      });
      worker.on('error', (err) => finish('failed', { error: { code: 'INTERNAL', message: err.message } }));
      worker.on('exit', (code) => finish('failed', { error: { code: 'INTERNAL', message: `training worker exited (code ${code})` } }));
    });
    this.live.set(runId, { worker, control, step: 0, ended });
    this.events.publish({ type: 'training.state', runId, state: 'running' });
  }
}
