/**
 * Turns the files and folders a user names into image files, in the order given:
 * folders are listed (recursively on request) by image extension, symlink loops are
 * broken by real path, and inputs that do not exist are returned as missing in place.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RestoraError } from '../../shared/errors.js';
import { IMAGE_EXTENSIONS } from './io.js';

export interface InputEntry {
  /** The path as given or as joined under a given folder (not resolved). */
  input: string;
  /** Folder relative to the input root, for mirroring under an output folder. */
  relDir: string;
  missing?: true;
}

export interface EnumerateOptions {
  /** Hears of files inside the folders that are not images by extension (sidecars, notes...). */
  onIgnored?: (file: string) => void;
  /** Files looked at (images or not) before giving up with a USAGE error: `/usr` is not a photo folder. */
  maxFiles?: number;
}

/** Enough for any photo collection; far fewer than a system folder holds. */
export const DEFAULT_MAX_FILES = 500_000;

/** The walk, as steps: it pauses after each folder (and every 128 entries) so a caller on the main thread can yield there. */
function* walkInputs(inputs: readonly string[], recursive: boolean, o: EnumerateOptions): Generator<void, InputEntry[]> {
  const entries: InputEntry[] = [];
  const seenDirs = new Set<string>();
  const maxFiles = o.maxFiles ?? DEFAULT_MAX_FILES;
  let looked = 0;
  const count = (root: string) => {
    if (++looked > maxFiles) throw new RestoraError('USAGE', `${root}: more than ${maxFiles} files under this folder; pick the folder that holds the photos`, root);
  };
  function* walk(dir: string, rel: string, root: string): Generator<void> {
    let real: string;
    let names: string[];
    try {
      real = fs.realpathSync(dir);
      names = fs.readdirSync(dir).sort();
    } catch {
      return;
    }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    const subdirs: string[] = [];
    for (const [k, name] of names.entries()) {
      // A pause point every 128 entries too: one folder can hold thousands of files.
      if (k % 128 === 127) yield;
      const p = path.join(dir, name);
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch {
        continue; // dangling symlink
      }
      if (st.isDirectory()) {
        if (recursive) subdirs.push(name);
      } else if (st.isFile()) {
        count(root);
        if (IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase())) entries.push({ input: p, relDir: rel });
        else o.onIgnored?.(p);
      }
    }
    yield;
    for (const name of subdirs) yield* walk(path.join(dir, name), path.join(rel, name), root);
  }
  for (const input of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      entries.push({ input, relDir: '', missing: true });
      continue;
    }
    if (st.isDirectory()) yield* walk(input, '', input);
    else entries.push({ input, relDir: '' });
  }
  return entries;
}

/** The whole walk at once (CLI jobs and workers, where nothing else waits on the thread). */
export function enumerateInputs(inputs: readonly string[], recursive: boolean, o: EnumerateOptions = {}): InputEntry[] {
  const steps = walkInputs(inputs, recursive, o);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** The same walk, giving the event loop a turn every few milliseconds (the server's and the app's main thread). */
export async function enumerateInputsYielding(inputs: readonly string[], recursive: boolean, o: EnumerateOptions = {}): Promise<InputEntry[]> {
  const steps = walkInputs(inputs, recursive, o);
  let since = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - since > 8) {
      await new Promise((resolve) => setImmediate(resolve));
      since = performance.now();
    }
  }
}

/**
 * SHA-256 of a file's bytes, read in 1 MB chunks without blocking the event loop (the
 * server's thread also renews batch claims and answers the studio: a synchronous hash of a
 * 2 GB upload held it for seconds).
 */
export async function hashFileAsync(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** SHA-256 of a file's bytes, streamed in 1 MB chunks (synchronously: for worker threads and the CLI). */
export function hashFile(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
