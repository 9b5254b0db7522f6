/** The model library and the architectures the trainer knows. */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ArchInfo, ModelSummary } from '../../../shared/api';
import { api } from '../api';
import { useNotify } from './notify';

export const useModelsStore = defineStore('models', () => {
  const notify = useNotify();
  const models = ref<ModelSummary[]>([]);
  const archs = ref<ArchInfo[]>([]);
  const loaded = ref(false);

  async function load(): Promise<void> {
    const m = await notify.attempt('Listing models', () => api['models.list']({}));
    if (m) models.value = m;
    loaded.value = true;
  }

  async function loadArchs(): Promise<void> {
    if (archs.value.length) return;
    const a = await notify.attempt('Listing architectures', () => api['models.archs']({}));
    if (a) archs.value = a;
  }

  const byId = computed(() => new Map(models.value.map((m) => [m.card.id, m])));

  return { models, archs, loaded, byId, load, loadArchs };
});
