/**
 * Turns the files and folders a user names into image files, in the order given:
 * folders are listed (recursively on request) by image extension, symlink loops are
 * broken by real path, and inputs that do not exist are returned as missing in place.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from './io.js';

export interface InputEntry {
  /** The path as given or as joined under a given folder (not resolved). */
  input: string;
  /** Folder relative to the input root, for mirroring under an output folder. */
  relDir: string;
  missing?: true;
}

/** `onIgnored` hears of files inside the folders that are not images by extension (sidecars, notes...). */
export function enumerateInputs(inputs: readonly string[], recursive: boolean, onIgnored?: (file: string) => void): InputEntry[] {
  const entries: InputEntry[] = [];
  const seenDirs = new Set<string>();
  const walk = (dir: string, rel: string) => {
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
    for (const name of names) {
      const p = path.join(dir, name);
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch {
        continue; // dangling symlink
      }
      if (st.isDirectory()) {
        if (recursive) walk(p, path.join(rel, name));
      } else if (st.isFile()) {
        if (IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase())) entries.push({ input: p, relDir: rel });
        else onIgnored?.(p);
      }
    }
  };
  for (const input of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      entries.push({ input, relDir: '', missing: true });
      continue;
    }
    if (st.isDirectory()) walk(input, '');
    else entries.push({ input, relDir: '' });
  }
  return entries;
}

/** SHA-256 of a file's bytes, streamed in 1 MB chunks. */
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
