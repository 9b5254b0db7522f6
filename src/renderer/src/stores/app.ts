/** App-wide state: backend info, settings and the resolved theme. */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { BackendInfo, Settings } from '../../../shared/api';
import { api } from '../api';
import { useNotify } from './notify';

export interface AppInfo {
  version: string;
  backend: BackendInfo;
  home: string;
  transport?: string;
}

export const useAppStore = defineStore('app', () => {
  const notify = useNotify();
  const info = ref<AppInfo | null>(null);
  const settings = ref<Settings | null>(null);
  const systemDark = ref(typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches);
  if (typeof matchMedia === 'function') {
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', (e) => (systemDark.value = e.matches));
  }

  const theme = computed<'light' | 'dark'>(() => {
    const t = settings.value?.theme ?? 'system';
    return t === 'system' ? (systemDark.value ? 'dark' : 'light') : t;
  });

  async function load(): Promise<void> {
    const [i, s] = await Promise.all([notify.attempt('Reading app info', () => api['app.info']({})), notify.attempt('Reading settings', () => api['settings.get']({}))]);
    if (i) info.value = i;
    if (s) settings.value = s;
  }

  async function saveSettings(patch: Partial<Settings>): Promise<boolean> {
    const s = await notify.attempt('Saving settings', () => api['settings.set'](patch));
    if (s) settings.value = s;
    return Boolean(s);
  }

  return { info, settings, theme, load, saveSettings };
});
