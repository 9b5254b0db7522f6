/**
 * The compute page opened by the thread that started a worker: the desktop app's
 * main process owns windows, so a worker that wants a WebGPU page asks for one by
 * message and hears when it is gone. Used by the compute and the training workers.
 */
import type { LaunchedPage, PageLauncher } from './chromium.js';

/** Worker -> parent. */
export type PageRequest = { type: 'openPage'; id: number; url: string } | { type: 'closePage'; id: number };
/** Parent -> worker: the page's process or window ended (or could not open). */
export interface PageExited {
  type: 'pageExited';
  id: number;
  reason: string;
}

/** Worker side: a launcher that asks the parent, and the handler of its answers. */
export function parentLauncher(send: (m: PageRequest) => void): { launcher: PageLauncher; onExited(m: PageExited): void } {
  let nextId = 1;
  const exits = new Map<number, (why: string) => void>();
  return {
    launcher: (url) => {
      const id = nextId++;
      send({ type: 'openPage', id, url });
      const exited = new Promise<string>((resolve) => exits.set(id, resolve));
      return Promise.resolve({ exited, close: async () => send({ type: 'closePage', id }) });
    },
    onExited: (m) => {
      exits.get(m.id)?.(m.reason);
      exits.delete(m.id);
    },
  };
}

/** Parent side: opens and closes the pages a worker asks for with `launcher`. */
export class PageHost {
  private readonly pages = new Map<number, LaunchedPage>();
  /** Closes asked for by the worker and still running: closeAll waits for them too. */
  private readonly closing = new Set<Promise<void>>();

  constructor(
    private readonly launcher: PageLauncher,
    private readonly reply: (m: PageExited) => void,
  ) {}

  async handle(m: PageRequest): Promise<void> {
    if (m.type === 'closePage') {
      // Out of the map first: closeAll running meanwhile must not close it twice.
      const page = this.pages.get(m.id);
      this.pages.delete(m.id);
      if (!page) return;
      const done = page.close();
      this.closing.add(done);
      try {
        await done;
      } finally {
        this.closing.delete(done);
      }
      return;
    }
    try {
      const page = await this.launcher(m.url);
      this.pages.set(m.id, page);
      void page.exited.then((reason) => this.reply({ type: 'pageExited', id: m.id, reason }));
    } catch (err) {
      this.reply({ type: 'pageExited', id: m.id, reason: (err as Error).message });
    }
  }

  async closeAll(): Promise<void> {
    const open = [...this.pages.values()];
    this.pages.clear();
    // A page the worker asked to close while shutting down may still be exiting: closed means gone.
    await Promise.all([...open.map((p) => p.close()), ...[...this.closing].map((c) => c.catch(() => undefined))]);
  }
}
