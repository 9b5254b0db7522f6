/**
 * Training: the wizard's inputs (kept while the user moves between views), the run
 * being watched live, and the list of past runs.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import {
  DEFAULT_TEACHER_REGIONS,
  type AppEvent,
  type DatasetStats,
  type MetricPointRow,
  type PairPreview,
  type RunState,
  type RunSummary,
  type SpeedEstimate,
  type TeacherEstimate,
  type TrainingLive,
  type TrainingStage,
  type TrainPreset,
  type RecipeId,
} from '../../../shared/api';
import { api } from '../api';
import { useNotify } from './notify';

export type TrainScale = 1 | 2 | 4 | 8;

export type LiveStatus = TrainingLive;

export const useTrainingStore = defineStore('training', () => {
  const notify = useNotify();

  // Wizard inputs.
  const form = reactive({
    name: 'my-model',
    dataDirsText: '',
    /** Photos from the Library: a project (0 = none), and whether only its selected photos. */
    libraryProject: 0,
    librarySelectionOnly: false,
    scale: 2 as TrainScale,
    preset: 'bicubic' as TrainPreset,
    /** "Learn from a stronger model": the targets are this teacher's outputs on the photos (or on their degraded copies). */
    teacherMode: false,
    teacher: '',
    teacherRegions: DEFAULT_TEACHER_REGIONS,
    /** Offer teachers of a larger scale, their output reduced with bicubic imresize. */
    teacherDownscale: false,
    /** The user accepted a teacher cost of over an hour. */
    teacherConfirmed: false,
    arch: 'compact',
    /** A recipe trains several models in order ('' = one model); it fixes the architecture and scale. */
    recipe: '' as '' | RecipeId,
    /** Fine-tune: an installed model to start from ('' = random weights). */
    initModel: '',
    optionsText: '',
    /** Until measured on the Settings step (then sized to about 30 minutes here, unless typed). */
    steps: 2000,
    stepsTouched: false,
    batch: 16,
    patch: 48,
    gan: false,
    loss: 'l1' as 'l1' | 'mse' | 'charbonnier',
    optimizer: 'adam' as 'adam' | 'adamw' | 'sgd' | 'sgd-nesterov',
    schedule: 'cosine' as 'cosine' | 'step',
    ema: false,
    /** VAEs: the KL term's weight after warm-up (the text keeps what was typed; checked before the run starts). */
    klWeight: '0.00001',
    evalDir: '',
  });
  const stats = ref<DatasetStats | null>(null);
  const previews = ref<PairPreview[]>([]);
  const previewSkipped = ref<{ path: string; reason: string }[]>([]);
  const estimate = ref<SpeedEstimate | null>(null);
  /** The teacher's measured cost for the run as set up now (null: not measured for these settings). */
  const teacherEstimate = ref<TeacherEstimate | null>(null);
  /** The watched run's teacher labelling its regions (before its first step). */
  const teacherLive = ref<{ done: number; total: number; secondsPerRegion: number; etaSec: number } | null>(null);
  /** The run's latest held-out sample strip (LR | model | HR), refreshed at each validation. */
  const sample = ref<{ step: number; media: string } | null>(null);

  // The watched run.
  const runId = ref<number | null>(null);
  const runState = ref<RunState | null>(null);
  const live = ref<LiveStatus | null>(null);
  /** A recipe's run: the stage stepping now (its steps, charts and sample are that stage's). */
  const stage = ref<TrainingStage | null>(null);
  /** Loss per step (every progress event) and metric points (validation included). */
  const lossPoints = ref<[number, number][]>([]);
  const lrPoints = ref<[number, number][]>([]);
  const points = ref<MetricPointRow[]>([]);
  const modelId = ref<string | null>(null);
  const runError = ref<string | null>(null);

  const runs = ref<RunSummary[]>([]);

  async function loadRuns(): Promise<void> {
    const r = await notify.attempt('Listing training runs', () => api['training.runs']({}));
    if (r) runs.value = [...r].sort((a, b) => b.id - a.id);
  }

  function watchRun(id: number, state: RunState = 'running', runStage: TrainingStage | null = null): void {
    runId.value = id;
    runState.value = state;
    live.value = null;
    stage.value = runStage;
    lossPoints.value = [];
    lrPoints.value = [];
    points.value = [];
    sample.value = null;
    teacherLive.value = null;
    modelId.value = null;
    runError.value = null;
  }

  /** Reloads the watched run's stored points (after a reconnect or when it ends). */
  async function reloadHistory(): Promise<void> {
    const id = runId.value;
    if (id === null) return;
    const h = await notify.attempt('Reading training history', () => api['training.history']({ runId: id }));
    if (!h || id !== runId.value) return;
    points.value = h;
    if (h.length >= lossPoints.value.length) {
      lossPoints.value = h.map((p) => [p.step, p.loss]);
      lrPoints.value = h.map((p) => [p.step, p.lr]);
    }
  }

  function onEvent(e: AppEvent): void {
    if (e.type === 'training.progress') {
      const r = runs.value.find((x) => x.id === e.runId);
      if (r) r.step = e.step;
      if (e.runId !== runId.value) return;
      // A recipe's next stage counts its steps from 1 again: its charts start afresh.
      if (e.stage && e.stage.name !== stage.value?.name) {
        if (stage.value) {
          lossPoints.value = [];
          lrPoints.value = [];
          points.value = [];
          sample.value = null;
        }
        stage.value = e.stage;
      }
      live.value = { step: e.step, steps: e.steps, loss: e.loss, lr: e.lr, stepsPerSec: e.stepsPerSec, etaSec: e.etaSec };
      if (runState.value !== 'paused') runState.value = 'running';
      // The chart plots the logged points (mean loss over each window), exactly what Runs shows
      // later from the store; the step-by-step loss is in the live figures above the chart.
      if (e.point) {
        const p = e.point;
        points.value = [...points.value.filter((x) => x.step !== p.step), p];
        const lastStep = lossPoints.value[lossPoints.value.length - 1]?.[0] ?? -Infinity;
        if (p.step > lastStep && Number.isFinite(p.loss)) {
          lossPoints.value = [...lossPoints.value, [p.step, p.loss]];
          lrPoints.value = [...lrPoints.value, [p.step, p.lr]];
        }
      }
    } else if (e.type === 'training.teacher') {
      if (e.runId === runId.value) teacherLive.value = { done: e.done, total: e.total, secondsPerRegion: e.secondsPerRegion, etaSec: e.etaSec };
    } else if (e.type === 'training.sample') {
      if (e.runId === runId.value) sample.value = { step: e.step, media: e.media };
    } else if (e.type === 'training.state') {
      const r = runs.value.find((x) => x.id === e.runId);
      if (r) r.state = e.state;
      else void loadRuns();
      if (e.runId !== runId.value) return;
      runState.value = e.state;
      if (e.modelId) modelId.value = e.modelId;
      if (e.error) runError.value = e.error.message;
      if (e.state !== 'running' && e.state !== 'paused') {
        void reloadHistory();
        void loadRuns();
      }
    }
  }

  async function start(req: Parameters<(typeof api)['training.start']>[0]): Promise<boolean> {
    const r = await notify.attempt('Could not start training', () => api['training.start'](req));
    if (!r) return false;
    watchRun(r.runId);
    void loadRuns();
    return true;
  }

  async function control(action: 'training.pause' | 'training.resume' | 'training.cancel'): Promise<void> {
    const id = runId.value;
    if (id === null) return;
    const r = await notify.attempt(`Could not ${action.slice(9)} the run`, () => api[action]({ runId: id }));
    if (!r) return;
    runState.value = r.state;
    if (r.modelId) modelId.value = r.modelId;
  }

  const valPsnr = computed<[number, number][]>(() => points.value.filter((p) => p.valPsnr !== null).map((p) => [p.step, p.valPsnr as number]));
  const evalPsnr = computed<[number, number][]>(() => points.value.filter((p) => p.evalPsnr != null).map((p) => [p.step, p.evalPsnr as number]));
  const valSsim = computed<[number, number][]>(() => points.value.filter((p) => p.valSsim !== null).map((p) => [p.step, p.valSsim as number]));
  // A VAE's two loss terms.
  const recon = computed<[number, number][]>(() => points.value.filter((p) => p.recon != null).map((p) => [p.step, p.recon as number]));
  const kl = computed<[number, number][]>(() => points.value.filter((p) => p.kl != null).map((p) => [p.step, p.kl as number]));

  return {
    form,
    stats,
    previews,
    previewSkipped,
    estimate,
    teacherEstimate,
    teacherLive,
    sample,
    runId,
    runState,
    live,
    stage,
    lossPoints,
    lrPoints,
    points,
    modelId,
    runError,
    valPsnr,
    valSsim,
    evalPsnr,
    recon,
    kl,
    runs,
    loadRuns,
    watchRun,
    reloadHistory,
    onEvent,
    start,
    control,
  };
});
