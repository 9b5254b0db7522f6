/** The batch export queue: jobs.list plus live job.progress / job.state events. */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { JobProgress, JobState, JobSummary } from '../../../shared/api';
import { api } from '../api';
import { useNotify } from './notify';

export const useJobsStore = defineStore('jobs', () => {
  const notify = useNotify();
  const jobs = ref<JobSummary[]>([]);
  const progress = ref<Record<number, JobProgress>>({});
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;

  async function load(): Promise<void> {
    const j = await notify.attempt('Listing export jobs', () => api['jobs.list']({}));
    if (j) jobs.value = [...j].sort((a, b) => b.id - a.id);
  }

  /** Coalesces refreshes when many events arrive together. */
  function refreshSoon(): void {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void load();
    }, 300);
  }

  function replace(j: JobSummary): void {
    const i = jobs.value.findIndex((x) => x.id === j.id);
    if (i >= 0) jobs.value[i] = j;
    else jobs.value.unshift(j);
  }

  function onProgress(p: JobProgress): void {
    progress.value = { ...progress.value, [p.jobId]: p };
    const j = jobs.value.find((x) => x.id === p.jobId);
    if (j) {
      j.done = p.done;
      j.failed = p.failed;
      j.total = p.total;
      j.pending = Math.max(0, p.total - p.done - p.failed);
      // New failures carry reasons only in jobs.list.
      if (p.failed !== j.failures.length) refreshSoon();
    } else refreshSoon();
  }

  function onState(jobId: number, state: JobState): void {
    const j = jobs.value.find((x) => x.id === jobId);
    if (j) j.state = state;
    refreshSoon();
  }

  async function control(action: 'jobs.pause' | 'jobs.resume' | 'jobs.cancel', jobId: number): Promise<void> {
    const verb = action.slice(5);
    const j = await notify.attempt(`Could not ${verb} job ${jobId}`, () => api[action]({ jobId }));
    if (j) replace(j);
  }

  const running = computed(() => jobs.value.filter((j) => j.state === 'running').length);

  return { jobs, progress, running, load, onProgress, onState, control, replace };
});
