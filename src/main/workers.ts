/**
 * Starts a worker thread from a sibling module. Under tsx/vitest the sources are
 * .ts and the worker needs tsx's ESM hooks first; the built package ships .js.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export function startWorker(entry: URL, workerData: unknown): Worker {
  if (entry.pathname.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
    return new Worker(boot, { eval: true, workerData });
  }
  return new Worker(entry, { workerData });
}

/**
 * The URL of `name`.ts or `name`.js next to `from`, matching how `from` itself is
 * running. In the electron-vite build, shared code sits in out/main/chunks/ while
 * the worker entries are in out/main/, so one folder up is tried too.
 */
export function siblingEntry(from: string, name: string): URL {
  const ext = from.endsWith('.ts') ? '.ts' : '.js';
  const here = new URL(`./${name}${ext}`, from);
  if (ext === '.ts' || !from.startsWith('file:') || fs.existsSync(fileURLToPath(here))) return here;
  const up = new URL(`../${name}${ext}`, from);
  return fs.existsSync(fileURLToPath(up)) ? up : here;
}
