/**
 * Opening files a user (or a downloaded model folder) names, defensively: only regular
 * files are read (a named pipe would block, /dev/zero never ends, a folder is EISDIR),
 * their size is checked before a byte is read, and paths inside a model folder stay
 * inside it (no "..", no absolute path, no symbolic link out).
 */
import fs from 'node:fs';
import path from 'node:path';
import { RestoraError } from '../../../shared/errors.js';

/** Larger files are refused before reading: the biggest single-image SR models are a few hundred MB. */
export const MAX_MODEL_FILE_BYTES = 1024 ** 3;

/** What a non-regular file is, in words. */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a plain file';
}

export function notRegular(file: string, st: fs.Stats): RestoraError {
  return new RestoraError('MODEL_INVALID', `${file}: not a regular file (${kindOf(st)}); Restora reads model files only`, file);
}

/** Stats `file` (following links: the user named it) and refuses anything but a regular file. */
export function statRegular(file: string): fs.Stats {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new RestoraError('NOT_FOUND', `${file}: cannot read it (${(err as Error).message})`, file);
  }
  if (!st.isFile()) throw notRegular(file, st);
  return st;
}

/** "2.0 GB", "3.5 MB"; a limit reads "1 GB". */
export const sizeText = (n: number, limit = false): string => {
  const [v, unit] = n >= 1024 ** 3 ? [n / 1024 ** 3, 'GB'] : [n / 1024 ** 2, 'MB'];
  return `${limit && Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
};

/**
 * Reads a regular file of at most `limit` bytes. It is opened non-blocking (a pipe
 * swapped in after a stat cannot stall the reader) and checked again on the open
 * descriptor; at most the size seen then is read, so a growing file cannot grow memory.
 */
export function readRegularFile(file: string, limit: number, what = 'a model file'): Uint8Array {
  statRegular(file);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new RestoraError('NOT_FOUND', `${file}: cannot read it (${(err as Error).message})`, file);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw notRegular(file, st);
    if (st.size > limit) throw new RestoraError('MODEL_INVALID', `${file}: ${sizeText(st.size)} is over the ${sizeText(limit, true)} limit for ${what}`, file);
    const out = new Uint8Array(st.size);
    let got = 0;
    while (got < out.byteLength) {
      const n = fs.readSync(fd, out, got, out.byteLength - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got !== out.byteLength) throw new RestoraError('MODEL_INVALID', `${file}: it shrank while being read`, file);
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * `rel`, a path a model folder's own files give (model.json's weight paths), resolved
 * inside `root`: relative, without "..", and (after links) still inside the folder.
 * Returns the absolute path of a regular file.
 */
export function confinedFile(root: string, rel: unknown, what: string): string {
  const where = path.join(root, 'model.json');
  const bad = (why: string): never => {
    throw new RestoraError('MODEL_INVALID', `${where}: ${what} ${JSON.stringify(rel)} ${why}`, where);
  };
  if (typeof rel !== 'string' || rel === '' || rel.includes('\0')) return bad('is not a file name');
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel)) bad('is absolute; weight paths are relative to the model folder');
  if (rel.split(/[\\/]/).includes('..')) bad('leaves the model folder ("..")');
  const abs = path.resolve(root, rel);
  return insideFolder(root, abs, 'the model folder');
}

/** `abs` (in `root`) after links, refused if a link takes it out of `root` or it is not a regular file. */
export function insideFolder(root: string, abs: string, folderName = 'the folder'): string {
  let real: string;
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
    real = fs.realpathSync(abs);
  } catch (err) {
    throw new RestoraError('NOT_FOUND', `${abs}: cannot read it (${(err as Error).message})`, abs);
  }
  const rel = path.relative(realRoot, real);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new RestoraError('MODEL_INVALID', `${abs}: a symbolic link out of ${folderName} (to ${real}); Restora reads only files inside it`, abs);
  }
  statRegular(abs);
  return abs;
}
