/** The Compare view's image, model and upscale task (kept while the user looks elsewhere). */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { DEFAULT_FACE_STRENGTH, tileChangeSaid, type ImageDetail, type UpscaleImageResult } from '../../../shared/api';
import { api } from '../api';
import { errorInfo, newTaskId } from '../util';
import { useNotify } from './notify';

export const useCompareStore = defineStore('compare', () => {
  const notify = useNotify();
  const image = ref<ImageDetail | null>(null);
  const modelId = ref<string>('');
  /** Keep the photo's own colours (restoration models; their default). */
  const keepColours = ref(true);
  /** Levels and white balance after the model, for faded prints (off unless asked for). */
  const levels = ref(false);
  const taskId = ref<string | null>(null);
  const progress = ref<{ done: number; total: number } | null>(null);
  /** When the running upscale started (for its ETA). */
  const startedAt = ref(0);
  const result = ref<UpscaleImageResult | null>(null);
  /** The repair step before the model: none, the detector's mask, or the photo's saved mask. Reset for each photo and set by each task. */
  const repair = ref<'off' | 'auto' | 'mask'>('off');
  /** The face step: an imported face model's id, or '' for none; Restore old photo turns it on when one is installed. */
  const faceModel = ref('');
  /** 0..1: how much of the restored face replaces the photo's; a shown result's slider moves it live. */
  const faceStrength = ref(DEFAULT_FACE_STRENGTH);

  async function open(id: number): Promise<void> {
    if (image.value?.id === id) return;
    const d = await notify.attempt(`Opening image ${id}`, () => api['library.get']({ id }));
    if (!d) return;
    image.value = d;
    result.value = null;
    progress.value = null;
    // The repair choice belongs to one photo: a new photo starts without one.
    repair.value = 'off';
  }

  /** `then`: a second model on the result at the photo's size (the "Restore + x4" task). */
  async function upscale(then?: string): Promise<void> {
    const img = image.value;
    if (!img || taskId.value) return;
    const id = newTaskId();
    taskId.value = id;
    progress.value = { done: 0, total: 0 };
    startedAt.value = performance.now();
    try {
      const r = await api['upscale.image']({
        imageId: img.id,
        modelId: modelId.value || undefined,
        taskId: id,
        keepColours: keepColours.value,
        levels: levels.value,
        repair: repair.value,
        ...(then ? { then } : {}),
        ...(faceModel.value ? { faces: { modelId: faceModel.value, strength: faceStrength.value } } : {}),
      });
      if (image.value?.id === img.id) result.value = r;
      // A transformer's windows or the model's memory changed Settings' tile: say so once, here.
      if (r.tile) notify.info(`Upscaled ${tileChangeSaid(r.tile)}.`);
      // The image's history (and status) changed: re-read it.
      const d = await api['library.get']({ id: img.id });
      if (image.value?.id === img.id) image.value = d;
    } catch (err) {
      if (errorInfo(err).code === 'CANCELLED') notify.info('Upscale cancelled.');
      else notify.error(err, `Upscaling ${img.path}`);
    } finally {
      if (taskId.value === id) {
        taskId.value = null;
        progress.value = null;
      }
    }
  }

  async function cancel(): Promise<void> {
    const id = taskId.value;
    if (!id) return;
    await notify.attempt('Cancelling', () => api['upscale.cancel']({ taskId: id }));
  }

  function onProgress(e: { taskId: string; done: number; total: number }): void {
    if (e.taskId === taskId.value) progress.value = { done: e.done, total: e.total };
  }

  /** Seconds left, from the tiles done so far; null until the first tile. */
  function etaSec(now = performance.now()): number | null {
    const p = progress.value;
    if (!p || !p.total || !p.done) return null;
    return ((now - startedAt.value) / 1000) * ((p.total - p.done) / p.done);
  }

  return { image, modelId, keepColours, levels, repair, faceModel, faceStrength, taskId, progress, result, open, upscale, cancel, onProgress, etaSec };
});
