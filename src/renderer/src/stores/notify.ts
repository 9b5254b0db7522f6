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

  function push(n: Omit<Notice, 'id'>): void {
    // Identical repeats (e.g. a poll failing) collapse into one line.
    if (notices.value.some((x) => x.text === n.text && x.kind === n.kind)) return;
    notices.value.push({ ...n, id: next++ });
    if (notices.value.length > 6) notices.value.shift();
  }

  function error(err: unknown, context?: string): void {
    const { code, message } = errorInfo(err);
    push({ kind: 'error', code, text: context ? `${context}: ${message}` : message });
  }

  function info(text: string): void {
    const n = { kind: 'info' as const, text };
    push(n);
    const id = next - 1;
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
