/**
 * Export jobs for the app: runs BatchJobs in the background (one job at a time
 * per id; the compute worker serialises the inference), publishes progress and
 * state as AppEvents, and supports pause / resume / cancel. Jobs survive restarts
 * in SQLite; one left 'running' by a crash is shown as paused and resumes.
 */
import type { BatchSpec, JobState, JobSummary } from '../../shared/api.js';
import { RestoraError } from '../../shared/errors.js';
import type { Db } from '../db/database.js';
import type { EventBus } from '../events.js';
import type { Library } from '../library/library.js';
import type { BatchJobs } from './batchJob.js';

export class JobRunner {
  private readonly live = new Map<number, { controller: AbortController; ended: Promise<void> }>();

  constructor(
    private readonly db: Db,
    private readonly jobs: BatchJobs,
    private readonly library: () => Library,
    private readonly events: EventBus,
  ) {
    // Jobs left 'running' by a crash are paused; one another process is working on (a live claim) is not.
    this.db.prepare("UPDATE export_jobs SET state = 'paused' WHERE state = 'running' AND NOT EXISTS (SELECT 1 FROM job_items i WHERE i.job_id = export_jobs.id AND i.state = 'running' AND i.claim_expires_ms >= ?)").run(Date.now());
  }

  start(spec: BatchSpec): { jobId: number; resumed: boolean } {
    const r = this.jobs.prepare(spec);
    this.launch(r.jobId);
    return r;
  }

  outputs(jobId: number): { name: string; file: string }[] | null {
    return this.jobs.outputs(jobId);
  }

  list(): JobSummary[] {
    return this.jobs.list().reverse();
  }

  async pause(jobId: number): Promise<JobSummary> {
    return this.stop(jobId, 'pause');
  }

  async cancel(jobId: number): Promise<JobSummary> {
    if (!this.live.has(jobId)) {
      const s = this.jobs.summary(jobId);
      if (s.runningElsewhere) throw new RestoraError('USAGE', `Export job ${jobId} is running in another process; stop it there.`);
      if (s.state !== 'done' && s.state !== 'failed') this.setState(jobId, 'cancelled');
      return this.jobs.summary(jobId);
    }
    return this.stop(jobId, 'cancel');
  }

  resume(jobId: number): JobSummary {
    const s = this.summaryOrThrow(jobId);
    if (s.runningElsewhere && !this.live.has(jobId)) {
      throw new RestoraError('USAGE', `Export job ${jobId} is running in another process (a restora batch?); it finishes there.`);
    }
    if (!this.live.has(jobId) && s.pending > 0) {
      this.setState(jobId, 'running');
      this.launch(jobId);
    }
    return this.jobs.summary(jobId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.pause(id)));
  }

  private summaryOrThrow(jobId: number): JobSummary {
    const row = this.db.prepare('SELECT id FROM export_jobs WHERE id = ?').get(jobId);
    if (!row) throw new RestoraError('NOT_FOUND', `No export job ${jobId}.`);
    return this.jobs.summary(jobId);
  }

  private setState(jobId: number, state: JobState): void {
    this.db.prepare("UPDATE export_jobs SET state = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?").run(state, jobId);
    this.events.publish({ type: 'job.state', jobId, state });
  }

  private async stop(jobId: number, reason: 'pause' | 'cancel'): Promise<JobSummary> {
    const live = this.live.get(jobId);
    if (!live) return this.summaryOrThrow(jobId);
    live.controller.abort(reason);
    await live.ended;
    return this.jobs.summary(jobId);
  }

  private launch(jobId: number): void {
    if (this.live.has(jobId)) return;
    const controller = new AbortController();
    const ended = (async () => {
      this.events.publish({ type: 'job.state', jobId, state: 'running' });
      try {
        const summary = await this.jobs.run(jobId, { signal: controller.signal, onProgress: (progress) => this.events.publish({ type: 'job.progress', progress }) });
        this.recordExports(jobId, summary);
        this.events.publish({ type: 'job.state', jobId, state: summary.state });
      } catch {
        // BatchJobs records per-item errors itself; what reaches here (e.g. the store failing) fails the job.
        this.setState(jobId, 'failed');
      } finally {
        this.live.delete(jobId);
      }
    })();
    this.live.set(jobId, { controller, ended });
  }

  /** Library images exported by this job get status 'exported' and a history entry. */
  private recordExports(jobId: number, summary: JobSummary): void {
    const rows = this.db.prepare("SELECT input_path, output_path FROM job_items WHERE job_id = ? AND state = 'done'").all(jobId) as { input_path: string; output_path: string }[];
    if (!rows.length) return;
    const spec = summary.spec;
    this.library().markExported(new Map(rows.map((r) => [r.input_path, r.output_path])), spec.modelId ?? '', { format: spec.format, quality: spec.quality, resize: spec.resize, jobId });
  }
}
