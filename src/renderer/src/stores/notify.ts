/** User-visible messages: API errors and notices, shown in one accessible alert region. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorInfo } from '../util';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
  code?: string;
}

export const useNotify = defineStore('notify', () => {
  const notices = ref<Notice[]>([]);
  let next = 1;

  function push(n: Omit<Notice, 'id'>): number {
    // Identical repeats (e.g. a poll failing) collapse into one line.
    const same = notices.value.find((x) => x.text === n.text && x.kind === n.kind);
    if (same) return same.id;
    const id = next++;
    notices.value.push({ ...n, id });
    if (notices.value.length > 6) notices.value.shift();
    return id;
  }

  function error(err: unknown, context?: string): void {
    const { code, message } = errorInfo(err);
    push({ kind: 'error', code, text: context ? `${context}: ${message}` : message });
  }

  function info(text: string): void {
    const id = push({ kind: 'info', text });
    setTimeout(() => dismiss(id), 6000);
  }

  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id);
  }

  /** Runs an API call; a failure becomes a visible message (never an unhandled rejection). */
  async function attempt<T>(context: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      error(err, context);
      return undefined;
    }
  }

  return { notices, error, info, dismiss, attempt };
});
